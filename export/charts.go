package export

import (
	"time"

	"github.com/switchtap/switchtap/report"
)

// monthCharts are the three charts of the month, from the series
// report/charts.go prepares for the console. The figures of a stored or
// decoded document are not trusted to have the shape Figures gives them:
// a by_day key that is not a day, or a null day, is left out of the copy
// the charts read (report.ServiceLevelChart indexes the key's last two
// characters and reads every day).
func monthCharts(f *report.MonthFigures) []report.Chart {
	g := *f
	g.ByDay = make(map[string]*report.Slot, len(f.ByDay))
	for k, s := range f.ByDay {
		if _, err := time.Parse(layoutDay, k); err == nil && s != nil {
			g.ByDay[k] = s
		}
	}
	return []report.Chart{report.ServiceLevelChart(&g), report.RingChart(&g), report.HourChart(&g)}
}
