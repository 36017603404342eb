package web

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/switchtap/switchtap/report"
)

// The Calendario page (/calendario): the seed's calendar of reports
// (lineamiento 6b: due three days after the month ends), the last twelve
// months with each report's state, its due date, how many days are left,
// VENCIDO when it is overdue and "entregado tarde" when it was submitted
// late. The Informe page shows the same fact as a banner.

// calendarMonths is how many months the page shows.
const calendarMonths = 12

// calendarBody is the Calendario page's data.
type calendarBody struct {
	Rows    []dueView
	Overdue int
}

// dueView is one month's place in the calendar.
type dueView struct {
	Month string
	State report.ReviewState
	DueAt time.Time
	// Code is the row's data-due: "open" (the month is not over),
	// "due" (over, not submitted, in time), "overdue", "delivered",
	// "late" (delivered after the due date).
	Code string
	Text string
	// Banner says the Informe page should show it (due or overdue).
	Banner      bool
	SubmittedAt *time.Time
}

// Codes of dueView.
const (
	dueOpen      = "open"
	dueDue       = "due"
	dueOverdue   = "overdue"
	dueDelivered = "delivered"
	dueLate      = "late"
)

// calendarRoutes parses the page and registers it.
func (c *console) calendarRoutes(mux *router) {
	if c.s.cfg.Review == nil {
		return
	}
	c.procedurePage("calendario", "calendario")
	mux.Handle("GET /calendario", c.page(c.calendarPage, false, everyone...))
}

// calendarPage is GET /calendario.
func (c *console) calendarPage(w http.ResponseWriter, r *http.Request, p Principal) {
	due, err := c.s.calendar(r, p, calendarMonths)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	var b calendarBody
	now := c.s.now()
	for _, d := range due {
		v := c.dueView(d, now)
		if v.Code == dueOverdue {
			b.Overdue++
		}
		b.Rows = append(b.Rows, v)
	}
	c.render(w, r, http.StatusOK, "calendario", c.newPage(&p, "Calendario de informes", "calendario", b))
}

// dueView says where a month's report stands against its due date at now.
func (c *console) dueView(d report.Due, now time.Time) dueView {
	v := dueView{Month: d.Month, State: d.State, DueAt: d.DueAt, SubmittedAt: d.SubmittedAt}
	due := c.f.date(d.DueAt)
	switch {
	case d.SubmittedAt != nil && d.SubmittedLate:
		v.Code, v.Text = dueLate, "entregado tarde ("+c.f.date(d.SubmittedAt)+"; vencía el "+due+")"
	case d.SubmittedAt != nil || d.State == report.ReviewSubmitted || d.State == report.ReviewApproved:
		v.Code, v.Text = dueDelivered, "entregado a tiempo"
		if d.SubmittedAt != nil {
			v.Text += " (" + c.f.date(d.SubmittedAt) + ")"
		}
	case d.Overdue || !now.Before(d.DueAt):
		days := int(math.Floor(now.Sub(d.DueAt).Hours() / 24))
		v.Code, v.Text, v.Banner = dueOverdue, "VENCIDO: debía entregarse el "+due, true
		if days >= 1 {
			v.Text += " (hace " + plural(days, "día", "días") + ")"
		}
	case now.Before(monthEnd(d.Month, c.s.cfg.Location)):
		v.Code, v.Text = dueOpen, "mes en curso; vencerá el "+due
	default:
		days := int(math.Ceil(d.DueAt.Sub(now).Hours() / 24))
		v.Code, v.Text, v.Banner = dueDue, "vence en "+plural(days, "día", "días")+" ("+due+")", true
	}
	return v
}

// monthEnd is the first instant after month in loc (the zero time for a
// bad month, which no date is before).
func monthEnd(month string, loc *time.Location) time.Time {
	start, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil {
		return time.Time{}
	}
	return start.AddDate(0, 1, 0)
}

// plural writes n with its noun: "1 día", "3 días".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
