package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// readCSV exports one table of the fixture and parses it back, checking
// the BOM.
func readCSV(t *testing.T, table string) [][]string {
	t.Helper()
	var buf bytes.Buffer
	if err := CSV(&buf, fixture(t), table); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("%s: no UTF-8 BOM: % x", table, b[:min(3, len(b))])
	}
	r := csv.NewReader(bytes.NewReader(b[3:]))
	recs, err := r.ReadAll() // also checks every row has the header's width
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	return recs
}

// TestCSVHeaders: every table parses back and its header is the golden
// one (the columns are a contract: a change here must be an addition at
// the end).
func TestCSVHeaders(t *testing.T) {
	for _, table := range Tables() {
		t.Run(table, func(t *testing.T) {
			recs := readCSV(t, table)
			if len(recs) < 2 {
				t.Fatalf("%d records, want a header and rows", len(recs))
			}
			got := strings.Join(recs[0], ",") + "\n"
			golden := filepath.Join("testdata", "csv_"+table+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("header\n got %s want %s", got, want)
			}
			for _, id := range recs[0] {
				if id != strings.ToLower(id) || strings.ContainsAny(id, " áéíóúñ-") {
					t.Errorf("column %q is not a snake_case ascii id", id)
				}
			}
		})
	}
}

// field returns the value of column col in the first record whose column
// key equals value.
func field(t *testing.T, recs [][]string, key, value, col string) string {
	t.Helper()
	ki, ci := slices.Index(recs[0], key), slices.Index(recs[0], col)
	if ki < 0 || ci < 0 {
		t.Fatalf("no column %q or %q in %q", key, col, recs[0])
	}
	for _, r := range recs[1:] {
		if r[ki] == value {
			return r[ci]
		}
	}
	t.Fatalf("no record with %s = %q", key, value)
	return ""
}

func TestCSVValues(t *testing.T) {
	res := readCSV(t, TableResumen)
	if len(res) != 2 {
		t.Fatalf("resumen: %d records, want header and one row", len(res))
	}
	ops := readCSV(t, TableRecepcionistas)
	evs := readCSV(t, TableEvaluaciones)
	tab := readCSV(t, TableTabulacion)
	acc := readCSV(t, TableAcciones)
	sal := readCSV(t, TableSalientes)
	est := readCSV(t, TableEstado)
	mue := readCSV(t, TableMuestra)
	cases := []struct {
		name, got, want string
	}{
		{"resumen nivel", field(t, res, "mes", "2026-11", "nivel_servicio_pct"), "75.86"},
		{"resumen conversación", field(t, res, "mes", "2026-11", "conversacion_s"), "12345.678"},
		{"resumen generado", field(t, res, "mes", "2026-11", "generado"), "2026-12-03T09:04:00-06:00"},
		{"resumen estado", field(t, res, "mes", "2026-11", "estado_informe"), "approved"},
		{"resumen semilla", field(t, res, "mes", "2026-11", "semilla"), "18446744073709551557"},
		{"resumen confianza", field(t, res, "mes", "2026-11", "confianza_pct"), "95"},
		{"resumen vencido", field(t, res, "mes", "2026-11", "vencido"), "false"},
		{"rosa sin llamadas", field(t, ops, "recepcionista", opRosa, "ofrecidas"), "0"},
		{"rosa nivel nulo", field(t, ops, "recepcionista", opRosa, "nivel_servicio_pct"), ""},
		{"rosa asa nula", field(t, ops, "recepcionista", opRosa, "respuesta_media_s"), ""},
		{"josé", field(t, ops, "recepcionista", opJose, "inmediatez_wilson_alto"), "35.94"},
		{"ana en muestra", field(t, ops, "recepcionista", opAna, "en_muestra"), "29"},
		{"observación", field(t, evs, "observacion", "No se despidió.", "veredicto"), "no_cumple"},
		{"punto", field(t, evs, "observacion", "No se despidió.", "punto"), "amabilidad"},
		{"momento nulo", field(t, evs, "observacion", "No se despidió.", "momento_s"), "3.5"},
		{"conformidad", field(t, evs, "registro", "r-0101", "conformidad"), "resolved"},
		{"pendiente", field(t, evs, "registro", "r-0103", "veredicto"), "cumple"},
		{"censo", field(t, tab, "ambito", "todas_las_llamadas", "pct_no_cumple"), "14.56"},
		{"wilson", field(t, tab, "punto", "saludo", "wilson_bajo"), "9.45"},
		{"no aplica sin pct", field(t, tab, "punto", "traslado", "pct_no_cumple"), ""},
		{"seguimiento", field(t, acc, "origen", "seguimiento", "diferencia"), "5.36"},
		{"seguimiento mejoró", field(t, acc, "origen", "seguimiento", "mejoro"), "true"},
		{"acción para", field(t, acc, "origen", "mes", "para"), opAna},
		{"acción antes", field(t, acc, "origen", "mes", "antes"), "100"},
		{"fallo 503", field(t, sal, "detalle", "503", "llamadas"), "2"},
		{"un sentido", field(t, sal, "concepto", "audio_un_sentido", "registros"), "r-0302 r-0303"},
		{"sin marcha", field(t, est, "dia", "2026-11-08", "en_marcha"), "false"},
		{"sin sip", field(t, est, "dia", "2026-11-15", "sin_sip"), "true"},
		{"hueco", field(t, est, "dia", "2026-11-10", "detalle_huecos"), "2026-11-10T00:00:00-06:00/2026-11-10T01:30:00-06:00"},
		{"reemplazo", field(t, mue, "registro", "r-0190", "reemplaza_a"), "r-0102"},
		{"estado reemplazada", field(t, mue, "registro", "r-0102", "estado"), "reemplazada"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
	// Rows: one per evaluation and point (7 + 7 + 2), one per day of the
	// month the tap ran or did not.
	if n := len(evs) - 1; n != 16 {
		t.Errorf("evaluaciones: %d rows, want 16", n)
	}
	if n := len(est) - 1; n != 30 {
		t.Errorf("estado: %d rows, want 30", n)
	}
	if n := len(ops) - 1; n != 3 {
		t.Errorf("recepcionistas: %d rows, want 3", n)
	}
}

func TestCSVUnknownTable(t *testing.T) {
	for _, name := range []string{"", "Resumen", "tabulación", "../resumen", "graficos"} {
		err := CSV(&bytes.Buffer{}, fixture(t), name)
		if !errors.Is(err, ErrUnknownTable) {
			t.Errorf("%q: %v, want ErrUnknownTable", name, err)
		}
	}
}

// TestCSVFormulaGuard: a text typed by a person that a spreadsheet would
// run as a formula is written with a leading apostrophe.
func TestCSVFormulaGuard(t *testing.T) {
	d := fixture(t)
	d.Evaluations[0].Answers[1].Observation = "=HYPERLINK(\"http://x\")"
	var buf bytes.Buffer
	if err := CSV(&buf, d, TableEvaluaciones); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := field(t, recs, "punto", "saludo", "observacion"); got != "'=HYPERLINK(\"http://x\")" {
		t.Errorf("observation %q, want it guarded", got)
	}
}

// csvRecords parses an export: the BOM, then CSV whose records all have
// the header's width.
func csvRecords(b []byte) ([][]string, error) {
	if !bytes.HasPrefix(b, []byte(bom)) {
		return nil, errors.New("no BOM")
	}
	return csv.NewReader(bytes.NewReader(b[len(bom):])).ReadAll()
}
