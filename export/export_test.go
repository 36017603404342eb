package export

import (
	"slices"
	"testing"

	"github.com/switchtap/switchtap/report"
)

func TestFileName(t *testing.T) {
	d := &report.Document{Month: "2026-11"}
	cases := []struct {
		d             *report.Document
		format, table string
		want          string
	}{
		{d, FormatXLSX, "", "informe_2026-11.xlsx"},
		{d, FormatPDF, TableTabulacion, "informe_2026-11.pdf"},
		{d, FormatCSV, TableTabulacion, "informe_2026-11_tabulacion.csv"},
		{d, FormatCSV, "", "informe_2026-11.csv"},
		// Nothing of a malformed document reaches a header or a path.
		{&report.Document{Month: `2026-11"; x=../../etc`}, FormatCSV, `a/b"c`, "informe_2026-11xetc_abc.csv"},
		{nil, FormatPDF, "", "informe.pdf"},
	}
	for _, c := range cases {
		if got := FileName(c.d, c.format, c.table); got != c.want {
			t.Errorf("FileName(%v, %q, %q) = %q, want %q", c.d, c.format, c.table, got, c.want)
		}
	}
}

func TestContentType(t *testing.T) {
	cases := map[string]string{
		FormatXLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		FormatPDF:  "application/pdf",
		FormatCSV:  "text/csv; charset=utf-8",
		"docx":     "application/octet-stream",
	}
	for f, want := range cases {
		if got := ContentType(f); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", f, got, want)
		}
	}
}

func TestTables(t *testing.T) {
	want := []string{"resumen", "recepcionistas", "muestra", "evaluaciones", "tabulacion", "acciones", "salientes", "estado", "voz"}
	if got := Tables(); !slices.Equal(got, want) {
		t.Errorf("Tables() = %q, want %q", got, want)
	}
	// Each table builds, with its own id and a sheet name a workbook
	// accepts (≤ 31 characters).
	d := fixture(t)
	loc, err := location(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range Tables() {
		tb, err := buildTable(d, loc, id)
		if err != nil {
			t.Fatal(err)
		}
		if tb.id != id || tb.sheet == "" || len([]rune(tb.sheet)) > 31 {
			t.Errorf("table %q: id %q sheet %q", id, tb.id, tb.sheet)
		}
		for r, row := range tb.rows {
			if len(row) != len(tb.cols) {
				t.Errorf("%s row %d: %d cells for %d columns", id, r, len(row), len(tb.cols))
			}
		}
	}
}

func TestFormat(t *testing.T) {
	cases := []struct{ got, want string }{
		{formatInt(1234), "1234"},
		{formatInt(12345), "12\u00a0345"},
		{formatInt(-1234567), "-1\u00a0234\u00a0567"},
		{formatDecimal(75.855, 2), "75,86"},
		{formatDecimal(12345.5, 1), "12\u00a0345,5"},
		{formatDecimal(-0.5, 0), "-0"},
		{pPct(nil), "—"},
		{pSecs(fp(9.873)), "9,9\u00a0s"},
		{pDuration(12345.678), "3\u00a0h 26\u00a0min"},
		{pDuration(300), "5\u00a0min"},
		{pDuration(12), "12\u00a0s"},
		{pInterval(&report.Interval{Low: 9.454, High: 90.546}), "9,45 – 90,55\u00a0%"},
		{monthLabel("2026-11"), "Noviembre 2026"},
		{monthLabel("2026-13"), "2026-13"},
		{guardFormula("=1+1"), "'=1+1"},
		{guardFormula("-no saludó"), "'-no saludó"},
		{guardFormula("Peña"), "Peña"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
}
