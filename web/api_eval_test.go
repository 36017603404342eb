package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/report"
)

// auditAtHeader records the audit log as it stood when the response was
// started: an entry written after the answer would be missing from it.
type auditAtHeader struct {
	*httptest.ResponseRecorder
	auth     *fakeAuth
	atHeader []AuditEntry
	started  bool
}

func (w *auditAtHeader) WriteHeader(code int) {
	if !w.started {
		w.started = true
		w.atHeader = w.auth.entries()
	}
	w.ResponseRecorder.WriteHeader(code)
}

func (w *auditAtHeader) Write(b []byte) (int, error) {
	if !w.started {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseRecorder.Write(b)
}

// send serves a request as who: an account's session, "socket" for the
// local socket's peer (uid 1000), "" for nobody. It returns the response
// and the audit log as it was when the answer started.
func (pe *procEnv) send(method, path, body, who string) (*httptest.ResponseRecorder, []AuditEntry) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	w := &auditAtHeader{ResponseRecorder: httptest.NewRecorder(), auth: pe.auth}
	if who == "socket" {
		r := httptest.NewRequest(method, path, rd)
		r = r.WithContext(WithPeer(r.Context(), 1000))
		pe.local.ServeHTTP(w, r)
	} else {
		pe.handler.ServeHTTP(w, pe.request(method, path, rd, pe.as(who)))
	}
	return w.ResponseRecorder, w.atHeader
}

// procStep is one request of a workflow and what it must leave: the
// status, and the audit entry written before the answer (action "" for
// none: then no entry may have been added).
type procStep struct {
	name, method, path, body, who string
	code                          int
	action, target, detail        string
}

// run plays steps in order.
func (pe *procEnv) run(t *testing.T, steps []procStep) {
	t.Helper()
	for _, st := range steps {
		before := len(pe.auth.entries())
		w, atHeader := pe.send(st.method, st.path, st.body, st.who)
		if w.Code != st.code {
			t.Fatalf("%s: %s %s as %q = %d %s, want %d", st.name, st.method, st.path, st.who, w.Code, w.Body, st.code)
		}
		after := pe.auth.entries()
		if st.action == "" {
			if len(after) != before {
				t.Fatalf("%s: audited %+v", st.name, after[before:])
			}
			continue
		}
		if len(after) != before+1 {
			t.Fatalf("%s: %d audit entries written, want 1", st.name, len(after)-before)
		}
		got := after[before]
		actor := st.who
		if actor == "socket" {
			actor = "local:1000"
		}
		if got.Action != st.action || got.Target != st.target || !strings.Contains(got.Detail, st.detail) || got.Actor != actor {
			t.Fatalf("%s: audit %+v, want %s %q by %s with %q", st.name, got, st.action, st.target, actor, st.detail)
		}
		if len(atHeader) != before+1 {
			t.Fatalf("%s: the audit entry was written after the answer started", st.name)
		}
	}
}

// answersJSON is a complete set of answers, every conversational point
// with verdict v.
func answersJSON(v report.Verdict) string {
	form, _ := report.FormByVersion(report.CurrentForm)
	var parts []string
	for _, p := range form.Points {
		if !p.Auto {
			parts = append(parts, `{"point":"`+p.ID+`","verdict":"`+string(v)+`"}`)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

const evBase = "/api/v1/months/2026-11/evaluations"

// TestAPIEvaluationWorkflow walks an evaluation from open to a resolved
// dispute: who may take each step, each state's refusals, and the audit
// entry of every step, written before the answer.
func TestAPIEvaluationWorkflow(t *testing.T) {
	pe := newProcEnv(t)
	c1 := evBase + "/c1"
	tgt := "evaluacion 2026-11/c1"
	pe.run(t, []procStep{
		{name: "receptionist may not open", method: "POST", path: c1, who: "recep201", code: 403},
		{name: "jefe may not open", method: "POST", path: c1, who: "jefe", code: 403},
		{name: "admin may not open", method: "POST", path: c1, who: "admin", code: 403},
		{name: "anonymous", method: "POST", path: c1, who: "", code: 401},
		{name: "not sampled", method: "POST", path: evBase + "/c9", who: "tecnico", code: 404},
		{name: "bad month", method: "POST", path: "/api/v1/months/2026-13/evaluations/c1", who: "tecnico", code: 400},
		{name: "no sample", method: "POST", path: "/api/v1/months/2026-10/evaluations/c1", who: "tecnico", code: 404},
		{name: "nothing to read yet", method: "GET", path: c1, who: "tecnico", code: 404},
		{name: "open creates", method: "POST", path: c1, who: "tecnico", code: 200,
			action: ActionEvaluationOpen, target: tgt, detail: "recepcionista=201 formulario=anexo1-v1"},
		{name: "open again changes nothing", method: "POST", path: c1, who: "tecnico", code: 200},
		{name: "empty draft not audited", method: "PUT", path: c1 + "/draft", body: `{"answers":[]}`, who: "tecnico", code: 200},
		{name: "measured point alone not audited", method: "PUT", path: c1 + "/draft", body: `{"answers":[{"point":"inmediatez","verdict":"no_cumple"}]}`, who: "tecnico", code: 200},
		{name: "first answer audited", method: "PUT", path: c1 + "/draft", body: `{"answers":[{"point":"saludo","verdict":"cumple","observation":"se identificó"}]}`, who: "tecnico", code: 200,
			action: ActionEvaluationDraft, target: tgt, detail: "primer guardado: inmediatez=cumple saludo=cumple tono=pendiente"},
		{name: "later saves not audited", method: "PUT", path: c1 + "/draft", body: `{"answers":[{"point":"tono","verdict":"no_cumple"}]}`, who: "tecnico", code: 200},
		{name: "jefe may not save", method: "PUT", path: c1 + "/draft", body: `{"answers":[]}`, who: "jefe", code: 403},
		{name: "unknown point", method: "PUT", path: c1 + "/draft", body: `{"answers":[{"point":"sonrisa","verdict":"cumple"}]}`, who: "tecnico", code: 400},
		{name: "unknown verdict", method: "PUT", path: c1 + "/draft", body: `{"answers":[{"point":"tono","verdict":"quizá"}]}`, who: "tecnico", code: 400},
		{name: "moment past the end", method: "PUT", path: c1 + "/draft", body: `{"answers":[{"point":"tono","verdict":"cumple","at_seconds":61}]}`, who: "tecnico", code: 400},
		{name: "not JSON", method: "PUT", path: c1 + "/draft", body: `{answers`, who: "tecnico", code: 400},
		{name: "no body", method: "PUT", path: c1 + "/draft", who: "tecnico", code: 400},
		{name: "incomplete submit", method: "POST", path: c1 + "/submit", who: "tecnico", code: 409},
		{name: "receptionist does not see a draft", method: "GET", path: c1, who: "recep201", code: 404},
		{name: "complete the draft", method: "PUT", path: c1 + "/draft", body: `{"answers":` + answersJSON(report.VerdictCumple) + `}`, who: "tecnico", code: 200},
		{name: "revise a draft", method: "POST", path: c1 + "/revise", body: `{"reason":"x","answers":` + answersJSON(report.VerdictCumple) + `}`, who: "tecnico", code: 409},
		{name: "receptionist may not submit", method: "POST", path: c1 + "/submit", who: "recep201", code: 403},
		{name: "submit", method: "POST", path: c1 + "/submit", who: "tecnico", code: 200,
			action: ActionEvaluationSubmit, target: tgt, detail: "revision=1 inmediatez=cumple saludo=cumple"},
		{name: "submit twice", method: "POST", path: c1 + "/submit", who: "tecnico", code: 409},
		{name: "draft after submit", method: "PUT", path: c1 + "/draft", body: `{"answers":[]}`, who: "tecnico", code: 409},
		{name: "revise without reason", method: "POST", path: c1 + "/revise", body: `{"answers":` + answersJSON(report.VerdictCumple) + `}`, who: "tecnico", code: 400},
		{name: "revise", method: "POST", path: c1 + "/revise", body: `{"reason":"escuché de nuevo","answers":` + answersJSON(report.VerdictNoCumple) + `}`, who: "tecnico", code: 200,
			action: ActionEvaluationRevise, target: tgt, detail: `revision=2 motivo="escuché de nuevo" inmediatez=cumple saludo=no_cumple`},
		{name: "another receptionist does not see it", method: "GET", path: c1, who: "recep202", code: 404},
		{name: "another receptionist may not ack", method: "POST", path: c1 + "/ack", body: `{}`, who: "recep202", code: 404},
		{name: "an untied account sees nothing", method: "POST", path: c1 + "/ack", who: "recepnadie", code: 404},
		{name: "técnico may not ack", method: "POST", path: c1 + "/ack", who: "tecnico", code: 403},
		{name: "own receptionist reads it", method: "GET", path: c1, who: "recep201", code: 200},
		{name: "dispute without comment", method: "POST", path: c1 + "/ack", body: `{"dispute":true}`, who: "recep201", code: 400},
		{name: "dispute", method: "POST", path: c1 + "/ack", body: `{"dispute":true,"comment":"sí me identifiqué"}`, who: "recep201", code: 200,
			action: ActionEvaluationDispute, target: tgt, detail: `revision=2 recepcionista=201 comentario="sí me identifiqué"`},
		{name: "receptionist may not resolve", method: "POST", path: c1 + "/resolve", body: `{"resolution":"x"}`, who: "recep201", code: 403},
		{name: "admin may not resolve", method: "POST", path: c1 + "/resolve", body: `{"resolution":"x"}`, who: "admin", code: 403},
		{name: "resolve without resolution", method: "POST", path: c1 + "/resolve", body: `{"answers":null}`, who: "jefe", code: 400},
		{name: "jefe resolves with a change", method: "POST", path: c1 + "/resolve", body: `{"resolution":"tiene razón","answers":` + answersJSON(report.VerdictCumple) + `}`, who: "jefe", code: 200,
			action: ActionEvaluationResolve, target: tgt, detail: `revision=3 cambio=true resolucion="tiene razón" inmediatez=cumple saludo=cumple`},
		{name: "nothing left to resolve", method: "POST", path: c1 + "/resolve", body: `{"resolution":"otra vez"}`, who: "tecnico", code: 409},
		{name: "acknowledge the resolution", method: "POST", path: c1 + "/ack", who: "recep201", code: 200,
			action: ActionEvaluationAck, target: tgt, detail: "revision=3 recepcionista=201"},
	})
	var ev report.Evaluation
	w, _ := pe.send("GET", c1, "", "jefe")
	if err := json.Unmarshal(w.Body.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Revision != 3 || len(ev.Revisions) != 3 || !ev.Revisions[2].Dispute || ev.Ack == nil || ev.Ack.State != report.AckAcknowledged {
		t.Fatalf("evaluation after the workflow: %s", w.Body)
	}
}

// TestAPIEvalResolveKeeps: a resolution without answers keeps the
// evaluation and is audited as no change.
func TestAPIEvalResolveKeeps(t *testing.T) {
	pe := newProcEnv(t)
	c3 := evBase + "/c3"
	pe.run(t, []procStep{
		{name: "open", method: "POST", path: c3, who: "socket", code: 200, action: ActionEvaluationOpen, target: "evaluacion 2026-11/c3", detail: "recepcionista=202"},
		{name: "draft", method: "PUT", path: c3 + "/draft", body: `{"answers":` + answersJSON(report.VerdictNoAplica) + `}`, who: "socket", code: 200,
			action: ActionEvaluationDraft, target: "evaluacion 2026-11/c3", detail: "saludo=no_aplica"},
		{name: "socket submits", method: "POST", path: c3 + "/submit", who: "socket", code: 200, action: ActionEvaluationSubmit, target: "evaluacion 2026-11/c3", detail: "revision=1"},
		{name: "dispute", method: "POST", path: c3 + "/ack", body: `{"dispute":true,"comment":"no"}`, who: "recep202", code: 200, action: ActionEvaluationDispute, target: "evaluacion 2026-11/c3", detail: "recepcionista=202"},
		{name: "socket may not dispute", method: "POST", path: c3 + "/ack", body: `{}`, who: "socket", code: 403},
		{name: "resolve, no change", method: "POST", path: c3 + "/resolve", body: `{"resolution":"se mantiene","answers":null}`, who: "tecnico", code: 200,
			action: ActionEvaluationResolve, target: "evaluacion 2026-11/c3", detail: `revision=1 cambio=false resolucion="se mantiene"`},
	})
}

// TestAPIEvalList: the técnico and the jefe list every evaluation, a
// receptionist only the submitted ones of their own calls, an untied
// account none, the admin is refused.
func TestAPIEvalList(t *testing.T) {
	pe := newProcEnv(t)
	for _, id := range []string{"c1", "c2", "c3"} {
		if w, _ := pe.send("POST", evBase+"/"+id, "", "tecnico"); w.Code != 200 {
			t.Fatalf("open %s = %d", id, w.Code)
		}
	}
	for _, id := range []string{"c1", "c3"} {
		pe.send("PUT", evBase+"/"+id+"/draft", `{"answers":`+answersJSON(report.VerdictCumple)+`}`, "tecnico")
		if w, _ := pe.send("POST", evBase+"/"+id+"/submit", "", "tecnico"); w.Code != 200 {
			t.Fatalf("submit %s = %d %s", id, w.Code, w.Body)
		}
	}
	cases := []struct {
		who  string
		code int
		ids  []string
	}{
		{"tecnico", 200, []string{"c1", "c2", "c3"}},
		{"jefe", 200, []string{"c1", "c2", "c3"}},
		{"socket", 200, []string{"c1", "c2", "c3"}},
		{"recep201", 200, []string{"c1"}}, // c2 is a draft
		{"recep202", 200, []string{"c3"}},
		{"recepnadie", 200, []string{}},
		{"admin", 403, nil},
	}
	for _, c := range cases {
		w, _ := pe.send("GET", evBase, "", c.who)
		if w.Code != c.code {
			t.Fatalf("%s: list = %d %s", c.who, w.Code, w.Body)
		}
		if c.code != 200 {
			continue
		}
		var evs []report.Evaluation
		if err := json.Unmarshal(w.Body.Bytes(), &evs); err != nil || evs == nil {
			t.Fatalf("%s: %s (%v)", c.who, w.Body, err)
		}
		ids := []string{}
		for _, ev := range evs {
			ids = append(ids, ev.ID)
		}
		if !slices.Equal(ids, c.ids) {
			t.Errorf("%s sees %v, want %v", c.who, ids, c.ids)
		}
	}
	if w, _ := pe.send("GET", "/api/v1/months/nov/evaluations", "", "tecnico"); w.Code != 400 {
		t.Errorf("bad month = %d", w.Code)
	}
	if n := pe.evals.called("List"); n != 5 {
		t.Errorf("List called %d times, want 5 (not for the untied account nor the admin)", n)
	}
}

// TestAPIForms: every role reads the forms.
func TestAPIForms(t *testing.T) {
	pe := newProcEnv(t)
	for _, who := range []string{"tecnico", "jefe", "admin", "recep201", "recepnadie", "socket"} {
		w, _ := pe.send("GET", "/api/v1/forms", "", who)
		var forms []report.Form
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &forms) != nil || len(forms) == 0 || forms[0].Version != report.FormAnexo1V1 || len(forms[0].Points) != 7 {
			t.Errorf("%s: forms = %d %s", who, w.Code, w.Body)
		}
	}
	if w, _ := pe.send("GET", "/api/v1/forms", "", ""); w.Code != 401 {
		t.Errorf("anonymous forms = %d", w.Code)
	}
}

// TestAPIEvalAuditDown: with the audit log down every audited step is
// refused with 503 and its answer carries no evaluation.
func TestAPIEvalAuditDown(t *testing.T) {
	pe := newProcEnv(t)
	c1, c2 := evBase+"/c1", evBase+"/c2"
	// c2 is prepared up to submission, c1 only opened.
	pe.send("POST", c2, "", "tecnico")
	pe.send("PUT", c2+"/draft", `{"answers":`+answersJSON(report.VerdictCumple)+`}`, "tecnico")
	pe.send("POST", c2+"/submit", "", "tecnico")
	pe.send("POST", evBase+"/c3", "", "tecnico")
	pe.auth.setAuditErr(errFakeDown)
	steps := []struct{ name, method, path, body, who string }{
		{"open", "POST", c1, "", "tecnico"},
		{"first draft", "PUT", evBase + "/c3/draft", `{"answers":[{"point":"saludo","verdict":"cumple"}]}`, "tecnico"},
		{"revise", "POST", c2 + "/revise", `{"reason":"r","answers":` + answersJSON(report.VerdictNoCumple) + `}`, "tecnico"},
		{"ack", "POST", c2 + "/ack", `{"dispute":true,"comment":"no"}`, "recep201"},
	}
	for _, st := range steps {
		w, _ := pe.send(st.method, st.path, st.body, st.who)
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), `"month"`) {
			t.Errorf("%s with the audit down = %d %s", st.name, w.Code, w.Body)
		}
	}
	// A draft save that is not audited goes on.
	pe.auth.setAuditErr(nil)
	pe.send("PUT", evBase+"/c3/draft", `{"answers":[{"point":"tono","verdict":"cumple"}]}`, "tecnico")
	pe.auth.setAuditErr(errFakeDown)
	if w, _ := pe.send("PUT", evBase+"/c3/draft", `{"answers":[{"point":"concision","verdict":"cumple"}]}`, "tecnico"); w.Code != 200 {
		t.Errorf("a later draft save with the audit down = %d", w.Code)
	}
}

// TestAPIEvalServiceDown: a failing service is a 500 without its cause.
func TestAPIEvalServiceDown(t *testing.T) {
	pe := newProcEnv(t)
	pe.evals.err = errFakeDown
	w, _ := pe.send("GET", evBase, "", "tecnico")
	if w.Code != 500 || strings.Contains(w.Body.String(), "fake") {
		t.Fatalf("service down = %d %s", w.Code, w.Body)
	}
}
