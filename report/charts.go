package report

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Chart is a bar chart of the month's figures, drawn on the server as SVG
// (issue 10 §1: the console and the exports show the same drawing). Each
// category has one bar per series.
type Chart struct {
	// Title is the Spanish caption, also the SVG's accessible name.
	Title string
	// Unit follows the values on the axis ("%", "llamadas").
	Unit string
	// Max is the top of the value axis.
	Max float64
	// Labels name the categories, left to right.
	Labels []string
	// Series are the bars of each category.
	Series []Series
}

// Series is one set of bars of a chart.
type Series struct {
	// Name labels the legend and each bar's title.
	Name string
	// Color fills the bars (an SVG presentation attribute: the console's
	// CSP forbids style attributes).
	Color string
	// Values has one value per label; NaN is "no data" (no bar).
	Values []float64
}

// Chart colours: blue for what was answered or met, red for what was
// lost; both readable in black-and-white print by their shade.
const (
	colorGood = "#2b6cb0"
	colorBad  = "#c53030"
	colorAll  = "#718096"
)

// ServiceLevelChart is the service level per day (a day with nothing to
// measure has no bar). Short abandons per day are not part of the JSON:
// from figures decoded rather than computed by Figures, a day's level is
// within_limit ÷ offered.
func ServiceLevelChart(f *MonthFigures) Chart {
	c := Chart{Title: "Nivel de servicio por día", Unit: "%", Max: 100}
	s := Series{Name: "Nivel de servicio", Color: colorGood}
	days := make([]string, 0, len(f.ByDay))
	for k := range f.ByDay {
		days = append(days, k)
	}
	slices.Sort(days)
	for _, k := range days {
		// The day of the month; figures decoded from elsewhere (the
		// central server, a file) may carry any key, or a null day.
		label := k
		if len(k) >= 2 {
			label = strings.TrimLeft(k[len(k)-2:], "0")
		}
		c.Labels = append(c.Labels, label)
		v := math.NaN()
		if d := f.ByDay[k]; d != nil {
			if sl, ok := d.ServiceLevel(); ok {
				v = sl
			}
		}
		s.Values = append(s.Values, v)
	}
	c.Series = []Series{s}
	return c
}

// RingChart is the histogram of answered calls by the ring they were
// answered in.
func RingChart(f *MonthFigures) Chart {
	r := f.Inbound.Rings
	c := Chart{Title: "Llamadas contestadas por timbre", Unit: "llamadas",
		Labels: []string{"1", "2", "3", "4", "5+"}}
	c.Series = []Series{{Name: "Contestadas", Color: colorGood,
		Values: []float64{float64(r.R1), float64(r.R2), float64(r.R3), float64(r.R4), float64(r.R5Up)}}}
	c.Max = niceMax(c.Series)
	return c
}

// HourChart is the calls offered and abandoned by local hour.
func HourChart(f *MonthFigures) Chart {
	c := Chart{Title: "Llamadas ofrecidas y abandonadas por hora", Unit: "llamadas"}
	off := Series{Name: "Ofrecidas", Color: colorAll}
	ab := Series{Name: "Abandonadas", Color: colorBad}
	for h := range 24 {
		s := f.ByHour[figHourKey(h)]
		if s == nil {
			s = &Slot{}
		}
		c.Labels = append(c.Labels, figHourKey(h))
		off.Values = append(off.Values, float64(s.Offered))
		ab.Values = append(ab.Values, float64(s.Abandoned))
	}
	c.Series = []Series{off, ab}
	c.Max = niceMax(c.Series)
	return c
}

// niceMax is the top of a count axis: the largest value rounded up to 1,
// 2 or 5 times a power of ten, at least 1.
func niceMax(ss []Series) float64 {
	m := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				m = max(m, v)
			}
		}
	}
	if m <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(m)))
	for _, k := range []float64{1, 2, 5, 10} {
		if k*p >= m {
			return k * p
		}
	}
	return 10 * p
}

// Geometry of the drawing, in SVG user units.
const (
	chartW      = 720
	chartH      = 260
	chartLeft   = 48
	chartRight  = 8
	chartTop    = 28
	chartBottom = 40
	// zeroBar is the height of a bar whose value is 0.
	zeroBar = 1.0
)

// SVG draws the chart: bars, a value axis with whole ticks, the category
// labels, a legend, and a <title> per bar with its exact value. Every text
// is escaped.
func (c Chart) SVG() []byte {
	var b bytes.Buffer
	esc := html.EscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH, chartW, chartH, esc(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	plotW := float64(chartW - chartLeft - chartRight)
	plotH := float64(chartH - chartTop - chartBottom)
	top := c.Max
	if top <= 0 {
		top = 1
	}
	// Value axis: whole steps (no "1,25 llamadas").
	ticks := tickCount(top)
	for i := 0; i <= ticks; i++ {
		v := top * float64(i) / float64(ticks)
		y := float64(chartTop) + plotH - plotH*float64(i)/float64(ticks)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#cbd5e0" stroke-width="1"/>`, chartLeft, y, chartW-chartRight, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="#4a5568">%s</text>`, chartLeft-4, y+4, esc(formatTick(v, c.Unit)))
	}
	n := len(c.Labels)
	if n > 0 && len(c.Series) > 0 {
		slot := plotW / float64(n)
		barW := slot * 0.8 / float64(len(c.Series))
		every := 1
		if n > 16 {
			every = 2
		}
		for i, label := range c.Labels {
			x0 := float64(chartLeft) + slot*float64(i) + slot*0.1
			for k, s := range c.Series {
				if i >= len(s.Values) || math.IsNaN(s.Values[i]) {
					continue
				}
				v := min(max(s.Values[i], 0), top)
				// A measured zero is a hairline, so it differs from a
				// day with nothing to measure (no bar).
				h := max(plotH*v/top, zeroBar)
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
					x0+barW*float64(k), float64(chartTop)+plotH-h, barW, h, esc(s.Color), esc(s.Name), esc(label), esc(formatValue(s.Values[i], c.Unit)))
			}
			if i%every == 0 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#4a5568">%s</text>`, x0+slot*0.4, chartH-chartBottom+14, esc(label))
			}
		}
	}
	// Legend, top left.
	x := chartLeft
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<rect x="%d" y="8" width="12" height="12" fill="%s"/>`, x, esc(s.Color))
		fmt.Fprintf(&b, `<text x="%d" y="18" font-size="12" fill="#1a202c">%s</text>`, x+16, esc(s.Name))
		x += 24 + 8*len([]rune(s.Name))
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// tickCount divides the axis [0, top] into 4, 5, 2 or 1 equal whole
// steps, the first that fits.
func tickCount(top float64) int {
	for _, n := range []float64{4, 5, 2} {
		if top >= n && math.Mod(top, n) == 0 && math.Mod(top/n, 1) == 0 {
			return int(n)
		}
	}
	return 1
}

func formatTick(v float64, unit string) string {
	if unit == "%" {
		return strconv.FormatFloat(v, 'f', 0, 64) + " %"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func formatValue(v float64, unit string) string {
	if unit == "%" {
		return strconv.FormatFloat(v, 'f', 2, 64) + " %"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " " + unit
}
