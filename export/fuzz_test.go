package export

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/switchtap/switchtap/report"
)

// fuzzSeeds are documents as JSON: the fixture, an empty month, and a few
// shapes a stored document might take.
func fuzzSeeds(f *testing.F) {
	b, err := json.Marshal(fixture(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"month":"2026-11","time_zone":"America/El_Salvador"}`))
	f.Add([]byte(`{"month":"2026-02","figures":{"by_day":{"":{"offered":1},"x":{}},"by_hour":{"99":{}},"by_operator":{"Peña":null}}}`))
	f.Add([]byte(`{"month":"2026-11","tabulation":{"points":[{"point":"","wilson95":{"low":-5,"high":1e300}}],"by_operator":{"":null}}}`))
	f.Add([]byte(`{"month":"2026-11","evaluations":[{"answers":[{"point":"saludo","verdict":"x","observation":"=1+1 😀 \u0000"}]}],"health":{"by_day":[{"day":"2026-11-01","gaps":[{}]}],"days_not_running":["","2026-11-01"]}}`))
	f.Add([]byte(`{"month":"2026-11","outgoing":{"failures":{"":-1}},"sample":{"items":[{"replaced":true,"replacement":true}],"replacements":[{}],"seed":"18446744073709551615"}}`))
}

func decodeDoc(t *testing.T, b []byte) *report.Document {
	var d report.Document
	if err := json.Unmarshal(b, &d); err != nil {
		t.Skip()
	}
	return &d
}

// FuzzCSV: no document makes a table panic, and what is written parses
// back as CSV with the header's width.
func FuzzCSV(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d := decodeDoc(t, b)
		for _, table := range Tables() {
			var buf bytes.Buffer
			if err := CSV(&buf, d, table); err != nil {
				continue
			}
			if _, err := csvRecords(buf.Bytes()); err != nil {
				t.Fatalf("%s: written CSV does not parse: %v", table, err)
			}
		}
	})
}

// FuzzPDF: no document makes the PDF (or the workbook, built from the
// same tables) panic; an error is fine.
func FuzzPDF(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d := decodeDoc(t, b)
		var buf bytes.Buffer
		if err := PDF(&buf, d); err == nil && !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
			t.Fatal("no error and no PDF")
		}
		buf.Reset()
		_ = XLSX(&buf, d)
	})
}
