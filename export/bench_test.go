package export

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/switchtap/switchtap/report"
)

// benchDoc is a busy month: 2,000 inbound calls' figures and a sample of
// 100 evaluated calls (7 points each), every one with an observation.
func benchDoc(tb testing.TB) *report.Document {
	d := fixture(tb)
	f := d.Figures
	f.CallsTotal, f.Inbound.Offered, f.Inbound.Answered = 2400, 2000, 1800
	for k, s := range f.ByDay {
		if s.Offered > 0 {
			*s = report.Slot{Offered: 95, Answered: 86, WithinLimit: 70, Abandoned: 9}
		}
		f.ByDay[k] = s
	}
	tmpl := d.Evaluations[0]
	obs := d.Tabulation.Observations[0]
	d.Evaluations, d.Tabulation.Observations, d.Sample.Items = nil, nil, nil
	for i := range 100 {
		e := tmpl
		e.ID = fmt.Sprintf("r-%05d", i)
		e.Operator = []string{opAna, opJose}[i%2]
		e.Answers = append([]report.Answer(nil), tmpl.Answers...)
		d.Evaluations = append(d.Evaluations, e)
		d.Sample.Items = append(d.Sample.Items, report.Item{Rank: i/2 + 1, Operator: e.Operator, ID: e.ID})
		o := obs
		o.ID, o.Operator = e.ID, e.Operator
		d.Tabulation.Observations = append(d.Tabulation.Observations, o)
	}
	return d
}

// countWriter counts what is written.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func benchExport(b *testing.B, write func(io.Writer, *report.Document) error) {
	d := benchDoc(b)
	var size countWriter
	if err := write(&size, d); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := write(io.Discard, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size.n), "B/file")
}

func BenchmarkXLSX(b *testing.B) { benchExport(b, XLSX) }

func BenchmarkPDF(b *testing.B) { benchExport(b, PDF) }

// BenchmarkCSV writes every table, as a download of all of them would.
func BenchmarkCSV(b *testing.B) {
	benchExport(b, func(w io.Writer, d *report.Document) error {
		for _, t := range Tables() {
			if err := CSV(w, d, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestBenchDoc keeps the benchmark's document honest: 100 evaluations of
// seven points.
func TestBenchDoc(t *testing.T) {
	var buf bytes.Buffer
	if err := CSV(&buf, benchDoc(t), TableEvaluaciones); err != nil {
		t.Fatal(err)
	}
	recs, err := csvRecords(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+100*7 {
		t.Errorf("%d records, want a header and 700 rows", len(recs))
	}
}
