package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/report"
)

// approve takes the November report to approved.
func (pe *procEnv) approve(t testing.TB) {
	t.Helper()
	pe.submitAll(t)
	pe.send("PUT", rvBase+"/conclusions", `{"conclusions":"c"}`, "tecnico")
	pe.send("POST", rvBase+"/submit", "", "tecnico")
	if w, _ := pe.send("POST", rvBase+"/approve", "", "jefe"); w.Code != 200 {
		t.Fatalf("approve = %d %s", w.Code, w.Body)
	}
}

const actBase = "/api/v1/months/2026-11/actions"

func actionBody(to string) string {
	return `{"to":"` + to + `","instruction":"Identificarse al contestar","indicator":{"kind":"point_no_cumple_pct","point":"saludo"},"due_date":"2027-01-31"}`
}

// TestAPIActions: actions only on an approved report and only by the
// jefe; the list and each action as each role sees them; the assessment
// in a later month; a receptionist's acknowledgement of their own and of
// everyone's, never of another's.
func TestAPIActions(t *testing.T) {
	pe := newProcEnv(t)
	pe.run(t, []procStep{
		{name: "not approved", method: "POST", path: actBase, body: actionBody("201"), who: "jefe", code: 409},
	})
	pe.approve(t)
	pe.run(t, []procStep{
		{name: "técnico may not add", method: "POST", path: actBase, body: actionBody("201"), who: "tecnico", code: 403},
		{name: "socket may not add", method: "POST", path: actBase, body: actionBody("201"), who: "socket", code: 403},
		{name: "receptionist may not add", method: "POST", path: actBase, body: actionBody("201"), who: "recep201", code: 403},
		{name: "unknown receptionist", method: "POST", path: actBase, body: actionBody("299"), who: "jefe", code: 400},
		{name: "unknown indicator", method: "POST", path: actBase, body: `{"to":"201","instruction":"x","indicator":{"kind":"felicidad"},"due_date":"2027-01-31"}`, who: "jefe", code: 400},
		{name: "bad date", method: "POST", path: actBase, body: `{"to":"201","instruction":"x","indicator":{"kind":"asa_seconds"},"due_date":"31/01/2027"}`, who: "jefe", code: 400},
		{name: "add to 201", method: "POST", path: actBase, body: actionBody("201"), who: "jefe", code: 201,
			action: ActionCorrectiveAdd, target: "accion a1", detail: `mes=2026-11 para=201 indicador=point_no_cumple_pct/saludo vence=2027-01-31 instruccion="Identificarse al contestar"`},
		{name: "add to everyone", method: "POST", path: actBase, body: `{"to":"todos","instruction":"Contestar antes del cuarto timbre","indicator":{"kind":"service_level_pct","operator":"202"},"due_date":"2027-02-28"}`, who: "jefe", code: 201,
			action: ActionCorrectiveAdd, target: "accion a2", detail: "para=todos indicador=service_level_pct@202"},
		{name: "add to 202", method: "POST", path: actBase, body: actionBody("202"), who: "jefe", code: 201,
			action: ActionCorrectiveAdd, target: "accion a3", detail: "para=202"},
		{name: "202's action is not 201's", method: "POST", path: "/api/v1/actions/a3/ack", who: "recep201", code: 404},
		{name: "unknown action", method: "POST", path: "/api/v1/actions/a9/ack", who: "recep201", code: 404},
		{name: "untied account", method: "POST", path: "/api/v1/actions/a2/ack", who: "recepnadie", code: 404},
		{name: "jefe may not ack", method: "POST", path: "/api/v1/actions/a1/ack", who: "jefe", code: 403},
		{name: "ack own", method: "POST", path: "/api/v1/actions/a1/ack", who: "recep201", code: 200,
			action: ActionCorrectiveAck, target: "accion a1", detail: "recepcionista=201"},
		{name: "ack everyone's", method: "POST", path: "/api/v1/actions/a2/ack", who: "recep202", code: 200,
			action: ActionCorrectiveAck, target: "accion a2", detail: "recepcionista=202"},
		{name: "assess in its own month", method: "POST", path: "/api/v1/actions/a1/assess", body: `{"month":"2026-11","status":"effective"}`, who: "jefe", code: 409},
		{name: "assess with a bad status", method: "POST", path: "/api/v1/actions/a1/assess", body: `{"month":"2026-12","status":"open"}`, who: "jefe", code: 400},
		{name: "assess with a bad month", method: "POST", path: "/api/v1/actions/a1/assess", body: `{"month":"diciembre","status":"effective"}`, who: "jefe", code: 400},
		{name: "técnico may not assess", method: "POST", path: "/api/v1/actions/a1/assess", body: `{"month":"2026-12","status":"effective"}`, who: "tecnico", code: 403},
		{name: "assess unknown", method: "POST", path: "/api/v1/actions/zz/assess", body: `{"month":"2026-12","status":"effective"}`, who: "jefe", code: 404},
		{name: "assess", method: "POST", path: "/api/v1/actions/a1/assess", body: `{"month":"2026-12","status":"effective","comment":"bajó a 0 %"}`, who: "jefe", code: 200,
			action: ActionCorrectiveAssess, target: "accion a1", detail: `mes=2026-12 estado=effective comentario="bajó a 0 %"`},
	})
	cases := []struct {
		who, query string
		code       int
		ids        []string
	}{
		{"jefe", "", 200, []string{"a1", "a2", "a3"}},
		{"tecnico", "?to=202", 200, []string{"a3"}},
		{"socket", "?status=open", 200, []string{"a2", "a3"}},
		{"jefe", "?month=2026-12", 200, []string{}},
		{"recep201", "", 200, []string{"a1", "a2"}},
		{"recep201", "?to=202", 200, []string{}}, // asking for another's gives nothing
		{"recep202", "?status=open", 200, []string{"a2", "a3"}},
		{"recepnadie", "", 200, []string{}},
		{"admin", "", 403, nil},
		{"jefe", "?status=abierta", 400, nil},
		{"jefe", "?month=2026-1", 400, nil},
	}
	for _, c := range cases {
		w, _ := pe.send("GET", "/api/v1/actions"+c.query, "", c.who)
		if w.Code != c.code {
			t.Errorf("%s %s = %d %s", c.who, c.query, w.Code, w.Body)
			continue
		}
		if c.code != 200 {
			continue
		}
		var acts []report.Action
		if err := json.Unmarshal(w.Body.Bytes(), &acts); err != nil || acts == nil {
			t.Fatalf("%s: %s", c.who, w.Body)
		}
		ids := []string{}
		for _, a := range acts {
			ids = append(ids, a.ID)
		}
		if !slices.Equal(ids, c.ids) {
			t.Errorf("%s %s sees %v, want %v", c.who, c.query, ids, c.ids)
		}
	}
	// Follow-ups of December show November's actions.
	w, _ := pe.send("GET", "/api/v1/months/2026-12/follow-ups", "", "admin")
	var fu []report.FollowUp
	if err := json.Unmarshal(w.Body.Bytes(), &fu); w.Code != 200 || err != nil || len(fu) != 3 || fu[0].Action.Status != report.ActionEffective {
		t.Fatalf("follow-ups = %d %s", w.Code, w.Body)
	}
	for who, code := range map[string]int{"recep201": 403, "tecnico": 200} {
		if w, _ := pe.send("GET", "/api/v1/months/2026-12/follow-ups", "", who); w.Code != code {
			t.Errorf("follow-ups as %s = %d", who, w.Code)
		}
	}
	if w, _ := pe.send("GET", "/api/v1/months/12-2026/follow-ups", "", "jefe"); w.Code != 400 {
		t.Errorf("follow-ups of a bad month = %d", w.Code)
	}
}

// TestAPIActionsAuditDown: add, assess and acknowledge refused with 503.
func TestAPIActionsAuditDown(t *testing.T) {
	pe := newProcEnv(t)
	pe.approve(t)
	pe.send("POST", actBase, actionBody("201"), "jefe")
	pe.auth.setAuditErr(errFakeDown)
	for _, st := range []struct{ method, path, body, who string }{
		{"POST", actBase, actionBody("201"), "jefe"},
		{"POST", "/api/v1/actions/a1/assess", `{"month":"2026-12","status":"closed"}`, "jefe"},
		{"POST", "/api/v1/actions/a1/ack", "", "recep201"},
	} {
		w, _ := pe.send(st.method, st.path, st.body, st.who)
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), `"instruction"`) {
			t.Errorf("%s %s with the audit down = %d %s", st.method, st.path, w.Code, w.Body)
		}
	}
}
