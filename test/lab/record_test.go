package lab_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// record is one call record as printed by `switchtap calls --json`.
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

// obj returns field k as a JSON object, nil when absent or null.
func (r record) obj(k string) record {
	m, _ := r[k].(map[string]any)

	return m
}
