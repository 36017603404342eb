package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/report"
)

const rvBase = "/api/v1/months/2026-11/review"

// submitAll evaluates and submits every sampled call of the month.
func (pe *procEnv) submitAll(t testing.TB) {
	t.Helper()
	for _, id := range []string{"c1", "c2", "c3"} {
		pe.send("POST", evBase+"/"+id, "", "tecnico")
		pe.send("PUT", evBase+"/"+id+"/draft", `{"answers":`+answersJSON(report.VerdictCumple)+`}`, "tecnico")
		if w, _ := pe.send("POST", evBase+"/"+id+"/submit", "", "tecnico"); w.Code != 200 {
			t.Fatalf("submit %s = %d %s", id, w.Code, w.Body)
		}
	}
}

// TestAPIReviewWorkflow: conclusions, a submission refused while calls
// are pending, submitted, returned with observations, evaluations locked
// while submitted, resubmitted, approved; who may take each step and the
// audit of each.
func TestAPIReviewWorkflow(t *testing.T) {
	pe := newProcEnv(t)
	tgt := "informe 2026-11"
	pe.run(t, []procStep{
		{name: "read the draft review", method: "GET", path: rvBase, who: "admin", code: 200},
		{name: "receptionist may not read", method: "GET", path: rvBase, who: "recep201", code: 403},
		{name: "jefe may not write conclusions", method: "PUT", path: rvBase + "/conclusions", body: `{"conclusions":"x"}`, who: "jefe", code: 403},
		{name: "conclusions", method: "PUT", path: rvBase + "/conclusions", body: `{"conclusions":"Se cumplió el protocolo."}`, who: "tecnico", code: 200,
			action: ActionReportConclusions, target: tgt, detail: "caracteres=24"},
		{name: "conclusions too long", method: "PUT", path: rvBase + "/conclusions", body: `{"conclusions":"` + strings.Repeat("a", maxConclusionsLen+1) + `"}`, who: "tecnico", code: 400},
		{name: "pending evaluations", method: "POST", path: rvBase + "/submit", who: "tecnico", code: 409},
		{name: "jefe may not approve a draft", method: "POST", path: rvBase + "/approve", who: "jefe", code: 409},
	})
	pe.submitAll(t)
	pe.run(t, []procStep{
		{name: "jefe may not submit", method: "POST", path: rvBase + "/submit", who: "jefe", code: 403},
		{name: "submit", method: "POST", path: rvBase + "/submit", who: "tecnico", code: 200,
			action: ActionReportSubmit, target: tgt, detail: "ronda=1"},
		{name: "evaluations locked", method: "POST", path: evBase + "/c1/revise", body: `{"reason":"x","answers":` + answersJSON(report.VerdictCumple) + `}`, who: "tecnico", code: 409},
		{name: "conclusions locked", method: "PUT", path: rvBase + "/conclusions", body: `{"conclusions":"y"}`, who: "tecnico", code: 409},
		{name: "técnico may not return", method: "POST", path: rvBase + "/return", body: `{"observations":"x"}`, who: "tecnico", code: 403},
		{name: "socket may not return", method: "POST", path: rvBase + "/return", body: `{"observations":"x"}`, who: "socket", code: 403},
		{name: "return without observations", method: "POST", path: rvBase + "/return", body: `{}`, who: "jefe", code: 400},
		{name: "return", method: "POST", path: rvBase + "/return", body: `{"observations":"Falta el análisis por recepcionista."}`, who: "jefe", code: 200,
			action: ActionReportReturn, target: tgt, detail: `ronda=1 observaciones="Falta el análisis por recepcionista."`},
		{name: "revise after the return", method: "POST", path: evBase + "/c1/revise", body: `{"reason":"ajuste","answers":` + answersJSON(report.VerdictNoCumple) + `}`, who: "tecnico", code: 200,
			action: ActionEvaluationRevise, target: "evaluacion 2026-11/c1", detail: "revision=2"},
		{name: "socket writes conclusions", method: "PUT", path: rvBase + "/conclusions", body: `{"conclusions":"Ajustado."}`, who: "socket", code: 200,
			action: ActionReportConclusions, target: tgt, detail: "caracteres=9"},
		{name: "resubmit", method: "POST", path: rvBase + "/submit", who: "tecnico", code: 200,
			action: ActionReportSubmit, target: tgt, detail: "ronda=2"},
		{name: "admin may not approve", method: "POST", path: rvBase + "/approve", who: "admin", code: 403},
		{name: "approve", method: "POST", path: rvBase + "/approve", who: "jefe", code: 200,
			action: ActionReportApprove, target: tgt, detail: "ronda=2"},
		{name: "approve twice", method: "POST", path: rvBase + "/approve", who: "jefe", code: 409},
	})
	w, _ := pe.send("GET", rvBase, "", "tecnico")
	var rv report.Review
	if err := json.Unmarshal(w.Body.Bytes(), &rv); err != nil {
		t.Fatal(err)
	}
	if rv.State != report.ReviewApproved || len(rv.Rounds) != 2 || rv.Rounds[0].Observations == "" || rv.Rounds[1].ApprovedBy != "jefe" {
		t.Fatalf("review %s", w.Body)
	}
	// The conflict of a second approval names the state.
	if w, _ := pe.send("POST", rvBase+"/approve", "", "jefe"); !strings.Contains(w.Body.String(), "(aprobado)") {
		t.Errorf("conflict does not name the state: %s", w.Body)
	}
}

// TestAPIReviewAuditDown: every step of the review is refused (503) when
// it cannot be audited.
func TestAPIReviewAuditDown(t *testing.T) {
	pe := newProcEnv(t)
	pe.submitAll(t)
	pe.auth.setAuditErr(errFakeDown)
	for _, st := range []struct{ method, path, body, who string }{
		{"PUT", rvBase + "/conclusions", `{"conclusions":"c"}`, "tecnico"},
		{"POST", rvBase + "/submit", "", "tecnico"},
		{"POST", rvBase + "/return", `{"observations":"o"}`, "jefe"},
		{"POST", rvBase + "/submit", "", "tecnico"},
		{"POST", rvBase + "/approve", "", "jefe"},
	} {
		w, _ := pe.send(st.method, st.path, st.body, st.who)
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), `"state"`) {
			t.Errorf("%s %s with the audit down = %d %s", st.method, st.path, w.Code, w.Body)
		}
		// The fake's step took effect; the next step of the table
		// needs it (conclusions, then submitted, then returned…).
	}
}

// TestAPICalendar: months= bounds, who reads it.
func TestAPICalendar(t *testing.T) {
	pe := newProcEnv(t)
	cases := []struct {
		query, who string
		code, n    int
	}{
		{"", "tecnico", 200, 12},
		{"?months=3", "admin", 200, 3},
		{"?months=120", "socket", 200, 120},
		{"?months=0", "jefe", 400, 0},
		{"?months=121", "jefe", 400, 0},
		{"?months=doce", "jefe", 400, 0},
		{"", "recep201", 403, 0},
	}
	for _, c := range cases {
		w, _ := pe.send("GET", "/api/v1/calendar"+c.query, "", c.who)
		if w.Code != c.code {
			t.Errorf("%s as %s = %d %s", c.query, c.who, w.Code, w.Body)
			continue
		}
		if c.code == 200 {
			var due []report.Due
			if err := json.Unmarshal(w.Body.Bytes(), &due); err != nil || len(due) != c.n {
				t.Errorf("%s: %d months (%v)", c.query, len(due), err)
			}
		}
	}
}
