package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzProcedureBodies sends any body to every route of the procedure that
// reads one, as the role that may take the step: the answer is never a
// 500 nor a panic (recoverPanics would turn one into a 500).
func FuzzProcedureBodies(f *testing.F) {
	seeds := []string{
		`{"answers":[{"point":"saludo","verdict":"cumple","observation":"ok","at_seconds":1.5}]}`,
		`{"answers":null}`, `{"answers":[{"point":"saludo","at_seconds":-1}]}`,
		`{"answers":[{"point":"saludo","verdict":"cumple"},{"point":"saludo","verdict":"cumple"}]}`,
		`{"reason":"r","answers":[]}`, `{"dispute":true,"comment":"c"}`, `{"dispute":"sí"}`,
		`{"resolution":"r","answers":null}`, `{"conclusions":"c"}`, `{"conclusions":7}`, `{"observations":"o"}`,
		`{"to":"201","instruction":"i","indicator":{"kind":"asa_seconds"},"due_date":"2027-01-31"}`,
		`{"to":"todos","instruction":"i","indicator":{"kind":"point_no_cumple_pct","point":"x"},"due_date":"2027-02-30"}`,
		`{"month":"2026-12","status":"effective","comment":"c"}`, `{"month":"2026-12","status":"\u0000"}`,
		``, `null`, `[]`, `{`, `"x"`, `{"answers":[1,2]}`, `{"answers":[{"at_seconds":1e309}]}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	pe := newProcEnv(f)
	// Something to act on: November approved with an action a1, December
	// with d1 submitted and d2 a draft (the fuzz's requests change them as
	// they go).
	pe.approve(f)
	pe.send("POST", actBase, actionBody("201"), "jefe")
	pe.evals.sample[procNext] = map[string]string{"d1": "201", "d2": "202"}
	const dec = "/api/v1/months/2026-12/evaluations"
	pe.send("POST", dec+"/d1", "", "tecnico")
	pe.send("PUT", dec+"/d1/draft", `{"answers":`+answersJSON("cumple")+`}`, "tecnico")
	pe.send("POST", dec+"/d1/submit", "", "tecnico")
	pe.send("POST", dec+"/d2", "", "tecnico")
	routes := []struct{ method, path, who string }{
		{"PUT", dec + "/d2/draft", "tecnico"},
		{"POST", dec + "/d1/revise", "tecnico"},
		{"POST", dec + "/d1/ack", "recep201"},
		{"POST", dec + "/d1/resolve", "jefe"},
		{"PUT", "/api/v1/months/2026-12/review/conclusions", "tecnico"},
		{"POST", rvBase + "/return", "jefe"},
		{"POST", actBase, "jefe"},
		{"POST", "/api/v1/actions/a1/assess", "jefe"},
		{"POST", "/api/v1/users", "admin"},
		{"PATCH", "/api/v1/users/recep201", "admin"},
	}
	sessions := map[string]*http.Cookie{}
	for _, rt := range routes {
		if sessions[rt.who] == nil {
			sessions[rt.who] = pe.session(rt.who)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		rt := routes[int(which)%len(routes)]
		r := pe.request(rt.method, rt.path, strings.NewReader(body))
		r.AddCookie(sessions[rt.who])
		rec := httptest.NewRecorder()
		pe.handler.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q = %d %s", rt.method, rt.path, body, rec.Code, rec.Body)
		}
	})
}
