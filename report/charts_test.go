package report

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// svgBars parses an SVG and returns its bars (rect with a <title>) as
// title → height; legend swatches have no title.
func svgBars(t *testing.T, svg []byte) map[string]float64 {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	bars := map[string]float64{}
	var h float64
	inRect, inTitle := false, false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			for _, a := range e.Attr {
				if a.Name.Local == "style" {
					t.Errorf("<%s> has a style attribute (the CSP forbids it)", e.Name.Local)
				}
			}
			switch e.Name.Local {
			case "rect":
				inRect = true
				for _, a := range e.Attr {
					if a.Name.Local == "height" {
						h, _ = strconv.ParseFloat(a.Value, 64)
					}
				}
			case "title":
				inTitle = true
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "rect":
				inRect = false
			case "title":
				inTitle = false
			}
		case xml.CharData:
			if inRect && inTitle {
				bars[string(e)] = h
			}
		}
	}
	return bars
}

// TestCharts draws the synthetic month's three charts: bars where there
// are figures, none where there is nothing to measure, heights in
// proportion to the values, and the drawings kept as golden files.
func TestCharts(t *testing.T) {
	loc, calls := figMonth(t)
	f, err := Figures(context.Background(), &figCalls{calls: calls}, "2026-03", figOpts(loc))
	if err != nil {
		t.Fatal(err)
	}
	plotH := float64(chartH - chartTop - chartBottom)
	tests := []struct {
		name  string
		chart Chart
		bars  int
		// want are some bars' heights, by their title.
		want map[string]float64
	}{
		// Days with something to measure: 1–7 and 31 (8 bars). 2 March:
		// 3 within ÷ 4 offered = 75 %; 4 March: 0 ÷ 4 = 0 %.
		{"service-level", ServiceLevelChart(f), 8, map[string]float64{
			"Nivel de servicio 2: 75.00 %": plotH * 0.75, "Nivel de servicio 4: 0.00 %": zeroBar, "Nivel de servicio 1: 0.00 %": zeroBar,
		}},
		// 4, 4, 1, 1, 2 on an axis to 5.
		{"rings", RingChart(f), 5, map[string]float64{
			"Contestadas 1: 4 llamadas": plotH * 4 / 5, "Contestadas 5+: 2 llamadas": plotH * 2 / 5,
		}},
		// 24 hours × 2 series; 11 h: 4 offered, 3 abandoned on an axis to 5.
		{"hours", HourChart(f), 48, map[string]float64{
			"Ofrecidas 11: 4 llamadas": plotH * 4 / 5, "Abandonadas 11: 3 llamadas": plotH * 3 / 5, "Ofrecidas 05: 0 llamadas": zeroBar,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg := tt.chart.SVG()
			bars := svgBars(t, svg)
			if len(bars) != tt.bars {
				t.Errorf("%d bars, want %d: %v", len(bars), tt.bars, bars)
			}
			for title, h := range tt.want {
				got, ok := bars[title]
				if !ok {
					t.Errorf("no bar %q in %v", title, bars)
					continue
				}
				if math.Abs(got-h) > 0.06 {
					t.Errorf("%q height %.2f, want %.2f", title, got, h)
				}
			}
			path := filepath.Join("testdata", "figures_chart_"+tt.name+".golden.svg")
			if *updateFigures {
				if err := os.WriteFile(path, svg, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update-figures)", err)
			}
			if !bytes.Equal(svg, want) {
				t.Errorf("%s differs (run with -update-figures and look at it)", path)
			}
		})
	}
}

// TestChartEscapes: text in a chart cannot break out of the SVG.
func TestChartEscapes(t *testing.T) {
	c := Chart{Title: `<script>"x"</script>`, Unit: "llamadas", Max: 2, Labels: []string{"<b>"},
		Series: []Series{{Name: "a&b", Color: `red" onload="x`, Values: []float64{1}}}}
	svg := string(c.SVG())
	for _, bad := range []string{"<script>", "<b>", `" onload="`} {
		if strings.Contains(svg, bad) {
			t.Errorf("unescaped %q in %s", bad, svg)
		}
	}
	svgBars(t, []byte(svg))
}

func TestTickCount(t *testing.T) {
	tests := []struct {
		top  float64
		want int
	}{{1, 1}, {2, 2}, {5, 5}, {10, 5}, {20, 4}, {100, 4}, {1000, 4}, {50, 5}}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.top, 'f', -1, 64), func(t *testing.T) {
			if got := tickCount(tt.top); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestNiceMax(t *testing.T) {
	tests := []struct {
		max, want float64
	}{{0, 1}, {1, 1}, {3, 5}, {5, 5}, {7, 10}, {12, 20}, {150, 200}, {999, 1000}, {math.NaN(), 1}}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.max, 'f', -1, 64), func(t *testing.T) {
			if got := niceMax([]Series{{Values: []float64{tt.max}}}); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestServiceLevelChartOddDays: figures decoded from elsewhere may have a
// null day or a key that is not a date; the chart draws them as gaps
// instead of panicking (found by export's fuzzer).
func TestServiceLevelChartOddDays(t *testing.T) {
	f := &MonthFigures{ByDay: map[string]*Slot{"": nil, "7": {Offered: 2, Answered: 1, WithinLimit: 1}, "2026-03-05": nil}}
	c := ServiceLevelChart(f)
	if len(c.Labels) != 3 || len(c.Series[0].Values) != 3 {
		t.Fatalf("labels %q values %v", c.Labels, c.Series[0].Values)
	}
	if c.Labels[2] != "7" || !math.IsNaN(c.Series[0].Values[0]) || c.Series[0].Values[2] != 50 {
		t.Errorf("labels %q values %v", c.Labels, c.Series[0].Values)
	}
}
