package nettest

import (
	"reflect"
	"testing"
)

// TestDiffFields checks the comparison the end-to-end tests rely on, so that a
// broken comparer cannot hide a difference (runs without root).
func TestDiffFields(t *testing.T) {
	const base = `{"id":"a","call_id":"x","invite_at":"2026-01-02T03:04:05.123456789Z","ring_seconds":3.000001,"rings":1,"within_limit":true,"transfer":null}`
	tests := []struct {
		name, other string
		want        []string
	}{
		{"equal but id", `{"id":"b","call_id":"x","invite_at":"2026-01-02T03:04:05.123456789Z","ring_seconds":3.000001,"rings":1,"within_limit":true,"transfer":null}`, nil},
		{"nanosecond", `{"id":"a","call_id":"x","invite_at":"2026-01-02T03:04:05.12345678Z","ring_seconds":3.000001,"rings":1,"within_limit":true,"transfer":null}`,
			[]string{`invite_at: "2026-01-02T03:04:05.123456789Z" vs "2026-01-02T03:04:05.12345678Z"`}},
		{"number text", `{"id":"a","call_id":"x","invite_at":"2026-01-02T03:04:05.123456789Z","ring_seconds":3.0000010,"rings":1,"within_limit":true,"transfer":null}`,
			[]string{`ring_seconds: 3.000001 vs 3.0000010`}},
		{"absent and null", `{"id":"a","call_id":"x","invite_at":"2026-01-02T03:04:05.123456789Z","ring_seconds":3.000001,"rings":1,"within_limit":false,"transfer":{},"extra":null}`,
			[]string{`extra: (absent) vs null`, `transfer: null vs {}`, `within_limit: true vs false`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := ParseJSONLines([]byte(base + "\n" + tt.other + "\n"))
			if err != nil || len(recs) != 2 {
				t.Fatalf("ParseJSONLines: %d records, %v", len(recs), err)
			}
			got := DiffFields(recs[0], recs[1], "id")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DiffFields:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
