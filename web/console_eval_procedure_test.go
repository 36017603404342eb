package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/switchtap/switchtap/report"
)

// TestConsoleEvalIndex: the month's sampled calls with each one's status,
// the técnico's "Evaluar" button on the pending ones, links to the call's
// page; refused to the admin and the receptionist.
func TestConsoleEvalIndex(t *testing.T) {
	e := newCPEnv(t)
	e.submitEval(t, "c1")
	if w := e.post("tecnico", "/evaluacion/abrir", url.Values{"m": {procMonth}, "id": {"c2"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("open c2 = %d", w.Code)
	}
	tests := []struct {
		user      string
		code      int
		evaluate  bool
		wantState map[string]string
	}{
		{"tecnico", http.StatusOK, true, map[string]string{"c1": "submitted", "c2": "draft", "c3": "pending"}},
		{"jefe", http.StatusOK, false, map[string]string{"c1": "submitted", "c2": "draft", "c3": "pending"}},
		{"admin", http.StatusForbidden, false, nil},
		{"recep201", http.StatusForbidden, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			w := e.do("GET", "/evaluacion?m="+procMonth, nil, e.as(tt.user))
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d", w.Code, tt.code)
			}
			if tt.wantState == nil {
				return
			}
			doc := parsePage(t, w)
			assertNoInline(t, doc)
			rows := within(doc, byID("eval-items"), tag("tr", "data-id", ""))
			if len(rows) != 3 {
				t.Fatalf("%d rows, want 3", len(rows))
			}
			for _, row := range rows {
				id := attrOf(row, "data-id")
				if got := attrOf(row, "data-status"); got != tt.wantState[id] {
					t.Errorf("%s status %q, want %q", id, got, tt.wantState[id])
				}
				open := find(row, tag("button", "class", "open"))
				if (open != nil) != (tt.evaluate && tt.wantState[id] == "pending") {
					t.Errorf("%s: Evaluar button shown=%v", id, open != nil)
				}
				if open == nil && find(row, tag("a", "href", evalURL(procMonth, id))) == nil {
					t.Errorf("%s: no link to its page", id)
				}
			}
			if c := find(doc, byID("eval-counts")); c == nil || !strings.Contains(textOf(c), "3 llamadas") {
				t.Errorf("counts %q", textOf(c))
			}
			if nav := find(doc, tag("a", "href", "/evaluacion")); nav == nil || attrOf(nav, "aria-current") != "page" {
				t.Error("menu entry Evaluación missing or not current")
			}
		})
	}
	// A month without a sample says so; a bad month is the 400 page.
	if w := e.do("GET", "/evaluacion?m=2026-10", nil, e.as("tecnico")); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="no-sample"`) {
		t.Errorf("month without sample = %d", w.Code)
	}
	if w := e.do("GET", "/evaluacion?m=2026-13", nil, e.as("tecnico")); w.Code != http.StatusBadRequest {
		t.Errorf("bad month = %d", w.Code)
	}
}

// TestConsoleEvalFormNoJS walks one evaluation through the forms alone
// (no script): open, save a draft, a refused submission that keeps what
// was typed, the submission, the read-only result and a revision; every
// step audited by the shared operations.
func TestConsoleEvalFormNoJS(t *testing.T) {
	e := newCPEnv(t)
	page := func(user string) *html.Node {
		t.Helper()
		w := e.do("GET", evalURL(procMonth, "c2"), nil, e.as(user))
		if w.Code != http.StatusOK {
			t.Fatalf("GET as %s = %d %s", user, w.Code, w.Body)
		}
		doc := parsePage(t, w)
		assertNoInline(t, doc)
		return doc
	}

	// Before opening: the call, no form, the "Comenzar" button.
	doc := page("tecnico")
	if find(doc, byID("eval-form")) != nil || find(doc, byID("eval-open")) == nil {
		t.Fatal("an unopened call shows a form, or no open button")
	}
	if s := find(doc, byID("evaluation")); attrOf(s, "data-status") != "pending" || attrOf(s, "data-id") != "c2" {
		t.Errorf("#evaluation %v", s.Attr)
	}
	if tr := find(doc, byID("eval-transfer")); !strings.Contains(textOf(tr), "hacia 300") || !strings.Contains(textOf(tr), "completado") {
		t.Errorf("transfer facts %q", textOf(tr))
	}
	if find(doc, tag("audio", "id", "player")) == nil || find(doc, tag("canvas", "id", "waveform")) == nil {
		t.Error("no player or waveform")
	}
	if prev, next := find(doc, byID("eval-prev")), find(doc, byID("eval-next")); attrOf(prev, "href") != evalURL(procMonth, "c1") || attrOf(next, "href") != evalURL(procMonth, "c3") {
		t.Errorf("prev/next links %v %v", prev, next)
	}

	w := e.post("tecnico", "/evaluacion/abrir", url.Values{"m": {procMonth}, "id": {"c2"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/evaluacion?hecho=abierta&id=c2&m="+procMonth {
		t.Fatalf("open = %d %q", w.Code, w.Header().Get("Location"))
	}
	doc = page("tecnico")
	form := find(doc, byID("eval-form"))
	if form == nil {
		t.Fatal("no #eval-form after opening")
	}
	if got := attrOf(form, "data-draft-url"); got != "/api/v1/months/"+procMonth+"/evaluations/c2/draft" {
		t.Errorf("data-draft-url %q", got)
	}
	points := findAll(form, tag("fieldset", "data-point", ""))
	if len(points) != 7 {
		t.Fatalf("%d points, want 7", len(points))
	}
	inm := find(doc, byID("point-inmediatez"))
	if inm == nil || find(inm, tag("input", "type", "radio")) != nil {
		t.Fatal("inmediatez has radio buttons: its verdict is measured")
	}
	if m := find(inm, byID("measured-inmediatez")); m == nil || attrOf(m, "data-verdict") != "cumple" || !strings.Contains(textOf(m), "medido: 2 timbres, 0,0") {
		t.Errorf("measured inmediatez %q", textOf(m))
	}
	for _, pt := range points[1:] {
		id := attrOf(pt, "data-point")
		if n := len(findAll(pt, tag("input", "type", "radio", "name", "verdict-"+id))); n != 3 {
			t.Errorf("%s has %d radios", id, n)
		}
		if find(pt, tag("textarea", "name", "obs-"+id)) == nil || find(pt, tag("input", "name", "at-"+id)) == nil {
			t.Errorf("%s lacks observation or moment", id)
		}
		if b := find(pt, tag("button", "class", "mark secondary")); b == nil || attrOf(b, "data-for") != "at-"+id {
			t.Errorf("%s: no mark button for its moment", id)
		} else if _, hidden := attr(b, "hidden"); !hidden {
			t.Errorf("%s: mark button visible without the script", id)
		}
		// Every control has a label.
		for _, ctl := range findAll(pt, func(n *html.Node) bool {
			return n.Data == "textarea" || (n.Data == "input" && attrOf(n, "type") == "text")
		}) {
			if find(doc, tag("label", "for", attrOf(ctl, "id"))) == nil {
				t.Errorf("%s: control %s has no label", id, attrOf(ctl, "id"))
			}
		}
	}

	// Save a partial draft.
	draft := url.Values{"m": {procMonth}, "id": {"c2"}, "verdict-saludo": {"cumple"}, "obs-saludo": {"Saludó con el nombre de la unidad"}, "at-saludo": {"3,5"}}
	if w := e.post("tecnico", "/evaluacion/borrador", draft); w.Code != http.StatusSeeOther {
		t.Fatalf("draft = %d %s", w.Code, w.Body)
	}
	doc = page("tecnico")
	if r := find(doc, tag("input", "name", "verdict-saludo", "value", "cumple")); r == nil {
		t.Fatal("no saludo radio")
	} else if _, ok := attr(r, "checked"); !ok {
		t.Error("saved verdict not checked")
	}
	if ta := find(doc, byID("obs-saludo")); textOf(ta) != "Saludó con el nombre de la unidad" {
		t.Errorf("saved observation %q", textOf(ta))
	}
	if at := find(doc, byID("at-saludo")); attrOf(at, "value") != "3,5" {
		t.Errorf("saved moment %q", attrOf(at, "value"))
	}

	// Submitting an incomplete form: 409 on the page, what was typed kept.
	incomplete := url.Values{"m": {procMonth}, "id": {"c2"}, "verdict-saludo": {"cumple"}, "obs-tono": {"a medio escribir"}}
	w = e.post("tecnico", "/evaluacion/enviar", incomplete)
	if w.Code != http.StatusConflict {
		t.Fatalf("incomplete submit = %d", w.Code)
	}
	doc = parsePage(t, w)
	if msg := find(doc, tag("p", "role", "alert")); msg == nil || !strings.Contains(textOf(msg), "veredicto") {
		t.Errorf("error message %q", textOf(msg))
	}
	if ta := find(doc, byID("obs-tono")); ta == nil || textOf(ta) != "a medio escribir" {
		t.Errorf("typed observation lost: %q", textOf(ta))
	}
	// A moment that is not a number: 400, nothing saved.
	bad := completeForm("c2")
	bad.Set("at-tono", "doce")
	if w := e.post("tecnico", "/evaluacion/borrador", bad); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "número de segundos") {
		t.Errorf("bad moment = %d", w.Code)
	}

	// The submission.
	if w := e.post("tecnico", "/evaluacion/enviar", completeForm("c2")); w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "hecho=enviada") {
		t.Fatalf("submit = %d %s", w.Code, w.Body)
	}
	doc = page("tecnico")
	if find(doc, byID("eval-form")) != nil {
		t.Fatal("a submitted evaluation still has the draft form")
	}
	if s := find(doc, byID("evaluation")); attrOf(s, "data-status") != "submitted" || attrOf(s, "data-revision") != "1" {
		t.Errorf("#evaluation status %q revision %q", attrOf(s, "data-status"), attrOf(s, "data-revision"))
	}
	rows := within(doc, byID("eval-result"), tag("tr", "data-point", ""))
	if len(rows) != 7 {
		t.Fatalf("%d answer rows", len(rows))
	}
	if tono := find(find(doc, byID("eval-result")), tag("tr", "data-point", "tono")); attrOf(tono, "data-verdict") != "no_cumple" || !strings.Contains(textOf(tono), "Tono brusco") {
		t.Errorf("tono row %q", textOf(tono))
	} else if b := find(tono, tag("button", "data-seek", "12.500")); b == nil {
		t.Error("tono's moment is not a seek button at 12.5 s")
	}
	if revs := within(doc, byID("eval-result"), tag("tr", "data-revision", "")); len(revs) != 1 {
		t.Errorf("%d revisions, want 1", len(revs))
	}
	if find(doc, byID("revise-form")) == nil || find(doc, byID("resolve-form")) != nil {
		t.Error("técnico: want the revision form and no resolve form")
	}
	// The jefe reads it and may not revise it.
	if jd := page("jefe"); find(jd, byID("revise-form")) != nil || find(jd, byID("eval-form")) != nil {
		t.Error("the jefe sees the técnico's forms")
	}

	// A revision without reason is refused on the page; with one it is
	// revision 2.
	rev := completeForm("c2")
	rev.Set("verdict-tono", "cumple")
	if w := e.post("tecnico", "/evaluacion/revision", rev); w.Code != http.StatusBadRequest {
		t.Fatalf("revision without reason = %d", w.Code)
	} else if d := parsePage(t, w); find(d, tag("details", "open", "")) == nil {
		t.Error("the revision form is not open after its error")
	}
	rev.Set("reason", "Se volvió a escuchar: el tono fue correcto")
	if w := e.post("tecnico", "/evaluacion/revision", rev); w.Code != http.StatusSeeOther {
		t.Fatalf("revision = %d %s", w.Code, w.Body)
	}
	doc = page("tecnico")
	if s := find(doc, byID("evaluation")); attrOf(s, "data-revision") != "2" {
		t.Errorf("revision %q, want 2", attrOf(s, "data-revision"))
	}
	if r2 := find(doc, tag("tr", "data-revision", "2")); r2 == nil || !strings.Contains(textOf(r2), "el tono fue correcto") {
		t.Error("revision 2 without its reason")
	}

	for action, want := range map[string]int{ActionEvaluationOpen: 1, ActionEvaluationDraft: 1, ActionEvaluationSubmit: 1, ActionEvaluationRevise: 1} {
		if got := e.auth.count(action); got != want {
			t.Errorf("%d audit entries %s, want %d", got, action, want)
		}
	}
}

// TestConsoleEvalRefusals: who may post which form (the operations
// decide: 403 page), an unknown or unsampled call (404), and a failing
// audit (503 on the page, the step not reported as done).
func TestConsoleEvalRefusals(t *testing.T) {
	e := newCPEnv(t)
	open := url.Values{"m": {procMonth}, "id": {"c1"}}
	for _, user := range []string{"jefe", "admin"} {
		if w := e.post(user, "/evaluacion/abrir", open); w.Code != http.StatusForbidden {
			t.Errorf("%s open = %d, want 403", user, w.Code)
		}
	}
	if w := e.post("recep201", "/evaluacion/abrir", open); w.Code != http.StatusForbidden {
		t.Errorf("receptionist open = %d", w.Code)
	}
	if n := e.evals.called("Open"); n != 0 {
		t.Errorf("refused opens reached the service %d times", n)
	}
	if w := e.do("GET", evalURL(procMonth, "zz9"), nil, e.as("tecnico")); w.Code != http.StatusNotFound {
		t.Errorf("unsampled call = %d", w.Code)
	}
	if w := e.post("tecnico", "/evaluacion/borrador", completeForm("c1")); w.Code != http.StatusNotFound {
		t.Errorf("draft of an unopened call = %d", w.Code)
	}
	e.auth.setAuditErr(errFakeDown)
	w := e.post("tecnico", "/evaluacion/abrir", open)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "auditoría") {
		t.Errorf("open with audit down = %d", w.Code)
	}
	e.auth.setAuditErr(nil)
	// Once the month's report is submitted the evaluations are locked:
	// no form is offered.
	for _, id := range cpCallIDs {
		e.submitEval(t, id)
	}
	if _, err := e.review.SaveConclusions(t.Context(), procMonth, "tecnico", "Bien"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.review.Submit(t.Context(), procMonth, "tecnico"); err != nil {
		t.Fatal(err)
	}
	doc := parsePage(t, e.do("GET", evalURL(procMonth, "c1"), nil, e.as("tecnico")))
	if find(doc, byID("revise-form")) != nil {
		t.Error("a locked month offers the revision form")
	}
}

// TestParseAt: the moments a form accepts.
func TestParseAt(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		none bool
		ok   bool
	}{
		{"", 0, true, true}, {"  ", 0, true, true}, {"12,5", 12.5, false, true}, {"12.5", 12.5, false, true},
		{"0", 0, false, true}, {"-1", 0, true, false}, {"doce", 0, true, false}, {"NaN", 0, true, false},
		{"Inf", 0, true, false}, {"1e3", 1000, false, true},
	}
	for _, tt := range tests {
		got, ok := parseAt(tt.in)
		if ok != tt.ok || (got == nil) != tt.none || (got != nil && *got != tt.want) {
			t.Errorf("parseAt(%q) = %v, %v", tt.in, got, ok)
		}
	}
}

// FuzzPostedAnswers: a posted form never breaks the reader: each answer
// is one of the form's points with a known verdict and a moment ≥ 0.
func FuzzPostedAnswers(f *testing.F) {
	f.Add("cumple", "12,5", "obs")
	f.Add("no_cumple", "", "")
	f.Add("x", "-3", "\xff")
	f.Add("", "1e400", "ñ")
	form, _ := report.FormByVersion(report.CurrentForm)
	f.Fuzz(func(t *testing.T, verdict, at, obs string) {
		v := url.Values{}
		for _, pt := range form.Points {
			v.Set("verdict-"+pt.ID, verdict)
			v.Set("at-"+pt.ID, at)
			v.Set("obs-"+pt.ID, obs)
		}
		as, err := postedAnswers(form, nil, v)
		if err != nil {
			return
		}
		if len(as) != len(form.Points) {
			t.Fatalf("%d answers for %d points", len(as), len(form.Points))
		}
		for i, a := range as {
			if a.Point != form.Points[i].ID {
				t.Fatalf("answer %d is %q", i, a.Point)
			}
			switch a.Verdict {
			case report.VerdictPending, report.VerdictCumple, report.VerdictNoCumple, report.VerdictNoAplica:
			default:
				t.Fatalf("verdict %q accepted", a.Verdict)
			}
			if a.AtSeconds != nil && !(*a.AtSeconds >= 0) {
				t.Fatalf("moment %v accepted", *a.AtSeconds)
			}
		}
	})
}
