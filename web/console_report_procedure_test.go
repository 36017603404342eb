package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchtap/switchtap/report"
)

// reportPage fetches /informe?m=month as user and parses it.
func (e *cpEnv) reportPage(t *testing.T, user, month string) *html.Node {
	t.Helper()
	w := e.do("GET", "/informe?m="+month, nil, e.as(user))
	if w.Code != http.StatusOK {
		t.Fatalf("informe as %s = %d %s", user, w.Code, w.Body)
	}
	doc := parsePage(t, w)
	assertNoInline(t, doc)
	return doc
}

// present lists which of ids the page has.
func present(doc *html.Node, ids ...string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = find(doc, byID(id)) != nil
	}
	return out
}

// reportForms are the ids of the report's step forms.
var reportForms = []string{"conclusions-form", "report-submit", "return-form", "approve-form", "action-form"}

// TestConsoleReportWorkflow: the review through the Informe page's
// forms, checking at each state which role sees which button: the
// técnico's conclusions and submission (refused while calls are pending),
// the jefe's return (observation required) and approval, the action
// recorded on the approved report, its follow-up in the next month's
// report, assessed there, and the rounds of the history.
func TestConsoleReportWorkflow(t *testing.T) {
	e := newCPEnv(t)
	want := func(state string, who map[string][]string) {
		t.Helper()
		for user, ids := range who {
			doc := e.reportPage(t, user, procMonth)
			if s := find(doc, byID("report")); attrOf(s, "data-state") != state {
				t.Fatalf("%s: data-state %q, want %s", user, attrOf(s, "data-state"), state)
			}
			got := present(doc, reportForms...)
			for _, id := range reportForms {
				if got[id] != contains(ids, id) {
					t.Errorf("%s in %s: #%s shown=%v", user, state, id, got[id])
				}
			}
		}
	}
	want("draft", map[string][]string{
		"tecnico": {"conclusions-form", "report-submit"}, "jefe": {}, "admin": {},
	})
	m := url.Values{"m": {procMonth}}
	with := func(kv ...string) url.Values {
		v := url.Values{"m": {procMonth}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	// Conclusions saved; submitting with calls pending is refused on the
	// page with the text kept.
	if w := e.post("tecnico", "/informe/conclusiones", with("conclusions", "Primer borrador")); w.Code != http.StatusSeeOther {
		t.Fatalf("conclusions = %d %s", w.Code, w.Body)
	}
	w := e.post("tecnico", "/informe/enviar", with("conclusions", "Conclusiones completas"))
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "sin evaluación enviada") {
		t.Fatalf("submit with pending = %d", w.Code)
	}
	if ta := find(parsePage(t, w), byID("conclusions-text")); textOf(ta) != "Conclusiones completas" {
		t.Errorf("conclusions lost: %q", textOf(ta))
	}
	for _, id := range cpCallIDs {
		e.submitEval(t, id)
	}
	if w := e.post("jefe", "/informe/enviar", m); w.Code != http.StatusForbidden {
		t.Errorf("jefe submit = %d", w.Code)
	}
	if w := e.post("tecnico", "/informe/enviar", with("conclusions", "Conclusiones completas")); w.Code != http.StatusSeeOther {
		t.Fatalf("submit = %d %s", w.Code, w.Body)
	}
	want("submitted", map[string][]string{"tecnico": {}, "jefe": {"return-form", "approve-form"}, "admin": {}})
	if c := find(e.reportPage(t, "jefe", procMonth), byID("conclusions-text")); textOf(c) != "Conclusiones completas" {
		t.Errorf("the jefe reads %q", textOf(c))
	}

	// Return: the observation is required.
	if w := e.post("jefe", "/informe/devolver", m); w.Code != http.StatusBadRequest {
		t.Fatalf("return without observations = %d", w.Code)
	}
	if w := e.post("tecnico", "/informe/devolver", with("observations", "x")); w.Code != http.StatusForbidden {
		t.Errorf("técnico return = %d", w.Code)
	}
	if w := e.post("jefe", "/informe/devolver", with("observations", "Falta analizar el punto tono")); w.Code != http.StatusSeeOther {
		t.Fatalf("return = %d %s", w.Code, w.Body)
	}
	want("returned", map[string][]string{"tecnico": {"conclusions-form", "report-submit"}, "jefe": {}})
	doc := e.reportPage(t, "tecnico", procMonth)
	if r1 := find(doc, tag("tr", "data-round", "1")); attrOf(r1, "data-result") != "returned" || !strings.Contains(textOf(r1), "Falta analizar el punto tono") {
		t.Errorf("round 1 %q", textOf(r1))
	}
	if w := e.post("tecnico", "/informe/enviar", with("conclusions", "Conclusiones con el punto tono")); w.Code != http.StatusSeeOther {
		t.Fatalf("resubmit = %d", w.Code)
	}
	if w := e.post("jefe", "/informe/aprobar", m); w.Code != http.StatusSeeOther {
		t.Fatalf("approve = %d", w.Code)
	}
	want("approved", map[string][]string{"tecnico": {}, "jefe": {"action-form"}, "admin": {}})
	doc = e.reportPage(t, "jefe", procMonth)
	if n := len(within(doc, byID("rounds"), tag("tr", "data-round", ""))); n != 2 {
		t.Errorf("%d rounds, want 2", n)
	}
	if r2 := find(doc, tag("tr", "data-round", "2")); attrOf(r2, "data-result") != "approved" {
		t.Errorf("round 2 result %q", attrOf(r2, "data-result"))
	}

	// A corrective action: a bad one comes back with what was typed.
	act := with("to", "201", "instruction", "Saludar con el nombre de la unidad", "kind", report.IndicatorPointNoCumplePct,
		"point", "saludo", "operator", "201", "due_date", "2027-01-15")
	bad := with("to", "201", "instruction", "Instrucción sin fecha", "kind", report.IndicatorServiceLevelPct, "due_date", "mañana")
	if w := e.post("jefe", "/informe/accion", bad); w.Code != http.StatusBadRequest {
		t.Fatalf("bad action = %d", w.Code)
	} else if ta := find(parsePage(t, w), byID("a-instruction")); textOf(ta) != "Instrucción sin fecha" {
		t.Errorf("instruction lost: %q", textOf(ta))
	}
	if w := e.post("tecnico", "/informe/accion", act); w.Code != http.StatusForbidden {
		t.Errorf("técnico action = %d", w.Code)
	}
	if w := e.post("jefe", "/informe/accion", act); w.Code != http.StatusSeeOther {
		t.Fatalf("action = %d %s", w.Code, w.Body)
	}
	doc = e.reportPage(t, "jefe", procMonth)
	row := find(doc, tag("tr", "data-action", "a1"))
	if row == nil || attrOf(row, "data-status") != "open" || !strings.Contains(textOf(row), "Saludo e identificación") {
		t.Fatalf("action row in the report: %v", row)
	}
	if find(row, tag("form", "class", "assess-form")) != nil {
		t.Error("an action is assessed in its own month's report")
	}

	// The next month's report follows it; the jefe assesses it there.
	doc = e.reportPage(t, "jefe", procNext)
	fu := find(find(doc, byID("follow-ups-table")), tag("tr", "data-action", "a1"))
	if fu == nil || find(fu, tag("form", "class", "assess-form")) == nil {
		t.Fatal("no follow-up of a1 with the assessment form")
	}
	if td := find(e.reportPage(t, "tecnico", procNext), byID("follow-ups-table")); find(td, tag("form", "class", "assess-form")) != nil {
		t.Error("the técnico may assess")
	}
	assess := url.Values{"back": {"informe"}, "month": {procNext}, "status": {"effective"}, "comment": {"Mejoró el saludo"}}
	w = e.post("jefe", "/acciones/a1/valorar", assess)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/informe?") {
		t.Fatalf("assess = %d %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	acts := parsePage(t, e.do("GET", "/acciones", nil, e.as("jefe")))
	if r := find(acts, tag("tr", "data-action", "a1")); attrOf(r, "data-status") != "effective" || !strings.Contains(textOf(r), "Mejoró el saludo") {
		t.Errorf("actions page row %q", textOf(r))
	}
	for action, n := range map[string]int{ActionReportConclusions: 3, ActionReportSubmit: 2, ActionReportReturn: 1, ActionReportApprove: 1, ActionCorrectiveAdd: 1, ActionCorrectiveAssess: 1} {
		if got := e.auth.count(action); got != n {
			t.Errorf("%d audit entries %s, want %d", got, action, n)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestConsoleReportDocument: the document's parts rendered: the
// tabulation with its % and Wilson interval overall and per
// receptionist, inmediatez over all calls, observations (escaped), the
// charts, the exports, and the due banner.
func TestConsoleReportDocument(t *testing.T) {
	e := newCPEnv(t)
	pct, low, high := 12.5, 4.1, 32.0
	tally := func(point string) report.PointTally {
		pt := report.PointTally{Point: point, Label: pointLabel(point), Evaluated: 8, Cumple: 7, NoCumple: 1}
		if point == report.PointTono {
			pt.NoCumplePct, pt.Wilson95 = &pct, &report.Interval{Low: low, High: high}
		}
		return pt
	}
	form, _ := report.FormByVersion(report.CurrentForm)
	var pts []report.PointTally
	for _, p := range form.Points {
		pts = append(pts, tally(p.ID))
	}
	e.docs.tab = &report.Tabulation{
		Form: report.CurrentForm, Points: pts,
		ByOperator:              map[string][]report.PointTally{"201": pts, "202": pts, "999": pts},
		InmediatezAll:           report.PointTally{Point: report.PointInmediatez, Evaluated: 40, NoCumple: 5, NoCumplePct: &pct},
		InmediatezAllByOperator: map[string]report.PointTally{"201": {Evaluated: 30, NoCumple: 5, NoCumplePct: &pct}},
		Observations:            []report.Observation{{ID: "c1", Operator: "201", Point: report.PointTono, Verdict: report.VerdictNoCumple, Text: "<script>alert(1)</script>", InviteLocal: "03/11/2026 09:00"}},
	}
	e.docs.figures = &report.MonthFigures{Month: procMonth, TimeZone: "America/El_Salvador", ByDay: map[string]*report.Slot{}, ByHour: map[string]*report.Slot{}}
	doc := e.reportPage(t, "admin", procMonth)
	tono := find(find(doc, byID("tabulation")), tag("tr", "data-point", "tono"))
	if tono == nil {
		t.Fatal("no tono row")
	}
	if p := find(tono, func(n *html.Node) bool { return hasClass(n, "pct") }); textOf(p) != "12,50\u00a0%" {
		t.Errorf("tono %% %q", textOf(p))
	}
	if w := find(tono, func(n *html.Node) bool { return hasClass(n, "wilson") }); textOf(w) != "4,1 – 32,0\u00a0%" {
		t.Errorf("tono Wilson %q", textOf(w))
	}
	groups := within(doc, byID("tabulation-by-operator"), tag("tbody", "data-operator", ""))
	if len(groups) != 3 || attrOf(groups[0], "data-operator") != "201" || attrOf(groups[2], "data-operator") != "999" {
		t.Fatalf("per receptionist groups %d", len(groups))
	}
	if n := len(findAll(groups[1], tag("tr", "data-point", ""))); n != 7 {
		t.Errorf("202 has %d rows", n)
	}
	if r := find(find(doc, byID("inmediatez-all")), tag("tr", "data-operator", "201")); r == nil || !strings.Contains(textOf(r), "30") {
		t.Error("inmediatez over all calls of 201 missing")
	}
	if obs := find(doc, byID("observations-table")); !strings.Contains(textOf(obs), "<script>alert(1)</script>") {
		t.Error("observation not shown as text")
	}
	for _, id := range []string{"chart-service-level", "chart-rings", "chart-hours"} {
		if len(within(doc, byID(id), tag("svg"))) != 1 {
			t.Errorf("%s has no svg", id)
		}
	}
	links := within(doc, byID("exports"), tag("a", "data-format", ""))
	if len(links) != 2+len(exportTables) {
		t.Fatalf("%d export links", len(links))
	}
	if href := attrOf(links[0], "href"); href != "/api/v1/months/"+procMonth+"/report/export?format=xlsx" {
		t.Errorf("xlsx link %q", href)
	}
	// The links work (the API's export).
	for _, l := range []*html.Node{links[1], links[len(links)-1]} {
		if w := e.do("GET", attrOf(l, "href"), nil, e.as("admin")); w.Code != http.StatusOK {
			t.Errorf("%s = %d", attrOf(l, "href"), w.Code)
		}
	}
	// 1 December: November's report is due on the 3rd: the banner.
	if b := find(doc, byID("due-banner")); b == nil || attrOf(b, "data-due") != "due" || !strings.Contains(textOf(b), "vence en") {
		t.Errorf("due banner %v", b)
	}
	e.clock.Add(5 * 24 * time.Hour)
	if b := find(e.reportPage(t, "tecnico", procMonth), byID("due-banner")); b == nil || attrOf(b, "data-due") != "overdue" || !strings.Contains(textOf(b), "VENCIDO") {
		t.Errorf("overdue banner %v", b)
	}
	// The current month is not due yet: no banner.
	if b := find(e.reportPage(t, "tecnico", "2026-12"), byID("due-banner")); b != nil {
		t.Errorf("banner on the current month: %q", textOf(b))
	}
}

// TestConsoleCalendar: the last twelve months with state and due, the
// overdue ones marked, refused to a receptionist.
func TestConsoleCalendar(t *testing.T) {
	e := newCPEnv(t)
	for _, id := range cpCallIDs {
		e.submitEval(t, id)
	}
	if _, err := e.review.SaveConclusions(t.Context(), procMonth, "tecnico", "Bien"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.review.Submit(t.Context(), procMonth, "tecnico"); err != nil {
		t.Fatal(err)
	}
	w := e.do("GET", "/calendario", nil, e.as("jefe"))
	if w.Code != http.StatusOK {
		t.Fatalf("calendario = %d", w.Code)
	}
	doc := parsePage(t, w)
	assertNoInline(t, doc)
	rows := within(doc, byID("calendar"), tag("tr", "data-month", ""))
	if len(rows) != calendarMonths {
		t.Fatalf("%d rows", len(rows))
	}
	byMonth := map[string]*html.Node{}
	for _, r := range rows {
		byMonth[attrOf(r, "data-month")] = r
	}
	if r := byMonth[procMonth]; attrOf(r, "data-due") != dueDelivered || attrOf(r, "data-state") != "submitted" {
		t.Errorf("November %v", r.Attr)
	}
	if r := byMonth["2026-10"]; attrOf(r, "data-due") != dueOverdue || !hasClass(r, "over") || !strings.Contains(textOf(r), "VENCIDO") {
		t.Errorf("October %q", textOf(r))
	}
	if w := e.do("GET", "/calendario", nil, e.as("recep201")); w.Code != http.StatusForbidden {
		t.Errorf("receptionist calendar = %d", w.Code)
	}
}

// TestDueView: the calendar's words for each case.
func TestDueView(t *testing.T) {
	e := newCPEnv(t)
	c, err := newConsole(e.srv)
	if err != nil {
		t.Fatal(err)
	}
	due, _ := report.DueAt("2026-11", e.loc)
	sub := due.Add(-time.Hour)
	late := due.Add(26 * time.Hour)
	tests := []struct {
		name string
		d    report.Due
		now  time.Time
		code string
		text string
	}{
		{"open", report.Due{Month: "2026-11", DueAt: due}, due.AddDate(0, 0, -10), dueOpen, "mes en curso"},
		{"due", report.Due{Month: "2026-11", DueAt: due}, due.Add(-50 * time.Hour), dueDue, "vence en 3 días"},
		{"due today", report.Due{Month: "2026-11", DueAt: due}, due.Add(-time.Hour), dueDue, "vence en 1 día"},
		{"overdue", report.Due{Month: "2026-11", DueAt: due, Overdue: true}, due.Add(49 * time.Hour), dueOverdue, "hace 2 días"},
		{"delivered", report.Due{Month: "2026-11", DueAt: due, State: report.ReviewSubmitted, SubmittedAt: &sub}, due.Add(49 * time.Hour), dueDelivered, "a tiempo"},
		{"late", report.Due{Month: "2026-11", DueAt: due, State: report.ReviewApproved, Overdue: true, SubmittedAt: &late, SubmittedLate: true}, late, dueLate, "entregado tarde"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := c.dueView(tt.d, tt.now)
			if v.Code != tt.code || !strings.Contains(v.Text, tt.text) {
				t.Errorf("%s %q, want %s %q", v.Code, v.Text, tt.code, tt.text)
			}
			if v.Banner != (tt.code == dueDue || tt.code == dueOverdue) {
				t.Errorf("banner %v", v.Banner)
			}
		})
	}
}

// TestConsoleActions: the Acciones page's filters, the jefe's assessment
// form only for the jefe, a refused assessment shown on the page, and the
// page refused to the admin (who takes no step and reads the report).
func TestConsoleActions(t *testing.T) {
	e := newCPEnv(t)
	for _, id := range cpCallIDs {
		e.submitEval(t, id)
	}
	ctx := t.Context()
	if _, err := e.review.SaveConclusions(ctx, procMonth, "tecnico", "Bien"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.review.Submit(ctx, procMonth, "tecnico"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.review.Approve(ctx, procMonth, "jefe"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"201", "202", report.ToEveryone} {
		if _, err := e.review.AddAction(ctx, report.ActionRequest{Month: procMonth, By: "jefe", To: to, Instruction: "Para " + to,
			Indicator: report.Indicator{Kind: report.IndicatorAbandonedPct}, DueDate: "2026-11-30"}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(user, query string) []string {
		t.Helper()
		w := e.do("GET", "/acciones"+query, nil, e.as(user))
		if w.Code != http.StatusOK {
			t.Fatalf("acciones%s as %s = %d", query, user, w.Code)
		}
		doc := parsePage(t, w)
		assertNoInline(t, doc)
		var out []string
		for _, r := range within(doc, byID("actions"), tag("tr", "data-action", "")) {
			out = append(out, attrOf(r, "data-action"))
			if attrOf(r, "data-status") != "open" {
				if hasClass(r, "over") || find(r, tag("form", "class", "assess-form")) != nil {
					t.Errorf("%s is %s and still marked or assessable", attrOf(r, "data-action"), attrOf(r, "data-status"))
				}
				continue
			}
			if !hasClass(r, "over") {
				t.Errorf("%s is past its due date and not marked", attrOf(r, "data-action"))
			}
			if got := find(r, tag("form", "class", "assess-form")) != nil; got != (user == "jefe") {
				t.Errorf("%s: assessment form shown=%v", user, got)
			}
		}
		return out
	}
	if got := ids("jefe", ""); strings.Join(got, ",") != "a1,a2,a3" {
		t.Errorf("all: %v", got)
	}
	if got := ids("tecnico", "?to=202"); strings.Join(got, ",") != "a2" {
		t.Errorf("to=202: %v", got)
	}
	if got := ids("jefe", "?status=effective"); len(got) != 0 {
		t.Errorf("status=effective: %v", got)
	}
	if w := e.do("GET", "/acciones?status=bogus", nil, e.as("jefe")); w.Code != http.StatusBadRequest {
		t.Errorf("bad status = %d", w.Code)
	}
	if w := e.do("GET", "/acciones", nil, e.as("admin")); w.Code != http.StatusForbidden {
		t.Errorf("admin = %d", w.Code)
	}
	// Assessed in its own month: refused (409) on the page.
	w := e.post("jefe", "/acciones/a1/valorar", url.Values{"month": {procMonth}, "status": {"closed"}})
	if w.Code != http.StatusConflict || find(parsePage(t, w), byID("actions")) == nil {
		t.Fatalf("assess in its own month = %d", w.Code)
	}
	if w := e.post("tecnico", "/acciones/a1/valorar", url.Values{"month": {procNext}, "status": {"closed"}}); w.Code != http.StatusForbidden {
		t.Errorf("técnico assess = %d", w.Code)
	}
	if w := e.post("jefe", "/acciones/a1/valorar", url.Values{"month": {procNext}, "status": {"closed"}, "comment": {"Ya no aplica"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("assess = %d %s", w.Code, w.Body)
	}
	if got := ids("jefe", "?status=closed"); strings.Join(got, ",") != "a1" {
		t.Errorf("closed: %v", got)
	}
}
