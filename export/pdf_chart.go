package export

import (
	"math"
	"strconv"

	"github.com/switchtap/switchtap/report"
)

// chart draws a bar chart of the month (report/charts.go prepares the
// same series for the console's SVG) with fpdf's lines and rectangles:
// the title, a legend, a value axis with whole ticks and grid lines, the
// bars (a day with nothing to measure has none, a measured zero a
// hairline) and the category labels. h is the height of the whole
// figure in millimetres.
func (w *pdfWriter) chart(c report.Chart, h float64) {
	w.ensure(h + 2)
	p := w.p
	x0, y0 := marginL, p.GetY()
	w.font("B", 9)
	p.SetXY(x0, y0)
	p.CellFormat(contentW, 5, c.Title, "", 0, "L", false, 0, "")
	// Legend, right aligned on the title's line.
	w.font("", 7.5)
	lx := pageW - marginR
	for i := len(c.Series) - 1; i >= 0; i-- {
		s := c.Series[i]
		tw := p.GetStringWidth(s.Name)
		lx -= tw
		p.SetXY(lx, y0+0.5)
		p.CellFormat(tw, 4, s.Name, "", 0, "L", false, 0, "")
		lx -= 4.5
		r, g, b := rgb(s.Color)
		p.SetFillColor(r, g, b)
		p.Rect(lx, y0+1.2, 3, 3, "F")
		lx -= 4
	}
	const axisW, labelH = 14.0, 5.0
	plotX, plotY := x0+axisW, y0+8
	plotW, plotH := contentW-axisW, h-8-labelH-2
	top := c.Max
	if top <= 0 {
		top = 1
	}
	// Value axis and grid lines.
	ticks := tickCount(top)
	w.font("", 7)
	w.gray(70)
	for i := 0; i <= ticks; i++ {
		v := top * float64(i) / float64(ticks)
		y := plotY + plotH - plotH*float64(i)/float64(ticks)
		p.SetDrawColor(203, 213, 224)
		p.SetLineWidth(0.15)
		p.Line(plotX, y, plotX+plotW, y)
		label := formatDecimal(v, 0)
		if c.Unit == "%" {
			label += nbsp + "%"
		}
		p.SetXY(x0, y-2)
		p.CellFormat(axisW-1.5, 4, label, "", 0, "R", false, 0, "")
	}
	p.SetDrawColor(74, 85, 104)
	p.SetLineWidth(0.3)
	p.Line(plotX, plotY, plotX, plotY+plotH)
	p.Line(plotX, plotY+plotH, plotX+plotW, plotY+plotH)
	n := len(c.Labels)
	if n > 0 && len(c.Series) > 0 {
		slot := plotW / float64(n)
		barW := slot * 0.8 / float64(len(c.Series))
		every := 1
		if n > 16 {
			every = 2
		}
		for i, label := range c.Labels {
			bx := plotX + slot*float64(i) + slot*0.1
			for k, s := range c.Series {
				if i >= len(s.Values) || math.IsNaN(s.Values[i]) {
					continue
				}
				v := min(max(s.Values[i], 0), top)
				bh := max(plotH*v/top, 0.3)
				r, g, b := rgb(s.Color)
				p.SetFillColor(r, g, b)
				p.Rect(bx+barW*float64(k), plotY+plotH-bh, barW, bh, "F")
				if n <= 8 {
					// Few bars: each carries its value.
					p.SetXY(bx+barW*float64(k), plotY+plotH-bh-4)
					p.CellFormat(barW, 4, formatDecimal(s.Values[i], 0), "", 0, "C", false, 0, "")
				}
			}
			if i%every == 0 {
				cx := plotX + slot*(float64(i)+0.5)
				p.SetXY(cx-slot*float64(every)/2, plotY+plotH+0.8)
				p.CellFormat(slot*float64(every), 4, label, "", 0, "C", false, 0, "")
			}
		}
	}
	w.gray(0)
	p.SetXY(marginL, y0+h)
}

// tickCount divides the axis [0, top] into 4, 5, 2 or 1 equal whole steps,
// the first that fits (as the console's SVG does).
func tickCount(top float64) int {
	for _, n := range []float64{4, 5, 2} {
		if top >= n && math.Mod(top, n) == 0 && math.Mod(top/n, 1) == 0 {
			return int(n)
		}
	}
	return 1
}

// rgb reads "#rrggbb", grey for anything else.
func rgb(hex string) (r, g, b int) {
	if len(hex) != 7 || hex[0] != '#' {
		return 113, 128, 150
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return 113, 128, 150
	}
	return int(v >> 16 & 0xff), int(v >> 8 & 0xff), int(v & 0xff)
}
