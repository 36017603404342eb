package export

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// writeXLSX exports the fixture and opens it back.
func writeXLSX(t *testing.T) (*excelize.File, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := XLSX(&buf, fixture(t)); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, buf.Bytes()
}

// sheetCell finds, on sheet, the cell of column head in the first data
// row whose column key equals value; it fails the test when absent.
func sheetCell(t *testing.T, f *excelize.File, sheet, key, value, head string) string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: empty", sheet)
	}
	ki, hi := slices.Index(rows[0], key), slices.Index(rows[0], head)
	if ki < 0 || hi < 0 {
		t.Fatalf("%s: no column %q or %q in %q", sheet, key, head, rows[0])
	}
	for r, row := range rows[1:] {
		if ki < len(row) && row[ki] == value {
			name, _ := excelize.CoordinatesToCellName(hi+1, r+2)
			return name
		}
	}
	t.Fatalf("%s: no row with %s = %q", sheet, key, value)
	return ""
}

// summaryCell finds the Valor cell of the Resumen row of a CSV key.
func summaryCell(t *testing.T, f *excelize.File, key string) string {
	t.Helper()
	return sheetCell(t, f, "Resumen", "Clave (CSV)", key, "Valor")
}

// number reads a cell that must hold a number (not text) and returns it.
func number(t *testing.T, f *excelize.File, sheet, cell string) float64 {
	t.Helper()
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("%s!%s: type %v, want a number", sheet, cell, typ)
	}
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Fatalf("%s!%s = %q: not a number: %v", sheet, cell, raw, err)
	}
	return v
}

func text(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestXLSXSheets(t *testing.T) {
	f, raw := writeXLSX(t)
	want := []string{"Resumen", "Por recepcionista", "Muestra", "Evaluaciones", "Tabulación", "Acciones",
		"Salientes", "Estado del equipo", "Voz y calidad", "Gráficos"}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	for _, s := range want[:len(want)-1] {
		p, err := f.GetPanes(s)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Freeze || p.YSplit != 1 {
			t.Errorf("%s: header not frozen: %+v", s, p)
		}
		id, err := f.GetCellStyle(s, "A1")
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Font == nil || !st.Font.Bold {
			t.Errorf("%s: header A1 not bold", s)
		}
		w, err := f.GetColWidth(s, "A")
		if err != nil {
			t.Fatal(err)
		}
		if w < 12 {
			t.Errorf("%s: column A width %v not set", s, w)
		}
	}
	// Three native charts.
	z, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var charts []string
	for _, zf := range z.File {
		if m, _ := pathMatch("xl/charts/chart*.xml", zf.Name); m {
			r, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			charts = append(charts, string(b))
		}
	}
	all := strings.Join(charts, "\n")
	if len(charts) != 3 {
		t.Errorf("%d charts in the workbook, want 3", len(charts))
	}
	for _, s := range []string{"Nivel de servicio por día", "Llamadas contestadas por timbre",
		"Llamadas ofrecidas y abandonadas por hora", "Gráficos&#39;!$H$2:$H$25"} {
		if !strings.Contains(all, s) {
			t.Errorf("the charts lack %q", s)
		}
	}
}

func TestXLSXValues(t *testing.T) {
	f, _ := writeXLSX(t)
	nums := []struct {
		sheet, cell string
		want        float64
	}{
		{"Resumen", summaryCell(t, f, "ofrecidas"), 120},
		{"Resumen", summaryCell(t, f, "nivel_servicio_pct"), 75.86},
		{"Resumen", summaryCell(t, f, "respuesta_media_s"), 9.873},
		{"Resumen", summaryCell(t, f, "salientes_realizadas"), 40},
		{"Resumen", summaryCell(t, f, "n_cochran"), 49},
		{"Resumen", summaryCell(t, f, "confianza_pct"), 95},
		{"Por recepcionista", sheetCell(t, f, "Por recepcionista", "Recepcionista", opAna, "Ofrecidas"), 70},
		{"Por recepcionista", sheetCell(t, f, "Por recepcionista", "Recepcionista", opJose, "Nivel de servicio"), 68.75},
		{"Por recepcionista", sheetCell(t, f, "Por recepcionista", "Recepcionista", opRosa, "Ofrecidas"), 0},
		{"Por recepcionista", sheetCell(t, f, "Por recepcionista", "Recepcionista", opJose,
			"Inmediatez (todas las llamadas): % no cumple"), 21.43},
		{"Tabulación", sheetCell(t, f, "Tabulación", "Punto", "Saludo e identificación", "Wilson 95 % inferior"), 9.45},
		{"Tabulación", sheetCell(t, f, "Tabulación", "Punto", "Saludo e identificación", "Wilson 95 % superior"), 90.55},
		{"Tabulación", sheetCell(t, f, "Tabulación", "Ámbito", "Todas las llamadas", "% no cumple"), 14.56},
		{"Acciones", sheetCell(t, f, "Acciones", "Origen", "Seguimiento", "Diferencia"), 5.36},
		{"Salientes", sheetCell(t, f, "Salientes", "Detalle", "486", "Llamadas"), 3},
		{"Estado del equipo", sheetCell(t, f, "Estado del equipo", "Día", "10/11/2026", "Interrupciones"), 1},
		// The charts' data: answered at the 2nd ring, offered at 08:00.
		{"Gráficos", sheetCell(t, f, "Gráficos", "Timbre", "2", "Contestadas"), 35},
		{"Gráficos", sheetCell(t, f, "Gráficos", "Hora", "08", "Ofrecidas"), 12},
	}
	for _, c := range nums {
		if got := number(t, f, c.sheet, c.cell); got != c.want {
			t.Errorf("%s!%s = %v, want %v", c.sheet, c.cell, got, c.want)
		}
	}
	texts := []struct {
		sheet, cell, want string
	}{
		{"Resumen", summaryCell(t, f, "mes"), "2026-11"},
		{"Resumen", summaryCell(t, f, "semilla"), "18446744073709551557"},
		{"Resumen", summaryCell(t, f, "generado"), "03/12/2026 09:04"},
		{"Resumen", summaryCell(t, f, "estado_informe"), "Aprobado"},
		{"Resumen", summaryCell(t, f, "oficina"), "Oficina de Atención Ciudadana, San Miguel"},
		{"Por recepcionista", sheetCell(t, f, "Por recepcionista", "Recepcionista", opRosa, "Nivel de servicio"), "—"},
		{"Evaluaciones", sheetCell(t, f, "Evaluaciones", "Observación",
			"No dijo el nombre de la institución; la atención fue cortés.", "Veredicto"), "No cumple"},
		{"Evaluaciones", sheetCell(t, f, "Evaluaciones", "Observación", "No se despidió.", "Recepcionista"), opJose},
		{"Evaluaciones", sheetCell(t, f, "Evaluaciones", "Observación", "No se despidió.", "Llamada"), "20/11/2026 14:40"},
		{"Muestra", sheetCell(t, f, "Muestra", "Registro", "r-0102", "Reemplazada por"), "r-0190"},
		{"Muestra", sheetCell(t, f, "Muestra", "Registro", "r-0102", "Motivo del reemplazo"), "grabación inaudible"},
		{"Estado del equipo", sheetCell(t, f, "Estado del equipo", "Día", "08/11/2026", "En marcha"), "No"},
		{"Acciones", sheetCell(t, f, "Acciones", "Origen", "Acción del mes", "Para"), opAna},
	}
	for _, c := range texts {
		if got := text(t, f, c.sheet, c.cell); got != c.want {
			t.Errorf("%s!%s = %q, want %q", c.sheet, c.cell, got, c.want)
		}
	}
	// A date is a real date: a serial number with a date format.
	g := summaryCell(t, f, "generado")
	if v := number(t, f, "Resumen", g); v < 46000 || v > 47000 {
		t.Errorf("generado serial %v, want a 2026 date", v)
	}
}

func pathMatch(pattern, name string) (bool, error) { return path.Match(pattern, name) }
