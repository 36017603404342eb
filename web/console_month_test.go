package web

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestConsoleMonth: the Mes page for every role, the current month by
// default, with the figures, the tables and three SVG charts.
func TestConsoleMonth(t *testing.T) {
	e := newFiguresEnv(t)
	for _, role := range []string{"tecnico", "jefe", "admin"} {
		t.Run(role, func(t *testing.T) {
			w := e.do("GET", "/mes", nil, e.as(role))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			doc := parsePage(t, w)
			fig := find(doc, byID("figures"))
			if fig == nil || attrOf(fig, "data-month") != "2026-12" {
				t.Fatalf("#figures[data-month=2026-12] missing")
			}
			if sl := find(doc, byID("service-level")); sl == nil || !strings.HasPrefix(textOf(sl), "50,00") {
				t.Errorf("service level %q, want 50,00 %%", textOf(sl))
			}
			rows := within(doc, byID("by-operator"), tag("tr", "data-operator", "202"))
			if len(rows) != 1 || !strings.Contains(textOf(rows[0]), "—") {
				t.Errorf("202 row (no calls) %v", rows)
			}
			if days := within(doc, byID("by-day"), func(n *html.Node) bool { _, ok := attr(n, "data-day"); return ok && n.Data == "tr" }); len(days) != 31 {
				t.Errorf("%d day rows, want 31", len(days))
			}
			for _, id := range []string{"chart-service-level", "chart-rings", "chart-hours"} {
				if len(within(doc, byID(id), tag("svg"))) != 1 {
					t.Errorf("%s has no svg", id)
				}
			}
			// The CSP forbids style attributes.
			if n := find(doc, func(n *html.Node) bool { _, ok := attr(n, "style"); return ok }); n != nil {
				t.Errorf("<%s> has a style attribute", n.Data)
			}
			if nav := find(doc, tag("a", "href", "/mes")); nav == nil || attrOf(nav, "aria-current") != "page" {
				t.Errorf("menu entry Mes missing or not current")
			}
		})
	}
}

// TestConsoleMonthQuery: ?m= picks the month; a bad one is the 400 page,
// no login goes to /login.
func TestConsoleMonthQuery(t *testing.T) {
	e := newFiguresEnv(t)
	tests := []struct {
		name, path, user string
		code             int
		month            string
	}{
		{"november", "/mes?m=2026-11", "tecnico", http.StatusOK, "2026-11"},
		{"bad", "/mes?m=2026-13", "tecnico", http.StatusBadRequest, ""},
		{"junk", "/mes?m=%3Cscript%3E", "jefe", http.StatusBadRequest, ""},
		{"anonymous", "/mes", "", http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do("GET", tt.path, nil, e.as(tt.user))
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d", w.Code, tt.code)
			}
			if tt.month == "" {
				return
			}
			fig := find(parsePage(t, w), byID("figures"))
			if fig == nil || attrOf(fig, "data-month") != tt.month {
				t.Errorf("data-month %q, want %s", attrOf(fig, "data-month"), tt.month)
			}
		})
	}
}
