package export

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/switchtap/switchtap/report"
)

// Sheets of the workbook that are not a CSV table.
const sheetCharts = "Gráficos"

// XLSX writes the document as a workbook, one sheet per part in the order
// of Tables ("Resumen", "Por recepcionista", "Muestra", "Evaluaciones",
// "Tabulación", "Acciones", "Salientes", "Estado del equipo", "Voz y
// calidad") and a last "Gráficos" sheet with the three charts as native
// charts over their data. Numbers are numbers with a number format, times real dates in the
// document's zone (a spreadsheet has no zones: the local clock is
// written), a null the dash. The sheets are not protected: the jefe
// annotates them.
func XLSX(w io.Writer, d *report.Document) (err error) {
	if d == nil {
		return errors.New("export: no document")
	}
	loc, err := location(d)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export: xlsx: %w", cerr)
		}
	}()
	x := &xlsxWriter{f: f, loc: loc, styles: map[string]int{}}
	for i, id := range Tables() {
		t, err := buildTable(d, loc, id)
		if err != nil {
			return err
		}
		if i == 0 {
			err = f.SetSheetName("Sheet1", t.sheet)
		} else {
			_, err = f.NewSheet(t.sheet)
		}
		if err != nil {
			return fmt.Errorf("export: xlsx sheet %s: %w", t.sheet, err)
		}
		if id == TableResumen {
			err = x.summary(t, d)
		} else {
			err = x.table(t.sheet, t, 1)
		}
		if err != nil {
			return fmt.Errorf("export: xlsx sheet %s: %w", t.sheet, err)
		}
	}
	if err := x.charts(d); err != nil {
		return fmt.Errorf("export: xlsx sheet %s: %w", sheetCharts, err)
	}
	f.SetActiveSheet(0)
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:    "Informe mensual de atención del conmutador — " + monthLabel(d.Month),
		Subject:  d.Office,
		Creator:  "switchtap",
		Language: "es-SV",
		// Stamped with the document's time so the same document gives the
		// same workbook.
		Created:  d.GeneratedAt.UTC().Format(time.RFC3339),
		Modified: d.GeneratedAt.UTC().Format(time.RFC3339),
	}); err != nil {
		return fmt.Errorf("export: xlsx properties: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}

// xlsxWriter puts tables on sheets, with one style per number format.
type xlsxWriter struct {
	f      *excelize.File
	loc    *time.Location
	styles map[string]int
}

// style returns the id of the style with that number format ("" for
// none), bold for a header.
func (x *xlsxWriter) style(numFmt string, bold bool) (int, error) {
	key := numFmt + "|" + strconv.FormatBool(bold)
	if id, ok := x.styles[key]; ok {
		return id, nil
	}
	s := &excelize.Style{Alignment: &excelize.Alignment{Vertical: "top"}}
	if numFmt != "" {
		s.CustomNumFmt = &numFmt
	}
	if bold {
		s.Font = &excelize.Font{Bold: true}
		s.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E2E8F0"}}
		s.Alignment.WrapText = true
		s.Border = []excelize.Border{{Type: "bottom", Color: "718096", Style: 1}}
	}
	id, err := x.f.NewStyle(s)
	if err != nil {
		return 0, err
	}
	x.styles[key] = id
	return id, nil
}

// numFmt is the number format of a column's kind. The decimal separator
// is the reader's locale's: the format says only how many decimals.
func numFmt(c column) string {
	dec := func() string {
		if c.prec <= 0 {
			return "0"
		}
		return "0." + strings.Repeat("0", c.prec)
	}
	switch c.kind {
	case kInt:
		return "0"
	case kDec:
		return dec()
	case kPct:
		return dec() + `" %"`
	case kSecs:
		return dec() + `" s"`
	case kTime:
		return "dd/mm/yyyy hh:mm"
	case kDay:
		return "dd/mm/yyyy"
	}
	return ""
}

// value is a cell as the workbook holds it.
func (x *xlsxWriter) value(c column, v cell) any {
	if v.null {
		return noValue
	}
	switch c.kind {
	case kInt, kDec, kPct, kSecs:
		return v.num
	case kTime:
		return wallClock(v.t.In(x.loc))
	case kDay:
		if t, err := time.Parse(layoutDay, v.text); err == nil {
			return t
		}
	}
	return v.text
}

// wallClock is t's local clock as a UTC time: excelize converts instants
// through UTC, and a spreadsheet's date is the clock on the wall.
func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// table writes t on sheet from row top: a bold header, the number
// formats, and when it is the sheet's first table the columns' widths and
// the header frozen.
func (x *xlsxWriter) table(sheet string, t table, top int) error {
	head, err := x.style("", true)
	if err != nil {
		return err
	}
	for i, c := range t.cols {
		name, _ := excelize.CoordinatesToCellName(i+1, top)
		if err := x.f.SetCellStr(sheet, name, c.head); err != nil {
			return err
		}
		if top == 1 {
			col, _ := excelize.ColumnNumberToName(i + 1)
			if err := x.f.SetColWidth(sheet, col, col, max(c.width, 8)); err != nil {
				return err
			}
		}
		for r, row := range t.rows {
			name, _ := excelize.CoordinatesToCellName(i+1, top+1+r)
			if err := x.f.SetCellValue(sheet, name, x.value(c, row[i])); err != nil {
				return err
			}
		}
		if len(t.rows) > 0 {
			st, err := x.style(numFmt(c), false)
			if err != nil {
				return err
			}
			from, _ := excelize.CoordinatesToCellName(i+1, top+1)
			to, _ := excelize.CoordinatesToCellName(i+1, top+len(t.rows))
			if err := x.f.SetCellStyle(sheet, from, to, st); err != nil {
				return err
			}
		}
	}
	if len(t.cols) > 0 {
		from, _ := excelize.CoordinatesToCellName(1, top)
		to, _ := excelize.CoordinatesToCellName(len(t.cols), top)
		if err := x.f.SetCellStyle(sheet, from, to, head); err != nil {
			return err
		}
	}
	if top == 1 {
		return x.f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	}
	return nil
}

// summary writes the one-row resumen as a list of concept, value and the
// CSV column's id, then the rounds of the review.
func (x *xlsxWriter) summary(t table, d *report.Document) error {
	const sheet = "Resumen"
	kv := table{cols: []column{textCol("concepto", "Concepto", 44), textCol("valor", "Valor", 40), textCol("clave", "Clave (CSV)", 26)}}
	if err := x.table(sheet, kv, 1); err != nil {
		return err
	}
	for i, c := range t.cols {
		r := i + 2
		if err := x.f.SetCellStr(sheet, "A"+strconv.Itoa(r), c.head); err != nil {
			return err
		}
		if err := x.f.SetCellValue(sheet, "B"+strconv.Itoa(r), x.value(c, t.rows[0][i])); err != nil {
			return err
		}
		if err := x.f.SetCellStr(sheet, "C"+strconv.Itoa(r), c.id); err != nil {
			return err
		}
		if nf := numFmt(c); nf != "" {
			st, err := x.style(nf, false)
			if err != nil {
				return err
			}
			if err := x.f.SetCellStyle(sheet, "B"+strconv.Itoa(r), "B"+strconv.Itoa(r), st); err != nil {
				return err
			}
		}
	}
	rounds := roundsTable(d)
	// The rounds start two rows below the list, under their own header.
	return x.table(sheet, rounds, len(t.cols)+4)
}

// roundsTable is the review's rounds: each submission and the jefe's
// answer to it.
func roundsTable(d *report.Document) table {
	t := table{cols: []column{
		textCol("ronda", "Ronda de revisión", 44),
		timeCol("enviada", "Enviada"),
		textCol("enviada_por", "Enviada por", 26),
		timeCol("devuelta", "Devuelta"),
		textCol("devuelta_por", "Devuelta por", 16),
		textCol("observaciones", "Observaciones del jefe", 50),
		timeCol("aprobada", "Aprobada"),
		textCol("aprobada_por", "Aprobada por", 16),
		textCol("conclusiones", "Conclusiones enviadas", 60),
	}}
	for _, r := range d.Review.Rounds {
		t.rows = append(t.rows, []cell{txt(strconv.Itoa(r.N)), tm(r.SubmittedAt), txt(r.SubmittedBy),
			optTime(r.ReturnedAt), txt(r.ReturnedBy), txt(r.Observations),
			optTime(r.ApprovedAt), txt(r.ApprovedBy), txt(r.Conclusions)})
	}
	return t
}
