package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/report"
)

// TestProcRules is the rule table of procedure.go written out again, one
// row per operation and one column per kind of principal: a change of
// procRules that is not also made here fails.
func TestProcRules(t *testing.T) {
	const (
		N = scopeNone
		O = scopeOwn
		A = scopeAll
	)
	principals := []Principal{
		{Name: "t", Role: RoleTecnico, Via: "session"},
		{Name: "j", Role: RoleJefe, Via: "token"},
		{Name: "a", Role: RoleAdmin, Via: "session"},
		{Name: "r", Role: RoleRecepcionista, Via: "session", Operator: "201"},
		{Name: "local:0", Role: RoleAdmin, Via: "socket"},
	}
	want := map[procOp][5]procScope{
		//              tecnico jefe admin recep socket
		opForms:       {A, A, A, A, A},
		opEvalRead:    {A, A, N, O, A},
		opEvalWork:    {A, N, N, N, A},
		opEvalAck:     {N, N, N, O, N},
		opEvalResolve: {A, A, N, N, A},
		opReportRead:  {A, A, A, N, A},
		opReportWrite: {A, N, N, N, A},
		opReportJudge: {N, A, N, N, N},
		opActionRead:  {A, A, N, O, A},
		opActionWrite: {N, A, N, N, N},
		opActionAck:   {N, N, N, O, N},
	}
	if len(want) != int(procOps) {
		t.Fatalf("table has %d operations, procRules %d", len(want), procOps)
	}
	for op, row := range want {
		for i, p := range principals {
			if got := scopeOf(p, op); got != row[i] {
				t.Errorf("%s as %s/%s: scope %d, want %d", procOpNames[op], p.Role, p.Via, got, row[i])
			}
			_, err := may(p, op)
			if (err != nil) != (row[i] == N) || (err != nil && !errors.Is(err, errForbidden)) {
				t.Errorf("%s as %s: may = %v", procOpNames[op], p.Role, err)
			}
		}
		// A principal without a known role may do nothing.
		if got := scopeOf(Principal{Role: "intruso"}, op); got != N {
			t.Errorf("%s with an unknown role: scope %d", procOpNames[op], got)
		}
	}
	if got := scopeOf(principals[0], procOps); got != N {
		t.Errorf("out-of-range op: scope %d", got)
	}
}

// TestProcErrStatus: each error of the report's services becomes the
// status and Spanish message the API promises, and stays reachable with
// errors.Is.
func TestProcErrStatus(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct {
		err  error
		code int
		msg  string
	}{
		{report.ErrNoEvaluation, 404, "no encontrado"},
		{report.ErrNoSample, 404, "no encontrado"},
		{report.ErrNotSampled, 404, "no encontrado"},
		{report.ErrNoAction, 404, "no encontrado"},
		{report.ErrNotYours, 404, "no encontrado"},
		{report.ErrBadMonth, 400, "mes inválido"},
		{report.ErrReason, 400, "falta el motivo"},
		{report.ErrBadAnswer, 400, "respuesta inválida"},
		{report.ErrBadAction, 400, "acción correctiva inválida"},
		{report.ErrUnknownForm, 400, "formulario"},
		{report.ErrIncomplete, 409, "veredicto"},
		{report.ErrSubmitted, 409, "ya fue enviada"},
		{report.ErrNotSubmitted, 409, "no ha sido enviada"},
		{report.ErrNoDispute, 409, "no está impugnada"},
		{report.ErrLocked, 409, "enviado o aprobado"},
		{report.ErrPendingEvaluations, 409, "sin evaluación enviada"},
		{report.ErrNotApproved, 409, "no está aprobado"},
		{fmt.Errorf("submit in approved: %w", report.ErrState), 409, "(aprobado)"},
		{fmt.Errorf("return in draft: %w", report.ErrState), 409, "(borrador)"},
		{errFakeDown, 500, "error interno"},
	}
	for _, c := range cases {
		err := fmt.Errorf("layer: %w", procErr("step", fmt.Errorf("service: %w", c.err)))
		w := httptest.NewRecorder()
		code, body := e.srv.errorResponse(w, err)
		if code != c.code || !strings.Contains(body.Error, c.msg) {
			t.Errorf("%v → %d %q, want %d with %q", c.err, code, body.Error, c.code, c.msg)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%v lost in the mapping", c.err)
		}
	}
	// web's own account lock (429) is not the report's month lock.
	if errors.Is(procErr("x", report.ErrLocked), ErrLocked) {
		t.Error("report.ErrLocked maps onto web.ErrLocked")
	}
}

// TestCheckMonth: only YYYY-MM passes.
func TestCheckMonth(t *testing.T) {
	for m, ok := range map[string]bool{
		"2026-11": true, "1999-01": true, "2026-13": false, "2026-1": false, "2026-011": false,
		"": false, "nov": false, "2026/11": false, "2026-11\n": false, "２０２６-11": false,
	} {
		if err := checkMonth(m); (err == nil) != ok {
			t.Errorf("checkMonth(%q) = %v", m, err)
		} else if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("checkMonth(%q) = %v, not ErrInvalid", m, err)
		}
	}
}

// TestHasOwnAnswers: the measured point's verdict is not the evaluator's
// answer; any other verdict, an observation or a moment is.
func TestHasOwnAnswers(t *testing.T) {
	at := 3.5
	base := func(a ...report.Answer) report.Evaluation {
		return report.Evaluation{Form: report.CurrentForm, Answers: a}
	}
	cases := []struct {
		name string
		ev   report.Evaluation
		want bool
	}{
		{"empty", base(), false},
		{"only the measurement", base(report.Answer{Point: report.PointInmediatez, Verdict: report.VerdictNoCumple}, report.Answer{Point: report.PointSaludo}), false},
		{"a verdict", base(report.Answer{Point: report.PointSaludo, Verdict: report.VerdictCumple}), true},
		{"an observation on the measurement", base(report.Answer{Point: report.PointInmediatez, Verdict: report.VerdictCumple, Observation: "sonó 4"}), true},
		{"a moment", base(report.Answer{Point: report.PointTono, AtSeconds: &at}), true},
		{"unknown form: inmediatez still measured", report.Evaluation{Form: "x", Answers: []report.Answer{{Point: report.PointInmediatez, Verdict: report.VerdictCumple}}}, false},
	}
	for _, c := range cases {
		if got := hasOwnAnswers(c.ev); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestProcNilServices: the shared operations called by the console with
// a service left out answer 404, never panic.
func TestProcNilServices(t *testing.T) {
	e := newTestEnv(t)
	r := httptest.NewRequest("GET", "/", nil)
	p := Principal{Name: "tecnico", Role: RoleTecnico, Via: "session"}
	j := Principal{Name: "jefe", Role: RoleJefe, Via: "session"}
	errs := []error{}
	add := func(_ any, err error) { errs = append(errs, err) }
	add(e.srv.evalList(r, p, procMonth))
	add(e.srv.evalGet(r, p, procMonth, "c1"))
	add(e.srv.evalOpen(r, p, procMonth, "c1"))
	add(e.srv.evalDraft(r, p, procMonth, "c1", nil))
	add(e.srv.reviewGet(r, p, procMonth))
	add(e.srv.calendar(r, p, 12))
	add(e.srv.actionList(r, p, report.ActionFilter{}))
	add(e.srv.actionAdd(r, j, procMonth, actionRequest{}))
	add(e.srv.document(r, p, procMonth))
	add(e.srv.reportExport(r, p, procMonth, "pdf", ""))
	for i, err := range errs {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("call %d: %v, want ErrNotFound", i, err)
		}
	}
	if w := e.do("GET", "/api/v1/months/2026-11/report", nil, e.as("tecnico")); w.Code != http.StatusNotFound {
		t.Errorf("report without Documents = %d", w.Code)
	}
}
