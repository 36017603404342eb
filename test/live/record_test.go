package live_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"testing"
	"time"
)

// record is one call record as printed by `switchtap calls|replay --json`.
// Numbers stay json.Number so that comparisons are exact.
type record map[string]any

// parseJSONLines decodes one JSON object per line.
func parseJSONLines(b []byte) ([]record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()

	var recs []record
	for {
		var r record
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return recs, fmt.Errorf("record %d: %w", len(recs)+1, err)
		}
		recs = append(recs, r)
	}
}

// diffFields lists the fields (union of both key sets, sorted) whose values
// differ, skipping the named ones.
func diffFields(a, b record, skip ...string) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for _, k := range skip {
		delete(keys, k)
	}

	var diffs []string
	for k := range keys {
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb || !reflect.DeepEqual(va, vb) {
			diffs = append(diffs, fmt.Sprintf("%s: live %s, replay %s", k, show(va, oka), show(vb, okb)))
		}
	}
	sort.Strings(diffs)

	return diffs
}

// show renders a field value for a failure message.
func show(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}

	return string(b)
}

// str returns field k as a string, "" when absent or not a string.
func (r record) str(k string) string {
	s, _ := r[k].(string)

	return s
}

// time returns field k parsed as RFC 3339; ok is false when it is absent,
// null or malformed.
func (r record) time(k string) (time.Time, bool) {
	s, isStr := r[k].(string)
	if !isStr {
		return time.Time{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, s)

	return ts, err == nil
}

// float returns field k as a number; ok is false when it is not one.
func (r record) float(k string) (float64, bool) {
	n, isNum := r[k].(json.Number)
	if !isNum {
		return 0, false
	}
	f, err := n.Float64()

	return f, err == nil
}

// TestDiffFields checks the comparison the live test relies on, so that a
// broken comparer cannot hide a difference (runs without root).
func TestDiffFields(t *testing.T) {
	const base = `{"id":"a","call_id":"x","invite_at":"2026-01-02T03:04:05.123456789Z","ring_seconds":3.000001,"rings":1,"within_limit":true,"transfer":null}`
	tests := []struct {
		name, other string
		want        []string
	}{
		{"equal but id", `{"id":"b","call_id":"x","invite_at":"2026-01-02T03:04:05.123456789Z","ring_seconds":3.000001,"rings":1,"within_limit":true,"transfer":null}`, nil},
		{"nanosecond", `{"id":"a","call_id":"x","invite_at":"2026-01-02T03:04:05.12345678Z","ring_seconds":3.000001,"rings":1,"within_limit":true,"transfer":null}`,
			[]string{`invite_at: live "2026-01-02T03:04:05.123456789Z", replay "2026-01-02T03:04:05.12345678Z"`}},
		{"number text", `{"id":"a","call_id":"x","invite_at":"2026-01-02T03:04:05.123456789Z","ring_seconds":3.0000010,"rings":1,"within_limit":true,"transfer":null}`,
			[]string{`ring_seconds: live 3.000001, replay 3.0000010`}},
		{"absent and null", `{"id":"a","call_id":"x","invite_at":"2026-01-02T03:04:05.123456789Z","ring_seconds":3.000001,"rings":1,"within_limit":false,"transfer":{},"extra":null}`,
			[]string{`extra: live (absent), replay null`, `transfer: live null, replay {}`, `within_limit: live true, replay false`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := parseJSONLines([]byte(base + "\n" + tt.other + "\n"))
			if err != nil || len(recs) != 2 {
				t.Fatalf("parseJSONLines: %d records, %v", len(recs), err)
			}
			got := diffFields(recs[0], recs[1], "id")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diffFields:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
