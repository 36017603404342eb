package web

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
)

// newFiguresEnv is a testEnv whose server computes the month's figures
// with package report over the fake store, and three December calls to
// operator 201: answered within the limit (7 s), answered late (30 s) and
// a short abandon (2 s); 202 has none.
func newFiguresEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	e.calls.add(e.testCall("c1", -time.Hour))
	late := e.testCall("c2", -2*time.Hour)
	ans := late.RingingAt.Add(30 * time.Second)
	late.AnsweredAt, late.RingSeconds, late.Rings, late.WithinLimit = &ans, 30, 6, false
	e.calls.add(late)
	ab := e.testCall("c3", -3*time.Hour)
	end := ab.RingingAt.Add(2 * time.Second)
	ab.AnsweredAt, ab.EndedAt, ab.EndReason, ab.RingSeconds, ab.Rings, ab.WithinLimit = nil, &end, sip.EndAbandoned, 2, 1, false
	e.calls.add(ab)
	// November: not in December's figures.
	e.calls.add(e.testCall("c4", -24*time.Hour))
	e.srv.cfg.Figures = report.NewFiguresService(e.calls, report.FiguresOptions{
		Location: e.loc, Receptionists: e.srv.cfg.Operators, Now: e.clock.Now,
	})
	e.handler = e.srv.Handler()
	e.local = e.srv.LocalHandler()
	return e
}

// TestAPIMonthFigures: every logged-in role reads the figures; the JSON is
// the report's contract; a malformed month is a 400, no login a 401.
func TestAPIMonthFigures(t *testing.T) {
	e := newFiguresEnv(t)
	tests := []struct {
		name, path string
		auth       func(*http.Request)
		code       int
	}{
		{"tecnico", "/api/v1/months/2026-12/figures", e.as("tecnico"), http.StatusOK},
		{"jefe", "/api/v1/months/2026-12/figures", e.as("jefe"), http.StatusOK},
		{"admin", "/api/v1/months/2026-12/figures", e.as("admin"), http.StatusOK},
		{"token", "/api/v1/months/2026-12/figures", e.bearer("tecnico"), http.StatusOK},
		{"anonymous", "/api/v1/months/2026-12/figures", e.as(""), http.StatusUnauthorized},
		{"must change", "/api/v1/months/2026-12/figures", e.as("nuevo"), http.StatusForbidden},
		{"bad month", "/api/v1/months/2026-13/figures", e.as("tecnico"), http.StatusBadRequest},
		{"not a month", "/api/v1/months/diciembre/figures", e.as("tecnico"), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do("GET", tt.path, nil, tt.auth)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.code, w.Body)
			}
			if tt.code != http.StatusOK {
				var body errorBody
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
					t.Errorf("error body %q: %v", w.Body, err)
				}
				return
			}
			var f report.MonthFigures
			if err := json.Unmarshal(w.Body.Bytes(), &f); err != nil {
				t.Fatal(err)
			}
			in := f.Inbound
			if f.Month != "2026-12" || in.Offered != 3 || in.Answered != 2 || in.WithinLimit != 1 || in.Late != 1 ||
				in.Abandoned != 1 || in.ShortAbandoned != 1 {
				t.Errorf("figures %+v", f)
			}
			// 1 within ÷ (3 − 1 short) = 50 %.
			if in.ServiceLevelPct == nil || *in.ServiceLevelPct != 50 {
				t.Errorf("service level %v, want 50", in.ServiceLevelPct)
			}
			if o := f.ByOperator["202"]; o == nil || o.Offered != 0 || o.ServiceLevelPct != nil {
				t.Errorf("202 (no calls) = %+v, want zeros and nulls", o)
			}
		})
	}
}

// TestAPIMonthFiguresKeys: the JSON keys of issue 10 §1 are all there.
func TestAPIMonthFiguresKeys(t *testing.T) {
	e := newFiguresEnv(t)
	w := e.do("GET", "/api/v1/months/2026-12/figures", nil, e.as("tecnico"))
	var m map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"month", "time_zone", "generated_at", "calls_total", "inbound", "outbound", "by_operator", "by_day", "by_hour"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(m["inbound"], &in); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"offered", "answered", "within_limit", "late", "abandoned", "short_abandoned", "busy", "rejected",
		"failed", "unknown", "service_level_pct", "asa_seconds", "answer_p50_seconds", "answer_p90_seconds", "rings",
		"transferred", "talk_seconds_total", "recorded"} {
		if _, ok := in[k]; !ok {
			t.Errorf("inbound key %q missing", k)
		}
	}
}

// TestAPIMonthFiguresUnconfigured: a server without Figures answers 404.
func TestAPIMonthFiguresUnconfigured(t *testing.T) {
	e := newTestEnv(t)
	if w := e.do("GET", "/api/v1/months/2026-12/figures", nil, e.as("tecnico")); w.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", w.Code)
	}
}
