package lab_test

import "github.com/switchtap/switchtap/internal/nettest"

// record is one call record printed by switchtap (see nettest.Record).
type record = nettest.Record

// parseJSONLines decodes one JSON object per line.
func parseJSONLines(b []byte) ([]record, error) { return nettest.ParseJSONLines(b) }

// show renders a field value for a failure message.
func show(v any, ok bool) string { return nettest.Show(v, ok) }
