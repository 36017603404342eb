package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/switchtap/switchtap/report"
)

// TestConsoleMine: a receptionist's page: only their own submitted
// evaluations, read only; "Reconozco" and "Disputar" (comment required);
// the dispute seen and resolved by the técnico and the jefe; their
// actions with "Leído"; and the office's pages refused.
func TestConsoleMine(t *testing.T) {
	e := newCPEnv(t)
	e.submitEval(t, "c1")
	e.submitEval(t, "c3")
	if w := e.post("tecnico", "/evaluacion/abrir", url.Values{"m": {procMonth}, "id": {"c2"}}); w.Code != http.StatusSeeOther {
		t.Fatal(w.Code)
	}
	mine := func(user string) *html.Node {
		t.Helper()
		w := e.do("GET", "/mias?m="+procMonth, nil, e.as(user))
		if w.Code != http.StatusOK {
			t.Fatalf("mias as %s = %d %s", user, w.Code, w.Body)
		}
		doc := parsePage(t, w)
		assertNoInline(t, doc)
		return doc
	}
	doc := mine("recep201")
	evs := within(doc, byID("evaluaciones"), tag("article", "data-id", ""))
	if len(evs) != 1 || attrOf(evs[0], "data-id") != "c1" {
		t.Fatalf("recep201 sees %d evaluations (want only c1, c2 is a draft, c3 is 202's)", len(evs))
	}
	if tono := find(evs[0], tag("tr", "data-point", "tono")); attrOf(tono, "data-verdict") != "no_cumple" || !strings.Contains(textOf(tono), "Tono brusco") {
		t.Errorf("tono %q", textOf(tono))
	}
	if find(evs[0], tag("input", "type", "radio")) != nil || find(evs[0], tag("form", "action", "/evaluacion/revision")) != nil {
		t.Error("the receptionist's view is not read only")
	}
	if find(evs[0], tag("button", "class", "ack")) == nil || find(evs[0], tag("button", "class", "dispute")) == nil {
		t.Fatal("no Reconozco / Disputar")
	}
	if d := mine("recep202"); len(within(d, byID("evaluaciones"), tag("article", "data-id", "c3"))) != 1 || find(d, tag("article", "data-id", "c1")) != nil {
		t.Error("recep202 does not see exactly c3")
	}
	if d := mine("recepnadie"); find(d, byID("no-operator")) == nil {
		t.Error("an account tied to no receptionist is not told so")
	}

	// Another's call is not found; a dispute needs a comment.
	if w := e.post("recep202", "/mias/reconocer", url.Values{"m": {procMonth}, "id": {"c1"}}); w.Code != http.StatusNotFound {
		t.Errorf("ack of another's = %d", w.Code)
	}
	if w := e.post("recep201", "/mias/disputar", url.Values{"m": {procMonth}, "id": {"c1"}}); w.Code != http.StatusBadRequest {
		t.Errorf("dispute without comment = %d", w.Code)
	}
	w := e.post("recep201", "/mias/disputar", url.Values{"m": {procMonth}, "id": {"c1"}, "comment": {"El tono fue el de siempre"}})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "#ev-c1") {
		t.Fatalf("dispute = %d %q", w.Code, w.Header().Get("Location"))
	}
	doc = mine("recep201")
	ev := find(doc, tag("article", "data-id", "c1"))
	if attrOf(ev, "data-status") != "disputed" || find(ev, tag("button", "class", "ack")) != nil {
		t.Errorf("after the dispute: %q, forms shown=%v", attrOf(ev, "data-status"), find(ev, tag("button", "class", "ack")) != nil)
	}
	if e.auth.count(ActionEvaluationDispute) != 1 {
		t.Error("dispute not audited")
	}

	// The técnico and the jefe see the comment and the resolve form.
	for _, user := range []string{"tecnico", "jefe"} {
		d := parsePage(t, e.do("GET", evalURL(procMonth, "c1"), nil, e.as(user)))
		if a := find(d, func(n *html.Node) bool { return hasClass(n, "ack") }); attrOf(a, "data-ack") != "disputed" || !strings.Contains(textOf(a), "El tono fue el de siempre") {
			t.Errorf("%s: dispute %q", user, textOf(a))
		}
		if find(d, byID("resolve-form")) == nil {
			t.Errorf("%s: no resolve form", user)
		}
	}
	if w := e.post("jefe", "/evaluacion/resolver", url.Values{"m": {procMonth}, "id": {"c1"}}); w.Code != http.StatusBadRequest {
		t.Errorf("resolve without resolution = %d", w.Code)
	}
	res := completeForm("c1")
	res.Set("verdict-tono", "cumple")
	res.Set("change", "1")
	res.Set("resolution", "Se acepta: el tono fue correcto")
	if w := e.post("jefe", "/evaluacion/resolver", res); w.Code != http.StatusSeeOther {
		t.Fatalf("resolve = %d %s", w.Code, w.Body)
	}
	d := parsePage(t, e.do("GET", evalURL(procMonth, "c1"), nil, e.as("tecnico")))
	if s := find(d, byID("evaluation")); attrOf(s, "data-status") != "resolved" || attrOf(s, "data-revision") != "2" {
		t.Errorf("after the resolution: %q revision %q", attrOf(s, "data-status"), attrOf(s, "data-revision"))
	}
	if find(d, byID("resolve-form")) != nil {
		t.Error("a resolved dispute still offers the form")
	}
	// The new revision can be answered again.
	if ev := find(mine("recep201"), tag("article", "data-id", "c1")); find(ev, tag("button", "class", "ack")) == nil {
		t.Error("the corrected revision cannot be acknowledged")
	}
	if w := e.post("recep201", "/mias/reconocer", url.Values{"m": {procMonth}, "id": {"c1"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("ack = %d", w.Code)
	}
	if ev := find(mine("recep201"), tag("article", "data-id", "c1")); attrOf(ev, "data-status") != "acknowledged" {
		t.Errorf("after the ack %q", attrOf(ev, "data-status"))
	}

	// Actions: to 201 and to everyone, each read once.
	for _, id := range []string{"c2"} {
		if w := e.post("tecnico", "/evaluacion/enviar", completeForm(id)); w.Code != http.StatusSeeOther {
			t.Fatal(w.Code)
		}
	}
	for _, step := range []func() (report.Review, error){
		func() (report.Review, error) {
			return e.review.SaveConclusions(t.Context(), procMonth, "tecnico", "Bien")
		},
		func() (report.Review, error) { return e.review.Submit(t.Context(), procMonth, "tecnico") },
		func() (report.Review, error) { return e.review.Approve(t.Context(), procMonth, "jefe") },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	for _, to := range []string{"201", report.ToEveryone, "202"} {
		if _, err := e.review.AddAction(t.Context(), report.ActionRequest{Month: procMonth, By: "jefe", To: to, Instruction: "Instrucción para " + to,
			Indicator: report.Indicator{Kind: report.IndicatorServiceLevelPct}, DueDate: "2027-01-31"}); err != nil {
			t.Fatal(err)
		}
	}
	doc = mine("recep201")
	rows := within(doc, byID("my-actions"), tag("tr", "data-action", ""))
	if len(rows) != 2 {
		t.Fatalf("recep201 sees %d actions, want 2 (its own and everyone's)", len(rows))
	}
	if w := e.post("recep201", "/mias/acciones/a3/leido", url.Values{"m": {procMonth}}); w.Code != http.StatusNotFound {
		t.Errorf("reading 202's action = %d", w.Code)
	}
	if w := e.post("recep201", "/mias/acciones/a2/leido", url.Values{"m": {procMonth}}); w.Code != http.StatusSeeOther {
		t.Fatalf("read = %d %s", w.Code, w.Body)
	}
	if r := find(mine("recep201"), tag("tr", "data-action", "a2")); find(r, tag("button", "class", "ack-action")) != nil || !strings.Contains(textOf(r), "Leída") {
		t.Errorf("a2 after reading %q", textOf(r))
	}
	if e.auth.count(ActionCorrectiveAck) != 1 {
		t.Error("read not audited")
	}

	// The office's pages are not theirs; the office cannot use theirs.
	for _, path := range []string{"/evaluacion", "/informe", "/acciones", "/calendario", "/envivo", "/mes", "/muestra"} {
		if w := e.do("GET", path, nil, e.as("recep201")); w.Code != http.StatusForbidden {
			t.Errorf("recep201 GET %s = %d", path, w.Code)
		}
	}
	if w := e.do("GET", "/mias", nil, e.as("tecnico")); w.Code != http.StatusForbidden {
		t.Errorf("técnico /mias = %d", w.Code)
	}
	if w := e.do("GET", "/", nil, e.as("recep201")); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/mias" {
		t.Errorf("receptionist's home = %d %q", w.Code, w.Header().Get("Location"))
	}
	if w := e.do("GET", "/cuenta", nil, e.as("recep201")); w.Code != http.StatusOK {
		t.Errorf("receptionist's account page = %d", w.Code)
	}
	if w := e.do("GET", "/llamadas/c3", nil, e.as("recep201")); w.Code != http.StatusNotFound {
		t.Errorf("another receptionist's call detail = %d, want 404", w.Code)
	}
	if w := e.do("GET", "/llamadas/c1", nil, e.as("recep201")); w.Code != http.StatusOK {
		t.Errorf("own call detail = %d", w.Code)
	}
}

// TestConsoleProcedureNav: the menu of each role: the procedure's
// entries for the office by what each may do, and only their own pages
// for a receptionist.
func TestConsoleProcedureNav(t *testing.T) {
	e := newCPEnv(t)
	all := []string{"/envivo", "/llamadas", "/estado", "/mes", "/muestra", "/evaluacion", "/informe", "/acciones", "/calendario", "/mias#evaluaciones", "/mias#acciones", "/cuenta"}
	tests := []struct {
		user string
		path string
		want []string
	}{
		{"tecnico", "/informe", []string{"/envivo", "/llamadas", "/estado", "/mes", "/muestra", "/evaluacion", "/informe", "/acciones", "/calendario", "/cuenta"}},
		{"jefe", "/informe", []string{"/envivo", "/llamadas", "/estado", "/mes", "/muestra", "/evaluacion", "/informe", "/acciones", "/calendario", "/cuenta"}},
		{"admin", "/informe", []string{"/envivo", "/llamadas", "/estado", "/mes", "/muestra", "/informe", "/calendario", "/cuenta"}},
		{"recep201", "/mias", []string{"/llamadas", "/mias#evaluaciones", "/mias#acciones", "/cuenta"}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			w := e.do("GET", tt.path, nil, e.as(tt.user))
			if w.Code != http.StatusOK {
				t.Fatalf("%s = %d", tt.path, w.Code)
			}
			nav := find(parsePage(t, w), tag("nav", "aria-label", "Secciones"))
			for _, href := range all {
				if got := find(nav, tag("a", "href", href)) != nil; got != contains(tt.want, href) {
					t.Errorf("link %s shown=%v", href, got)
				}
			}
		})
	}
	// Without the services the entries and pages are not there.
	plain := newTestEnv(t)
	nav := find(parsePage(t, plain.do("GET", "/envivo", nil, plain.as("jefe"))), tag("nav", "aria-label", "Secciones"))
	for _, href := range []string{"/evaluacion", "/informe", "/acciones", "/calendario"} {
		if find(nav, tag("a", "href", href)) != nil {
			t.Errorf("%s offered without its service", href)
		}
		if w := plain.do("GET", href, nil, plain.as("jefe")); w.Code != http.StatusNotFound {
			t.Errorf("%s without its service = %d", href, w.Code)
		}
	}
}
