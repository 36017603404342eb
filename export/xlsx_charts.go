package export

import (
	"math"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/switchtap/switchtap/report"
)

// charts writes the "Gráficos" sheet: the data of the three charts of the
// month (report/charts.go prepares them for the console, so the workbook
// shows the same series) and a native column chart over each, which the
// jefe can restyle or copy into a document.
func (x *xlsxWriter) charts(d *report.Document) error {
	if _, err := x.f.NewSheet(sheetCharts); err != nil {
		return err
	}
	if d.Figures == nil {
		return x.f.SetCellStr(sheetCharts, "A1", "El mes no tiene cifras.")
	}
	charts := monthCharts(d.Figures)
	heads := []string{"Día", "Timbre", "Hora"}
	col := 1
	for i, c := range charts {
		if err := x.chart(c, heads[i], col, i); err != nil {
			return err
		}
		col += len(c.Series) + 2
	}
	return nil
}

// chart writes one chart's data from column col (labels, then one column
// per series) and places the chart to the right of all the data, the n-th
// one down.
func (x *xlsxWriter) chart(c report.Chart, labelHead string, col, n int) error {
	const sheet = sheetCharts
	head, err := x.style("", true)
	if err != nil {
		return err
	}
	cellName := func(c, r int) string {
		s, _ := excelize.CoordinatesToCellName(c, r)
		return s
	}
	if err := x.f.SetCellStr(sheet, cellName(col, 1), labelHead); err != nil {
		return err
	}
	for r, l := range c.Labels {
		// Labels stay text: the hour "08", the ring "5+".
		if err := x.f.SetCellStr(sheet, cellName(col, r+2), l); err != nil {
			return err
		}
	}
	unit := "llamadas"
	if c.Unit == "%" {
		unit = "%"
	}
	nf := "0"
	if c.Unit == "%" {
		nf = `0.00" %"`
	}
	fmtID, err := x.style(nf, false)
	if err != nil {
		return err
	}
	ref := func(c1, r1, r2 int) string {
		return "'" + sheet + "'!" + absCell(c1, r1) + ":" + absCell(c1, r2)
	}
	last := len(c.Labels) + 1
	vary := false // one colour per series, as on the console
	chart := &excelize.Chart{
		Type:       excelize.Col,
		VaryColors: &vary,
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: c.Title}}},
		Legend:     excelize.ChartLegend{Position: "bottom"},
		Dimension:  excelize.ChartDimension{Width: 720, Height: 280},
		YAxis:      excelize.ChartAxis{MajorGridLines: true, Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: unit}}}},
	}
	if c.Unit == "%" {
		top, zero := 100.0, 0.0
		chart.YAxis.Maximum, chart.YAxis.Minimum = &top, &zero
	}
	for k, s := range c.Series {
		sc := col + 1 + k
		if err := x.f.SetCellStr(sheet, cellName(sc, 1), s.Name); err != nil {
			return err
		}
		for r, v := range s.Values {
			if math.IsNaN(v) {
				continue // no data: an empty cell, no bar
			}
			if err := x.f.SetCellValue(sheet, cellName(sc, r+2), v); err != nil {
				return err
			}
		}
		if err := x.f.SetCellStyle(sheet, cellName(sc, 2), cellName(sc, last), fmtID); err != nil {
			return err
		}
		chart.Series = append(chart.Series, excelize.ChartSeries{
			Name:       "'" + sheet + "'!" + absCell(sc, 1),
			Categories: ref(col, 2, last),
			Values:     ref(sc, 2, last),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{strings.TrimPrefix(s.Color, "#")}},
		})
	}
	if err := x.f.SetCellStyle(sheet, cellName(col, 1), cellName(col+len(c.Series), 1), head); err != nil {
		return err
	}
	// The charts stand in column M, one under the other (15 rows each).
	return x.f.AddChart(sheet, cellName(13, 1+n*16), chart)
}

// absCell is "$C$4".
func absCell(c, r int) string {
	s, _ := excelize.CoordinatesToCellName(c, r, true)
	return s
}
