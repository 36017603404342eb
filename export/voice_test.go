package export

import (
	"regexp"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/report"
)

// TestVoiceCSV: the voice table has a row for all receptionists, then one
// per receptionist in name order, with the document's values; the
// outgoing table's new rows follow its old ones.
func TestVoiceCSV(t *testing.T) {
	recs := readCSV(t, TableVoz)
	if n := len(recs) - 1; n != 4 {
		t.Fatalf("voz: %d rows, want all and three receptionists", n)
	}
	if got := recs[1][0] + "|" + recs[1][1]; got != "todas|" {
		t.Errorf("first row %q, want all receptionists with an empty name", got)
	}
	for i, name := range []string{opAna, opJose, opRosa} {
		if got := recs[2+i][0] + "|" + recs[2+i][1]; got != "recepcionista|"+name {
			t.Errorf("row %d %q, want %s", 2+i, got, name)
		}
	}
	cases := []struct{ key, col, want string }{
		{"todas", "llamadas", "96"},
		{"todas", "saludo_p50_s", "2.05"},
		{"todas", "limite_saludo_s", "3"},
		{"todas", "mos_recepcionista_p10", "3.6"},
	}
	for _, c := range cases {
		if got := field(t, recs, "ambito", c.key, c.col); got != c.want {
			t.Errorf("todas %s = %q, want %q", c.col, got, c.want)
		}
	}
	byName := []struct{ name, col, want string }{
		{opAna, "saludo_p90_s", "3.42"},
		{opAna, "saludo_sobre_limite_pct", "12.28"},
		{opAna, "habla_simultanea_p90_pct", "6.66"},
		{opJose, "sin_saludo", "0"},
		{opJose, "silencio_p50_pct", "18.5"},
		{opJose, "mos_llamante_p10", "4.02"},
		// Rosa: no calls, so counts are 0 and percentiles empty.
		{opRosa, "llamadas", "0"},
		{opRosa, "saludo_p50_s", ""},
		{opRosa, "mos_llamante_p10", ""},
	}
	for _, c := range byName {
		if got := field(t, recs, "recepcionista", c.name, c.col); got != c.want {
			t.Errorf("%s %s = %q, want %q", c.name, c.col, got, c.want)
		}
	}

	out := readCSV(t, TableSalientes)
	if got := field(t, out, "concepto", "mos_bajo", "llamadas"); got != "2" {
		t.Errorf("mos_bajo %q, want 2", got)
	}
	if got := field(t, out, "concepto", "mos_bajo", "detalle"); got != "mos<3.6" {
		t.Errorf("mos_bajo detalle %q, want mos<3.6", got)
	}
	if got := field(t, out, "concepto", "mos_bajo", "registros"); got != "r-0304 r-0305" {
		t.Errorf("mos_bajo registros %q", got)
	}
	if got := field(t, out, "concepto", "juzgadas_por_analisis", "llamadas"); got != "25" {
		t.Errorf("juzgadas_por_analisis %q, want 25", got)
	}
	if got := out[len(out)-1][0]; got != "mos_bajo" {
		t.Errorf("last outgoing row %q, want the new rows at the end", got)
	}
}

// TestVoiceTableEmpty: a document without a voice part still has the
// table's header, and no row.
func TestVoiceTableEmpty(t *testing.T) {
	full := voiceTable(fixture(t))
	empty := voiceTable(&report.Document{})
	if len(empty.rows) != 0 || len(empty.cols) != len(full.cols) {
		t.Fatalf("empty: %d rows, %d columns; want 0 rows, %d columns", len(empty.rows), len(empty.cols), len(full.cols))
	}
	for i := range full.cols {
		if empty.cols[i].id != full.cols[i].id {
			t.Errorf("column %d: %q, want %q", i, empty.cols[i].id, full.cols[i].id)
		}
	}
}

func TestVoiceXLSX(t *testing.T) {
	f, _ := writeXLSX(t)
	const sheet = "Voz y calidad"
	if got := number(t, f, sheet, sheetCell(t, f, sheet, "Recepcionista", opAna, "Demora del saludo: mediana")); got != 1.84 {
		t.Errorf("Ana's median greeting %v, want 1.84", got)
	}
	if got := number(t, f, sheet, sheetCell(t, f, sheet, "Ámbito", "Todas las recepcionistas", "MOS del audio del llamante: percentil 10")); got != 3.95 {
		t.Errorf("all: caller MOS p10 %v, want 3.95", got)
	}
	if got := text(t, f, sheet, sheetCell(t, f, sheet, "Recepcionista", opRosa, "Demora del saludo: percentil 90")); got != "—" {
		t.Errorf("Rosa's p90 %q, want a dash", got)
	}
}

func TestVoicePDF(t *testing.T) {
	path := writePDF(t, fixture(t), t.TempDir())
	text := pdfText(t, path, 0, 0)
	for _, s := range []string{"Voz y calidad de las grabaciones", "límite 3,0 s",
		"Contestadas con MOS bajo (menor que 3,6)", "2: r-0304, r-0305"} {
		if !strings.Contains(text, s) {
			t.Errorf("the PDF's text lacks %q", s)
		}
	}
	// Ana's row: calls, greeting median and p90, late share, no
	// greeting, silence and overtalk medians, the four MOS figures.
	ana := regexp.MustCompile(`Ana Peña\s+58\s+1,84 s\s+3,42 s\s+12,28 %\s+1\s+14,75 %\s+2,10 %\s+4,38 / 3,91\s+4,36 / 3,55`)
	if !ana.MatchString(text) {
		t.Errorf("no row for Ana's voice figures in the PDF")
	}
	if !regexp.MustCompile(`Todas las\s+96\s+2,05 s\s+4,10 s`).MatchString(text) {
		t.Errorf("no row for all receptionists in the PDF")
	}
	sparse := pdfText(t, writePDF(t, &report.Document{Month: "2026-02", TimeZone: "America/El_Salvador"}, t.TempDir()), 0, 0)
	if !strings.Contains(sparse, "El mes no tiene análisis de voz de las grabaciones.") {
		t.Error("a month without a voice part does not say so")
	}
}
