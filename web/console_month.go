package web

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/switchtap/switchtap/report"
)

// The Mes page (/mes?m=YYYY-MM): the month's figures of step 01 of ETAPA 2
// (issue 10 §1), with three charts drawn on the server as SVG, so the page
// needs no script and prints as seen.

// monthBody is the Mes page's data.
type monthBody struct {
	Month string
	// Label is the month in Spanish ("marzo de 2026").
	Label      string
	Prev, Next string
	F          *report.MonthFigures
	// Operators are the rows of the per-receptionist table.
	Operators []monthOperator
	Days      []monthDay
	Charts    []monthChart
}

// monthOperator is one row of the per-receptionist table.
type monthOperator struct {
	Name string
	In   *report.Inbound
}

// monthDay is one row of the per-day table.
type monthDay struct {
	Day  string
	Slot *report.Slot
}

// monthChart is one drawn chart.
type monthChart struct {
	ID, Title string
	SVG       template.HTML
}

// monthName is the Spanish name of m.
func monthName(m time.Month) string {
	names := [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
		"agosto", "septiembre", "octubre", "noviembre", "diciembre"}
	return names[m-1]
}

// monthRoutes parses the Mes page and registers it. A template that does
// not parse leaves /mes answering 500 (caught by the tests), never the
// console down.
func (c *console) monthRoutes(mux *router) {
	t, err := template.New("layout").Funcs(c.funcs()).Funcs(monthFuncs()).
		ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", "templates/mes.html")
	if err != nil {
		c.s.log.Error("console template mes does not parse", "err", err)
	} else {
		c.pages["mes"] = t
	}
	mux.Handle("GET /mes", c.page(c.month, false, everyone...))
}

func monthFuncs() template.FuncMap {
	return template.FuncMap{
		// optPct writes a percentage or "—" for null.
		"optPct": func(v *float64) string {
			if v == nil {
				return "—"
			}
			return formatDecimal(*v, 2) + nbsp + "%"
		},
		// optSecs writes seconds or "—" for null.
		"optSecs": func(v *float64) string {
			if v == nil {
				return "—"
			}
			return formatSeconds(*v)
		},
		"secs": formatSeconds,
		"slotPct": func(s *report.Slot) string {
			v, ok := s.ServiceLevel()
			if !ok {
				return "—"
			}
			return formatDecimal(v, 2) + nbsp + "%"
		},
	}
}

// month is GET /mes: ?m=YYYY-MM, the current month by default.
func (c *console) month(w http.ResponseWriter, r *http.Request, p Principal) {
	loc := c.s.cfg.Location
	m := r.URL.Query().Get("m")
	if m == "" {
		m = c.s.now().In(loc).Format("2006-01")
	}
	f, err := c.s.monthFigures(r.Context(), m)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	start, err := time.ParseInLocation("2006-01", m, loc)
	if err != nil {
		c.fail(w, r, &p, fmt.Errorf("%w: mes inválido %q (use AAAA-MM)", ErrInvalid, m))
		return
	}
	b := monthBody{
		Month: m,
		Label: monthName(start.Month()) + " de " + start.Format("2006"),
		Prev:  start.AddDate(0, -1, 0).Format("2006-01"),
		Next:  start.AddDate(0, 1, 0).Format("2006-01"),
		F:     f,
	}
	// Configured receptionists first, in the configuration's order, then
	// any other name found in the month's records.
	names := slices.Clone(c.s.cfg.Operators)
	var others []string
	for name := range f.ByOperator {
		if !slices.Contains(names, name) {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	for _, name := range append(names, others...) {
		if in := f.ByOperator[name]; in != nil {
			b.Operators = append(b.Operators, monthOperator{Name: name, In: in})
		}
	}
	for d := start; d.Month() == start.Month(); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		if s := f.ByDay[key]; s != nil {
			b.Days = append(b.Days, monthDay{Day: key, Slot: s})
		}
	}
	for _, ch := range []struct {
		id string
		c  report.Chart
	}{
		{"chart-service-level", report.ServiceLevelChart(f)},
		{"chart-rings", report.RingChart(f)},
		{"chart-hours", report.HourChart(f)},
	} {
		// The SVG is built by package report with every text escaped.
		b.Charts = append(b.Charts, monthChart{ID: ch.id, Title: ch.c.Title, SVG: template.HTML(ch.c.SVG())}) // #nosec G203 -- escaped by report.Chart.SVG
	}
	c.render(w, r, http.StatusOK, "mes", c.newPage(&p, "Mes: "+b.Label, "mes", b))
}
