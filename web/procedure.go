package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchtap/switchtap/report"
)

// The month's procedure (issue 10 §3–5) as operations on *Server that the
// API and the console share: each checks who may do it, calls the
// service, audits the step before it is answered (a step that cannot be
// audited is refused, 503: the change is made but not reported as done,
// as a sample draw is) and maps the service's errors onto web's. The
// read helpers apply the same rules, and a receptionist's filter.

// Evaluations is the evaluation of the sampled calls (report.Evaluator).
type Evaluations interface {
	// Open gets or creates the draft of a sampled call.
	Open(ctx context.Context, month, id, by string) (report.Evaluation, error)
	Get(ctx context.Context, month, id string) (report.Evaluation, error)
	List(ctx context.Context, month string) ([]report.Evaluation, error)
	SaveDraft(ctx context.Context, req report.DraftRequest) (report.Evaluation, error)
	Submit(ctx context.Context, month, id, by string) (report.Evaluation, error)
	Revise(ctx context.Context, req report.ReviseRequest) (report.Evaluation, error)
	Acknowledge(ctx context.Context, req report.AckRequest) (report.Evaluation, error)
	Resolve(ctx context.Context, req report.ResolveRequest) (report.Evaluation, error)
	Pending(ctx context.Context, month string) (int, error)
}

// Review is the month's report review and its corrective actions
// (report.Reviewer).
type Review interface {
	Get(ctx context.Context, month string) (report.Review, error)
	SaveConclusions(ctx context.Context, month, by, text string) (report.Review, error)
	Submit(ctx context.Context, month, by string) (report.Review, error)
	Return(ctx context.Context, month, by, observations string) (report.Review, error)
	Approve(ctx context.Context, month, by string) (report.Review, error)
	Calendar(ctx context.Context, months int) ([]report.Due, error)
	AddAction(ctx context.Context, req report.ActionRequest) (report.Action, error)
	Action(ctx context.Context, id string) (report.Action, error)
	Actions(ctx context.Context, f report.ActionFilter) ([]report.Action, error)
	Assess(ctx context.Context, req report.AssessRequest) (report.Action, error)
	AcknowledgeAction(ctx context.Context, id, operator, by string) (report.Action, error)
	FollowUps(ctx context.Context, month string) ([]report.FollowUp, error)
}

// Documents builds the whole month's report (the daemon).
type Documents interface {
	Document(ctx context.Context, month string) (*report.Document, error)
}

// Exporter writes a month's report as a file (package export behind the
// daemon's adapter): format "xlsx", "pdf" or "csv", table one of
// exportTables for csv.
type Exporter interface {
	Export(w io.Writer, d *report.Document, format, table string) error
	FileName(d *report.Document, format, table string) string
	ContentType(format string) string
}

// procOp is a kind of operation of the procedure, a row of procRules.
type procOp int

// The operations, by what they touch.
const (
	// opForms reads the evaluation forms.
	opForms procOp = iota
	// opEvalRead lists and reads evaluations.
	opEvalRead
	// opEvalWork opens, saves, submits and revises evaluations.
	opEvalWork
	// opEvalAck acknowledges or disputes an evaluation.
	opEvalAck
	// opEvalResolve resolves a dispute.
	opEvalResolve
	// opReportRead reads the report: document, tabulation, export,
	// review, calendar, follow-ups.
	opReportRead
	// opReportWrite writes the conclusions and submits the report.
	opReportWrite
	// opReportJudge returns or approves the report.
	opReportJudge
	// opActionRead lists and reads corrective actions.
	opActionRead
	// opActionWrite records and assesses corrective actions.
	opActionWrite
	// opActionAck acknowledges a corrective action.
	opActionAck
	procOps
)

// procScope is how much of an operation a principal may do.
type procScope int

const (
	// scopeNone: refused (403).
	scopeNone procScope = iota
	// scopeOwn: only on the data of the receptionist the account belongs
	// to; anything else does not exist for them (404, so ids do not leak),
	// and an account tied to no receptionist sees nothing.
	scopeOwn
	// scopeAll: everything.
	scopeAll
)

// procRule is who may do one operation.
type procRule struct {
	tecnico, jefe, admin, recepcionista, socket procScope
}

// procRules is the rule table of the procedure (seed document, ETAPA 2;
// issue 10 §5):
//
//	operation       tecnico  jefe  admin  recepcionista  socket
//	forms           all      all   all    all            all
//	eval read       all      all   -      own            all
//	eval work       all      -     -      -              all
//	eval ack        -        -     -      own            -
//	eval resolve    all      all   -      -              all
//	report read     all      all   all    -              all
//	report write    all      -     -      -              all
//	report judge    -        all   -      -              -
//	action read     all      all   -      own            all
//	action write    -        all   -      -              -
//	action ack      -        -     -      own            -
//
// The técnico evaluates, writes the conclusions and submits; the jefe
// returns, approves, records and assesses actions, resolves disputes and
// reads everything; the admin reads the document only (it holds the
// submitted evaluations and the actions) and takes no step; a
// receptionist sees only their own submitted evaluations and their
// actions, acknowledges or disputes the first and acknowledges the
// second. The local socket (an admin peer at the board's own terminal)
// reads like the jefe and works like the técnico, as it draws samples
// (maySample); the jefe's judgement needs the jefe's own account.
var procRules = [procOps]procRule{
	opForms:       {tecnico: scopeAll, jefe: scopeAll, admin: scopeAll, recepcionista: scopeAll, socket: scopeAll},
	opEvalRead:    {tecnico: scopeAll, jefe: scopeAll, recepcionista: scopeOwn, socket: scopeAll},
	opEvalWork:    {tecnico: scopeAll, socket: scopeAll},
	opEvalAck:     {recepcionista: scopeOwn},
	opEvalResolve: {tecnico: scopeAll, jefe: scopeAll, socket: scopeAll},
	opReportRead:  {tecnico: scopeAll, jefe: scopeAll, admin: scopeAll, socket: scopeAll},
	opReportWrite: {tecnico: scopeAll, socket: scopeAll},
	opReportJudge: {jefe: scopeAll},
	opActionRead:  {tecnico: scopeAll, jefe: scopeAll, recepcionista: scopeOwn, socket: scopeAll},
	opActionWrite: {jefe: scopeAll},
	opActionAck:   {recepcionista: scopeOwn},
}

// procRoles are the roles let through to the procedure's routes; the
// operations check the rest.
var procRoles = []Role{RoleTecnico, RoleJefe, RoleAdmin, RoleRecepcionista}

// scopeOf returns what p may do of op.
func scopeOf(p Principal, op procOp) procScope {
	if op < 0 || op >= procOps {
		return scopeNone
	}
	rule := procRules[op]
	if p.Via == "socket" {
		return rule.socket
	}
	switch p.Role {
	case RoleTecnico:
		return rule.tecnico
	case RoleJefe:
		return rule.jefe
	case RoleAdmin:
		return rule.admin
	case RoleRecepcionista:
		return rule.recepcionista
	}
	return scopeNone
}

// procOpNames name the operations in refusals.
var procOpNames = [procOps]string{
	opForms: "leer los formularios", opEvalRead: "leer evaluaciones", opEvalWork: "evaluar llamadas",
	opEvalAck: "dar por recibida una evaluación", opEvalResolve: "resolver impugnaciones",
	opReportRead: "leer el informe", opReportWrite: "redactar o enviar el informe",
	opReportJudge: "devolver o aprobar el informe", opActionRead: "leer acciones correctivas",
	opActionWrite: "registrar o valorar acciones correctivas", opActionAck: "dar por recibida una acción",
}

// may returns p's scope of op, or errForbidden when it is none.
func may(p Principal, op procOp) (procScope, error) {
	sc := scopeOf(p, op)
	if sc == scopeNone {
		return scopeNone, fmt.Errorf("%w: el rol %s no puede %s", errForbidden, roleName(p), procOpNames[op])
	}
	return sc, nil
}

// roleName is p's role as a refusal names it.
func roleName(p Principal) string {
	if p.Role == "" {
		return "(ninguno)"
	}
	return string(p.Role)
}

// mine reports whether data of receptionist operator is p's own.
func mine(p Principal, operator string) bool { return p.Operator != "" && operator == p.Operator }

// evalVisible reports whether p, with scope sc of reading evaluations, may
// see ev: a receptionist sees only the submitted evaluations of their own
// calls (a draft is the técnico's work in progress).
func evalVisible(p Principal, sc procScope, ev report.Evaluation) bool {
	switch sc {
	case scopeAll:
		return true
	case scopeOwn:
		return mine(p, ev.Operator) && ev.Status == report.EvalSubmitted
	}
	return false
}

// actionVisible reports whether p, with scope sc, may see a: a
// receptionist sees the actions given to them or to everyone.
func actionVisible(p Principal, sc procScope, a report.Action) bool {
	switch sc {
	case scopeAll:
		return true
	case scopeOwn:
		return p.Operator != "" && (a.To == p.Operator || a.To == report.ToEveryone)
	}
	return false
}

// errNoService is a procedure service the daemon did not configure.
func errNoService(what string) error {
	return fmt.Errorf("%s: %w", what, ErrNotFound)
}

// checkMonth validates a "YYYY-MM" month before it reaches a service or
// the audit log.
func checkMonth(month string) error {
	if len(month) != 7 {
		return fmt.Errorf("%w: mes inválido %q (use AAAA-MM)", ErrInvalid, clip(month))
	}
	if _, err := time.Parse("2006-01", month); err != nil {
		return fmt.Errorf("%w: mes inválido %q (use AAAA-MM)", ErrInvalid, clip(month))
	}
	return nil
}

// checkMonthID validates a month and a record id (a bad id names no
// call: 404).
func checkMonthID(month, id string) error {
	if err := checkMonth(month); err != nil {
		return err
	}
	if !validID(id) {
		return fmt.Errorf("evaluation %q: %w", clip(id), ErrNotFound)
	}
	return nil
}

// Bounds of the texts of the procedure (a reason, a comment, the
// conclusions): the body bound is 64 KiB, these keep one field from
// filling the audit log.
const (
	maxReasonLen      = 2000
	maxConclusionsLen = 32000
)

// checkText bounds a free text named what.
func checkText(what, v string, limit int) error {
	if len(v) > limit {
		return fmt.Errorf("%w: %s demasiado largo (máximo %d caracteres)", ErrInvalid, what, limit)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s no es UTF-8 válido", ErrInvalid, what)
	}
	return nil
}

// procError is a service error mapped onto web's: kind (ErrNotFound,
// ErrInvalid, errConflict) decides the status, msg is the fact in Spanish
// (what detail shows), cause the service's error, still reachable with
// errors.Is.
type procError struct {
	kind  error
	msg   string
	cause error
}

func (e *procError) Error() string { return e.kind.Error() + ": " + e.msg }

// Unwrap returns the kind and the cause.
func (e *procError) Unwrap() []error { return []error{e.kind, e.cause} }

// procErrors maps the report's errors, in order.
var procErrors = []struct {
	err  error
	kind error
	msg  string
}{
	{report.ErrNoEvaluation, ErrNotFound, "la llamada no tiene evaluación"},
	{report.ErrNoSample, ErrNotFound, "el mes no tiene muestra"},
	{report.ErrNotSampled, ErrNotFound, "la llamada no está en la muestra"},
	{report.ErrNoAction, ErrNotFound, "no existe esa acción correctiva"},
	// Another receptionist's call or action does not exist for them.
	{report.ErrNotYours, ErrNotFound, "no encontrado"},
	{report.ErrBadMonth, ErrInvalid, "mes inválido (AAAA-MM)"},
	{report.ErrReason, ErrInvalid, "falta el motivo o el comentario"},
	{report.ErrBadAnswer, ErrInvalid, "respuesta inválida: punto o veredicto desconocido, punto repetido o momento fuera de la grabación"},
	{report.ErrBadAction, ErrInvalid, "acción correctiva inválida: falta la instrucción, o la recepcionista, el indicador o la fecha límite no son válidos"},
	{report.ErrUnknownForm, ErrInvalid, "versión de formulario desconocida"},
	{report.ErrIncomplete, errConflict, "cada punto necesita un veredicto antes de enviar"},
	{report.ErrSubmitted, errConflict, "la evaluación ya fue enviada: cámbiela con una revisión y su motivo"},
	{report.ErrNotSubmitted, errConflict, "la evaluación aún no ha sido enviada"},
	{report.ErrNoDispute, errConflict, "la evaluación no está impugnada"},
	{report.ErrLocked, errConflict, "el informe del mes está enviado o aprobado: las evaluaciones cambian solo si el jefe lo devuelve"},
	{report.ErrPendingEvaluations, errConflict, "hay llamadas de la muestra sin evaluación enviada"},
	{report.ErrNotApproved, errConflict, "el informe del mes no está aprobado"},
	{report.ErrState, errConflict, "no es posible en el estado del informe"},
}

// procErr maps a service's error for step what: a report error becomes a
// *procError, anything else is wrapped (a 500).
func procErr(what string, err error) error {
	for _, m := range procErrors {
		if errors.Is(err, m.err) {
			msg := m.msg
			if m.err == report.ErrState {
				msg = stateMessage(err, msg)
			}
			return &procError{kind: m.kind, msg: msg, cause: err}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// stateMessage adds the report's state, when the service's error names
// one, to the conflict's message.
func stateMessage(err error, msg string) string {
	text := err.Error()
	for _, st := range []struct {
		state report.ReviewState
		name  string
	}{
		{report.ReviewApproved, "aprobado"}, {report.ReviewSubmitted, "enviado"},
		{report.ReviewReturned, "devuelto"}, {report.ReviewDraft, "borrador"},
	} {
		if strings.Contains(text, string(st.state)) {
			return msg + " (" + st.name + ")"
		}
	}
	return msg
}

// evalTarget names an evaluation in the audit log.
func evalTarget(month, id string) string { return "evaluacion " + month + "/" + id }

// reportTarget names a month's report in the audit log.
func reportTarget(month string) string { return "informe " + month }

// actionTarget names a corrective action in the audit log.
func actionTarget(id string) string { return "accion " + id }

// verdicts summarizes answers for the audit log: "saludo=cumple
// tono=no_cumple …" (the observations stay in the evaluation).
func verdicts(answers []report.Answer) string {
	var b strings.Builder
	for i, a := range answers {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := string(a.Verdict)
		if v == "" {
			v = "pendiente"
		}
		b.WriteString(a.Point + "=" + v)
	}
	return b.String()
}

// quoted bounds and quotes a free text for the audit log's detail.
func quoted(s string) string { return fmt.Sprintf("%q", clipHeader(s)) }

// hasOwnAnswers reports whether a draft holds something the evaluator
// typed: a verdict on a point that is not measured, an observation or a
// moment.
func hasOwnAnswers(ev report.Evaluation) bool {
	auto := map[string]bool{report.PointInmediatez: true}
	if f, err := report.FormByVersion(ev.Form); err == nil {
		auto = map[string]bool{}
		for _, pt := range f.Points {
			auto[pt.ID] = pt.Auto
		}
	}
	for _, a := range ev.Answers {
		if (a.Verdict != report.VerdictPending && !auto[a.Point]) || a.Observation != "" || a.AtSeconds != nil {
			return true
		}
	}
	return false
}

// forms returns every form version.
func (s *Server) forms(p Principal) ([]report.Form, error) {
	if _, err := may(p, opForms); err != nil {
		return nil, err
	}
	return report.Forms(), nil
}

// evalList returns the month's evaluations p may see.
func (s *Server) evalList(r *http.Request, p Principal, month string) ([]report.Evaluation, error) {
	sc, err := may(p, opEvalRead)
	if err != nil {
		return nil, err
	}
	if err := checkMonth(month); err != nil {
		return nil, err
	}
	if s.cfg.Evaluations == nil {
		return nil, errNoService("evaluations")
	}
	out := []report.Evaluation{}
	if sc == scopeOwn && p.Operator == "" {
		return out, nil
	}
	evs, err := s.cfg.Evaluations.List(r.Context(), month)
	if err != nil {
		return nil, procErr("list evaluations of "+month, err)
	}
	for _, ev := range evs {
		if evalVisible(p, sc, ev) {
			out = append(out, ev)
		}
	}
	return out, nil
}

// evalGet returns one evaluation p may see; any other is ErrNotFound.
func (s *Server) evalGet(r *http.Request, p Principal, month, id string) (report.Evaluation, error) {
	sc, err := may(p, opEvalRead)
	if err != nil {
		return report.Evaluation{}, err
	}
	return s.evalVisibleGet(r, p, sc, month, id)
}

// evalVisibleGet reads an evaluation and hides it from p unless visible
// with scope sc.
func (s *Server) evalVisibleGet(r *http.Request, p Principal, sc procScope, month, id string) (report.Evaluation, error) {
	if err := checkMonthID(month, id); err != nil {
		return report.Evaluation{}, err
	}
	if s.cfg.Evaluations == nil {
		return report.Evaluation{}, errNoService("evaluations")
	}
	if sc == scopeOwn && p.Operator == "" {
		return report.Evaluation{}, fmt.Errorf("evaluation %s/%s: %w", month, clip(id), ErrNotFound)
	}
	ev, err := s.cfg.Evaluations.Get(r.Context(), month, id)
	if err != nil {
		return report.Evaluation{}, procErr("get evaluation "+month+"/"+clip(id), err)
	}
	if !evalVisible(p, sc, ev) {
		return report.Evaluation{}, fmt.Errorf("evaluation %s/%s: %w", month, clip(id), ErrNotFound)
	}
	return ev, nil
}

// evalWork checks the common preconditions of the evaluator's steps.
func (s *Server) evalWork(p Principal, op procOp, month, id string) error {
	if _, err := may(p, op); err != nil {
		return err
	}
	if err := checkMonthID(month, id); err != nil {
		return err
	}
	if s.cfg.Evaluations == nil {
		return errNoService("evaluations")
	}
	return nil
}

// evalOpen gets or creates the draft of a sampled call. Only the open that
// creates it is audited: opening an existing one changes nothing.
func (s *Server) evalOpen(r *http.Request, p Principal, month, id string) (report.Evaluation, error) {
	if err := s.evalWork(p, opEvalWork, month, id); err != nil {
		return report.Evaluation{}, err
	}
	ctx := r.Context()
	_, err := s.cfg.Evaluations.Get(ctx, month, id)
	created := errors.Is(err, report.ErrNoEvaluation)
	if err != nil && !created {
		return report.Evaluation{}, procErr("open evaluation "+month+"/"+clip(id), err)
	}
	ev, err := s.cfg.Evaluations.Open(ctx, month, id, p.Name)
	if err != nil {
		return report.Evaluation{}, procErr("open evaluation "+month+"/"+clip(id), err)
	}
	if created {
		detail := fmt.Sprintf("recepcionista=%s formulario=%s timbres=%d", ev.Operator, ev.Form, ev.Facts.Rings)
		if err := s.audit(r, p, ActionEvaluationOpen, evalTarget(month, id), detail); err != nil {
			return report.Evaluation{}, err
		}
	}
	return ev, nil
}

// evalDraft saves a draft's answers as typed (they may be partial). The
// save that first puts an answer in the draft is audited; the others are
// not (see ActionEvaluationDraft).
func (s *Server) evalDraft(r *http.Request, p Principal, month, id string, answers []report.Answer) (report.Evaluation, error) {
	if err := s.evalWork(p, opEvalWork, month, id); err != nil {
		return report.Evaluation{}, err
	}
	if err := checkAnswers(answers); err != nil {
		return report.Evaluation{}, err
	}
	ctx := r.Context()
	before, err := s.cfg.Evaluations.Get(ctx, month, id)
	if err != nil {
		return report.Evaluation{}, procErr("save draft "+month+"/"+clip(id), err)
	}
	ev, err := s.cfg.Evaluations.SaveDraft(ctx, report.DraftRequest{Month: month, ID: id, By: p.Name, Answers: answers})
	if err != nil {
		return report.Evaluation{}, procErr("save draft "+month+"/"+clip(id), err)
	}
	if !hasOwnAnswers(before) && hasOwnAnswers(ev) {
		if err := s.audit(r, p, ActionEvaluationDraft, evalTarget(month, id), "primer guardado: "+verdicts(ev.Answers)); err != nil {
			return report.Evaluation{}, err
		}
	}
	return ev, nil
}

// maxObservationLen bounds one answer's observation.
const maxObservationLen = 4000

// checkAnswers bounds the answers of a request (the service checks their
// meaning: points, verdicts, moments).
func checkAnswers(answers []report.Answer) error {
	if len(answers) > 64 {
		return fmt.Errorf("%w: demasiadas respuestas", ErrInvalid)
	}
	for _, a := range answers {
		if len(a.Point) > 64 || len(a.Verdict) > 64 {
			return fmt.Errorf("%w: punto o veredicto demasiado largo", ErrInvalid)
		}
		if err := checkText("la observación", a.Observation, maxObservationLen); err != nil {
			return err
		}
	}
	return nil
}

// evalSubmit submits a complete draft: revision 1, audited with its
// verdicts.
func (s *Server) evalSubmit(r *http.Request, p Principal, month, id string) (report.Evaluation, error) {
	if err := s.evalWork(p, opEvalWork, month, id); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := s.cfg.Evaluations.Submit(r.Context(), month, id, p.Name)
	if err != nil {
		return report.Evaluation{}, procErr("submit evaluation "+month+"/"+clip(id), err)
	}
	detail := fmt.Sprintf("revision=%d %s", ev.Revision, verdicts(ev.Answers))
	if err := s.audit(r, p, ActionEvaluationSubmit, evalTarget(month, id), detail); err != nil {
		return report.Evaluation{}, err
	}
	return ev, nil
}

// evalRevise changes a submitted evaluation: a new revision with its
// reason.
func (s *Server) evalRevise(r *http.Request, p Principal, month, id, reason string, answers []report.Answer) (report.Evaluation, error) {
	if err := s.evalWork(p, opEvalWork, month, id); err != nil {
		return report.Evaluation{}, err
	}
	if err := checkText("el motivo", reason, maxReasonLen); err != nil {
		return report.Evaluation{}, err
	}
	if err := checkAnswers(answers); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := s.cfg.Evaluations.Revise(r.Context(), report.ReviseRequest{Month: month, ID: id, By: p.Name, Reason: reason, Answers: answers})
	if err != nil {
		return report.Evaluation{}, procErr("revise evaluation "+month+"/"+clip(id), err)
	}
	detail := fmt.Sprintf("revision=%d motivo=%s %s", ev.Revision, quoted(reason), verdicts(ev.Answers))
	if err := s.audit(r, p, ActionEvaluationRevise, evalTarget(month, id), detail); err != nil {
		return report.Evaluation{}, err
	}
	return ev, nil
}

// evalAck is a receptionist acknowledging (dispute false) or disputing
// (with a comment) the evaluation of one of their own calls; another's is
// ErrNotFound.
func (s *Server) evalAck(r *http.Request, p Principal, month, id string, dispute bool, comment string) (report.Evaluation, error) {
	sc, err := may(p, opEvalAck)
	if err != nil {
		return report.Evaluation{}, err
	}
	if err := checkText("el comentario", comment, maxReasonLen); err != nil {
		return report.Evaluation{}, err
	}
	if _, err := s.evalVisibleGet(r, p, sc, month, id); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := s.cfg.Evaluations.Acknowledge(r.Context(), report.AckRequest{
		Month: month, ID: id, By: p.Name, Operator: p.Operator, Dispute: dispute, Comment: comment,
	})
	if err != nil {
		return report.Evaluation{}, procErr("acknowledge evaluation "+month+"/"+clip(id), err)
	}
	action := ActionEvaluationAck
	if dispute {
		action = ActionEvaluationDispute
	}
	detail := fmt.Sprintf("revision=%d recepcionista=%s", ev.Revision, p.Operator)
	if comment != "" {
		detail += " comentario=" + quoted(comment)
	}
	if err := s.audit(r, p, action, evalTarget(month, id), detail); err != nil {
		return report.Evaluation{}, err
	}
	return ev, nil
}

// evalResolve resolves a dispute; answers, when not nil, are the corrected
// answers (a new revision).
func (s *Server) evalResolve(r *http.Request, p Principal, month, id, resolution string, answers []report.Answer) (report.Evaluation, error) {
	if err := s.evalWork(p, opEvalResolve, month, id); err != nil {
		return report.Evaluation{}, err
	}
	if err := checkText("la resolución", resolution, maxReasonLen); err != nil {
		return report.Evaluation{}, err
	}
	if err := checkAnswers(answers); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := s.cfg.Evaluations.Resolve(r.Context(), report.ResolveRequest{Month: month, ID: id, By: p.Name, Resolution: resolution, Answers: answers})
	if err != nil {
		return report.Evaluation{}, procErr("resolve dispute "+month+"/"+clip(id), err)
	}
	changed := answers != nil
	if ev.Ack != nil {
		changed = ev.Ack.Changed
	}
	detail := fmt.Sprintf("revision=%d cambio=%t resolucion=%s", ev.Revision, changed, quoted(resolution))
	if changed {
		detail += " " + verdicts(ev.Answers)
	}
	if err := s.audit(r, p, ActionEvaluationResolve, evalTarget(month, id), detail); err != nil {
		return report.Evaluation{}, err
	}
	return ev, nil
}

// reviewStep checks the common preconditions of a step of the report.
func (s *Server) reviewStep(p Principal, op procOp, month string) error {
	if _, err := may(p, op); err != nil {
		return err
	}
	if err := checkMonth(month); err != nil {
		return err
	}
	if s.cfg.Review == nil {
		return errNoService("review")
	}
	return nil
}

// reviewGet returns a month's review.
func (s *Server) reviewGet(r *http.Request, p Principal, month string) (report.Review, error) {
	if err := s.reviewStep(p, opReportRead, month); err != nil {
		return report.Review{}, err
	}
	rv, err := s.cfg.Review.Get(r.Context(), month)
	if err != nil {
		return report.Review{}, procErr("review of "+month, err)
	}
	return rv, nil
}

// reviewConclusions saves the técnico's conclusions (each save is an
// explicit step, audited with the text's length).
func (s *Server) reviewConclusions(r *http.Request, p Principal, month, text string) (report.Review, error) {
	if err := s.reviewStep(p, opReportWrite, month); err != nil {
		return report.Review{}, err
	}
	if err := checkText("las conclusiones", text, maxConclusionsLen); err != nil {
		return report.Review{}, err
	}
	rv, err := s.cfg.Review.SaveConclusions(r.Context(), month, p.Name, text)
	if err != nil {
		return report.Review{}, procErr("save conclusions of "+month, err)
	}
	detail := fmt.Sprintf("caracteres=%d", utf8.RuneCountInString(text))
	if err := s.audit(r, p, ActionReportConclusions, reportTarget(month), detail); err != nil {
		return report.Review{}, err
	}
	return rv, nil
}

// lastRound is the number of a review's last round, 0 before the first.
func lastRound(rv report.Review) int {
	if len(rv.Rounds) == 0 {
		return 0
	}
	return rv.Rounds[len(rv.Rounds)-1].N
}

// reviewSubmit submits the report to the jefe.
func (s *Server) reviewSubmit(r *http.Request, p Principal, month string) (report.Review, error) {
	if err := s.reviewStep(p, opReportWrite, month); err != nil {
		return report.Review{}, err
	}
	rv, err := s.cfg.Review.Submit(r.Context(), month, p.Name)
	if err != nil {
		return report.Review{}, procErr("submit report of "+month, err)
	}
	if err := s.audit(r, p, ActionReportSubmit, reportTarget(month), fmt.Sprintf("ronda=%d", lastRound(rv))); err != nil {
		return report.Review{}, err
	}
	return rv, nil
}

// reviewReturn returns the report to the técnico with observations.
func (s *Server) reviewReturn(r *http.Request, p Principal, month, observations string) (report.Review, error) {
	if err := s.reviewStep(p, opReportJudge, month); err != nil {
		return report.Review{}, err
	}
	if err := checkText("las observaciones", observations, maxConclusionsLen); err != nil {
		return report.Review{}, err
	}
	rv, err := s.cfg.Review.Return(r.Context(), month, p.Name, observations)
	if err != nil {
		return report.Review{}, procErr("return report of "+month, err)
	}
	detail := fmt.Sprintf("ronda=%d observaciones=%s", lastRound(rv), quoted(observations))
	if err := s.audit(r, p, ActionReportReturn, reportTarget(month), detail); err != nil {
		return report.Review{}, err
	}
	return rv, nil
}

// reviewApprove approves the report.
func (s *Server) reviewApprove(r *http.Request, p Principal, month string) (report.Review, error) {
	if err := s.reviewStep(p, opReportJudge, month); err != nil {
		return report.Review{}, err
	}
	rv, err := s.cfg.Review.Approve(r.Context(), month, p.Name)
	if err != nil {
		return report.Review{}, procErr("approve report of "+month, err)
	}
	if err := s.audit(r, p, ActionReportApprove, reportTarget(month), fmt.Sprintf("ronda=%d", lastRound(rv))); err != nil {
		return report.Review{}, err
	}
	return rv, nil
}

// maxCalendarMonths bounds the calendar asked for.
const maxCalendarMonths = 120

// calendar returns the reports due over the last months.
func (s *Server) calendar(r *http.Request, p Principal, months int) ([]report.Due, error) {
	if _, err := may(p, opReportRead); err != nil {
		return nil, err
	}
	if months < 1 || months > maxCalendarMonths {
		return nil, fmt.Errorf("%w: months debe estar entre 1 y %d", ErrInvalid, maxCalendarMonths)
	}
	if s.cfg.Review == nil {
		return nil, errNoService("review")
	}
	due, err := s.cfg.Review.Calendar(r.Context(), months)
	if err != nil {
		return nil, procErr("calendar", err)
	}
	if due == nil {
		due = []report.Due{}
	}
	return due, nil
}

// followUps returns the follow-up of earlier months' actions in month.
func (s *Server) followUps(r *http.Request, p Principal, month string) ([]report.FollowUp, error) {
	if err := s.reviewStep(p, opReportRead, month); err != nil {
		return nil, err
	}
	fu, err := s.cfg.Review.FollowUps(r.Context(), month)
	if err != nil {
		return nil, procErr("follow-ups of "+month, err)
	}
	if fu == nil {
		fu = []report.FollowUp{}
	}
	return fu, nil
}

// actionList returns the corrective actions matching f that p may see: a
// receptionist's filter is forced to their own (Operator), whatever f
// says.
func (s *Server) actionList(r *http.Request, p Principal, f report.ActionFilter) ([]report.Action, error) {
	sc, err := may(p, opActionRead)
	if err != nil {
		return nil, err
	}
	if f.Month != "" {
		if err := checkMonth(f.Month); err != nil {
			return nil, err
		}
	}
	switch f.Status {
	case "", report.ActionOpen, report.ActionEffective, report.ActionNotEffective, report.ActionClosed:
	default:
		return nil, fmt.Errorf("%w: status %q desconocido (open, effective, not_effective, closed)", ErrInvalid, clip(string(f.Status)))
	}
	if len(f.To) > maxFilterLen {
		return nil, fmt.Errorf("%w: to demasiado largo", ErrInvalid)
	}
	if s.cfg.Review == nil {
		return nil, errNoService("review")
	}
	out := []report.Action{}
	if sc == scopeOwn {
		if p.Operator == "" {
			return out, nil
		}
		f.Operator = p.Operator
	}
	acts, err := s.cfg.Review.Actions(r.Context(), f)
	if err != nil {
		return nil, procErr("list actions", err)
	}
	for _, a := range acts {
		if actionVisible(p, sc, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// actionVisibleGet reads an action and hides it from p unless visible
// with scope sc (ErrNotFound).
func (s *Server) actionVisibleGet(r *http.Request, p Principal, sc procScope, id string) (report.Action, error) {
	if !validID(id) {
		return report.Action{}, fmt.Errorf("action %q: %w", clip(id), ErrNotFound)
	}
	if s.cfg.Review == nil {
		return report.Action{}, errNoService("review")
	}
	if sc == scopeOwn && p.Operator == "" {
		return report.Action{}, fmt.Errorf("action %q: %w", clip(id), ErrNotFound)
	}
	a, err := s.cfg.Review.Action(r.Context(), id)
	if err != nil {
		return report.Action{}, procErr("action "+clip(id), err)
	}
	if !actionVisible(p, sc, a) {
		return report.Action{}, fmt.Errorf("action %q: %w", clip(id), ErrNotFound)
	}
	return a, nil
}

// actionRequest is a corrective action as the jefe writes it (the body of
// POST /api/v1/months/{month}/actions).
type actionRequest struct {
	To          string           `json:"to"`
	Instruction string           `json:"instruction"`
	Indicator   report.Indicator `json:"indicator"`
	DueDate     string           `json:"due_date"`
}

// actionAdd records a corrective action on month's approved report.
func (s *Server) actionAdd(r *http.Request, p Principal, month string, req actionRequest) (report.Action, error) {
	if err := s.reviewStep(p, opActionWrite, month); err != nil {
		return report.Action{}, err
	}
	if err := checkText("la instrucción", req.Instruction, maxReasonLen); err != nil {
		return report.Action{}, err
	}
	if len(req.To) > maxFilterLen || len(req.DueDate) > 10 || len(req.Indicator.Kind) > 64 || len(req.Indicator.Point) > 64 || len(req.Indicator.Operator) > maxFilterLen {
		return report.Action{}, fmt.Errorf("%w: acción correctiva inválida", ErrInvalid)
	}
	a, err := s.cfg.Review.AddAction(r.Context(), report.ActionRequest{
		Month: month, By: p.Name, To: req.To, Instruction: req.Instruction, Indicator: req.Indicator, DueDate: req.DueDate,
	})
	if err != nil {
		return report.Action{}, procErr("add action to "+month, err)
	}
	detail := fmt.Sprintf("mes=%s para=%s indicador=%s vence=%s instruccion=%s", month, a.To, indicatorName(a.Indicator), a.DueDate, quoted(a.Instruction))
	if err := s.audit(r, p, ActionCorrectiveAdd, actionTarget(a.ID), detail); err != nil {
		return report.Action{}, err
	}
	return a, nil
}

// indicatorName is an indicator in the audit log: kind[/point][@operator].
func indicatorName(ind report.Indicator) string {
	n := ind.Kind
	if ind.Point != "" {
		n += "/" + ind.Point
	}
	if ind.Operator != "" {
		n += "@" + ind.Operator
	}
	return n
}

// assessRequest is the jefe's judgement of an action (the body of POST
// /api/v1/actions/{id}/assess).
type assessRequest struct {
	Month   string              `json:"month"`
	Status  report.ActionStatus `json:"status"`
	Comment string              `json:"comment"`
}

// actionAssess marks an action effective or not, or closes it, in a later
// month's report.
func (s *Server) actionAssess(r *http.Request, p Principal, id string, req assessRequest) (report.Action, error) {
	if err := s.reviewStep(p, opActionWrite, req.Month); err != nil {
		return report.Action{}, err
	}
	if !validID(id) {
		return report.Action{}, fmt.Errorf("action %q: %w", clip(id), ErrNotFound)
	}
	switch req.Status {
	case report.ActionEffective, report.ActionNotEffective, report.ActionClosed:
	default:
		return report.Action{}, fmt.Errorf("%w: status debe ser effective, not_effective o closed", ErrInvalid)
	}
	if err := checkText("el comentario", req.Comment, maxReasonLen); err != nil {
		return report.Action{}, err
	}
	a, err := s.cfg.Review.Assess(r.Context(), report.AssessRequest{ID: id, Month: req.Month, By: p.Name, Status: req.Status, Comment: req.Comment})
	if err != nil {
		return report.Action{}, procErr("assess action "+clip(id), err)
	}
	detail := fmt.Sprintf("mes=%s estado=%s", req.Month, req.Status)
	if req.Comment != "" {
		detail += " comentario=" + quoted(req.Comment)
	}
	if err := s.audit(r, p, ActionCorrectiveAssess, actionTarget(id), detail); err != nil {
		return report.Action{}, err
	}
	return a, nil
}

// actionAck is a receptionist acknowledging an action given to them (or
// to everyone); another's is ErrNotFound.
func (s *Server) actionAck(r *http.Request, p Principal, id string) (report.Action, error) {
	sc, err := may(p, opActionAck)
	if err != nil {
		return report.Action{}, err
	}
	if _, err := s.actionVisibleGet(r, p, sc, id); err != nil {
		return report.Action{}, err
	}
	a, err := s.cfg.Review.AcknowledgeAction(r.Context(), id, p.Operator, p.Name)
	if err != nil {
		return report.Action{}, procErr("acknowledge action "+clip(id), err)
	}
	if err := s.audit(r, p, ActionCorrectiveAck, actionTarget(id), "recepcionista="+p.Operator); err != nil {
		return report.Action{}, err
	}
	return a, nil
}

// document returns the whole month's report.
func (s *Server) document(r *http.Request, p Principal, month string) (*report.Document, error) {
	if _, err := may(p, opReportRead); err != nil {
		return nil, err
	}
	if err := checkMonth(month); err != nil {
		return nil, err
	}
	if s.cfg.Documents == nil {
		return nil, errNoService("documents")
	}
	d, err := s.cfg.Documents.Document(r.Context(), month)
	if err != nil {
		return nil, procErr("report of "+month, err)
	}
	if d == nil {
		return nil, fmt.Errorf("report of %s: %w", month, ErrNotFound)
	}
	return d, nil
}

// exportTables are the CSV tables of a report (package export).
var exportTables = []string{"resumen", "recepcionistas", "muestra", "evaluaciones", "tabulacion", "acciones", "salientes", "estado"}

// exportFile is a month's report written as a file, ready to send.
type exportFile struct {
	Name        string
	ContentType string
	Data        []byte
}

// reportExport writes the month's report as format (xlsx, pdf, csv with a
// table, "resumen" by default) and audits it (export_report) before it is
// sent: the file is made first, so a failing export is a clean error and
// not a truncated attachment.
func (s *Server) reportExport(r *http.Request, p Principal, month, format, table string) (exportFile, error) {
	if _, err := may(p, opReportRead); err != nil {
		return exportFile{}, err
	}
	switch format {
	case "xlsx", "pdf":
		if table != "" {
			return exportFile{}, fmt.Errorf("%w: table solo con format=csv", ErrInvalid)
		}
	case "csv":
		if table == "" {
			table = "resumen"
		}
		if !slices.Contains(exportTables, table) {
			return exportFile{}, fmt.Errorf("%w: table %q desconocida (%s)", ErrInvalid, clip(table), strings.Join(exportTables, ", "))
		}
	default:
		return exportFile{}, fmt.Errorf("%w: format debe ser xlsx, pdf o csv", ErrInvalid)
	}
	if s.cfg.Exports == nil {
		return exportFile{}, errNoService("exports")
	}
	d, err := s.document(r, p, month)
	if err != nil {
		return exportFile{}, err
	}
	var buf bytes.Buffer
	if err := s.cfg.Exports.Export(&buf, d, format, table); err != nil {
		return exportFile{}, fmt.Errorf("export report of %s as %s: %w", month, format, err)
	}
	detail := "format=" + format
	if table != "" {
		detail += " table=" + table
	}
	if err := s.audit(r, p, ActionExportReport, reportTarget(month), detail); err != nil {
		return exportFile{}, err
	}
	return exportFile{Name: s.cfg.Exports.FileName(d, format, table), ContentType: s.cfg.Exports.ContentType(format), Data: buf.Bytes()}, nil
}
