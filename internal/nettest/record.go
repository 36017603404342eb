package nettest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"time"
)

// Record is one call record as printed by `switchtap calls --json`.
// Numbers stay json.Number so that comparisons are exact.
type Record map[string]any

// ParseJSONLines decodes one JSON object per line.
func ParseJSONLines(b []byte) ([]Record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()

	var recs []Record
	for {
		var r Record
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

// Show renders a field value for a failure message.
func Show(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}

	return string(b)
}

// Str returns field k as a string, "" when absent or not a string.
func (r Record) Str(k string) string {
	s, _ := r[k].(string)

	return s
}

// Time returns field k parsed as RFC 3339; ok is false when it is absent,
// null or malformed.
func (r Record) Time(k string) (time.Time, bool) {
	s, isStr := r[k].(string)
	if !isStr {
		return time.Time{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, s)

	return ts, err == nil
}

// Float returns field k as a number; ok is false when it is not one.
func (r Record) Float(k string) (float64, bool) {
	n, isNum := r[k].(json.Number)
	if !isNum {
		return 0, false
	}
	f, err := n.Float64()

	return f, err == nil
}

// Obj returns field k as a JSON object, nil when absent or null.
func (r Record) Obj(k string) Record {
	m, _ := r[k].(map[string]any)

	return m
}

// DiffFields lists the fields (union of both key sets, sorted) whose values
// differ, skipping the named ones.
func DiffFields(a, b Record, skip ...string) []string {
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
			diffs = append(diffs, fmt.Sprintf("%s: %s vs %s", k, Show(va, oka), Show(vb, okb)))
		}
	}
	sort.Strings(diffs)

	return diffs
}
