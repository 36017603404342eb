package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchtap/switchtap/report"
)

// The Evaluación page, step 02 of ETAPA 2 (issue 10 §3). Without an id
// (/evaluacion?m=YYYY-MM) it lists the month's sampled calls with the
// status of each one's evaluation; with one (/evaluacion?m=…&id=…) it
// shows the call (player, waveform, timeline, rings, transfer) and the
// form of the seven points. The draft saves itself through the API as it
// is typed (eval.js); every form also posts here, so the page works
// without a script. Every step goes through the operations the API uses
// (procedure.go), which check the role and audit.

// evalBody is the Evaluación page's data.
type evalBody struct {
	Month      string
	Prev, Next string
	// Index is the month's list (no id asked).
	Index     bool
	HasSample bool
	Items     []evalItem
	Counts    evalCounts

	ID       string
	Operator string
	InviteAt time.Time
	// Status is an evalItemStatus code.
	Status        string
	Revision      int
	Form          report.Form
	Eval          *report.Evaluation
	Call          *detailBody
	RingsText     string
	Over          bool
	TransferText  string
	RecordingText string
	// Draft, Revise and Resolve are the point sets of the three forms.
	Draft, Revise, Resolve evalPointSet
	Answers                []answerRow
	SavedAt                string
	DraftURL               string

	CanEvaluate bool
	Editable    bool
	CanRevise   bool
	CanResolve  bool
	// ReviseOpen opens the revision form (it came back with an error).
	ReviseOpen bool
	// Locked says the month's report is submitted or approved.
	Locked string
}

// evalItem is one row of the index.
type evalItem struct {
	ID, Operator string
	Rank         int
	Replacement  bool
	InviteAt     time.Time
	Status       string
	Revision     int
}

// evalCounts sums the index by status.
type evalCounts struct {
	Total, Pending, Draft, Submitted, Disputed int
}

// evalPointSet is the points of one form on the page; Prefix keeps the
// ids of the page's forms apart.
type evalPointSet struct {
	Prefix string
	Points []evalPointView
}

// evalPointView is one point as a form shows it.
type evalPointView struct {
	N               int
	ID, Label, Text string
	Auto            bool
	Verdict         report.Verdict
	Observation, At string
	Measured        string
	// Figures are what the recording shows for the point (Saludo, Tono;
	// console_speech.go), information beside the evaluator's verdict.
	Figures string
}

// answerRow is one answer shown read-only.
type answerRow struct {
	N               int
	ID, Label       string
	Verdict         report.Verdict
	Observation, At string
	AtJS            string
	// Figures are the recording's figures for the point (information).
	Figures string
}

// evalRoutes parses the page and registers it and its forms; nothing
// without the evaluations service.
func (c *console) evalRoutes(mux *router) {
	if c.s.cfg.Evaluations == nil {
		return
	}
	c.procedurePage("evaluacion", "evaluacion")
	office := func(h pageHandler) http.Handler { return c.page(h, false, everyone...) }
	mux.Handle("GET /evaluacion", office(c.evaluation))
	mux.Handle("POST /evaluacion/abrir", office(c.evalOpenForm))
	mux.Handle("POST /evaluacion/borrador", office(c.evalDraftForm))
	mux.Handle("POST /evaluacion/enviar", office(c.evalSubmitForm))
	mux.Handle("POST /evaluacion/revision", office(c.evalReviseForm))
	mux.Handle("POST /evaluacion/resolver", office(c.evalResolveForm))
}

// evalFlash are the messages after a step, by the code in ?hecho=.
func evalFlash(code string) string {
	switch code {
	case "abierta":
		return "Evaluación abierta: el borrador se guarda mientras escribe."
	case "borrador":
		return "Borrador guardado."
	case "enviada":
		return "Evaluación enviada. Queda a la vista de la recepcionista para que la reconozca."
	case "revision":
		return "Se guardó la nueva revisión con su motivo."
	case "resuelta":
		return "Disputa resuelta."
	}
	return ""
}

// evaluation is GET /evaluacion.
func (c *console) evaluation(w http.ResponseWriter, r *http.Request, p Principal) {
	c.renderEval(w, r, p, http.StatusOK, evalFlash(r.URL.Query().Get("hecho")), "", nil)
}

// evalPosted is a form that came back with an error: its values refill
// the form named set ("draft", "revise" or "resolve").
type evalPosted struct {
	set    string
	values url.Values
}

// renderEval shows the index or one call, with a message or an error.
func (c *console) renderEval(w http.ResponseWriter, r *http.Request, p Principal, status int, flash, errMsg string, posted *evalPosted) {
	m, start, err := c.sampleMonth(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	evs, err := c.s.evalList(r, p, m)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	b := evalBody{
		Month: m, Prev: start.AddDate(0, -1, 0).Format("2006-01"), Next: start.AddDate(0, 1, 0).Format("2006-01"),
		CanEvaluate: scopeOf(p, opEvalWork) != scopeNone,
	}
	byID := make(map[string]*report.Evaluation, len(evs))
	for i := range evs {
		byID[evs[i].ID] = &evs[i]
	}
	var items []report.Item
	if c.s.cfg.Sample != nil {
		smp, err := c.s.cfg.Sample.Get(r.Context(), m)
		switch {
		case errors.Is(err, report.ErrNoSample):
		case err != nil:
			c.fail(w, r, &p, sampleError(err))
			return
		default:
			b.HasSample = true
			for _, it := range smp.Items {
				if !it.Replaced {
					items = append(items, it)
				}
			}
		}
	}
	id := r.FormValue("id")
	title := "Evaluación de " + m
	if id == "" {
		b.Index = true
		c.evalIndex(r, &b, items, byID)
	} else {
		if err := c.evalCall(r, p, &b, id, items, byID, posted); err != nil {
			c.fail(w, r, &p, err)
			return
		}
		title = "Evaluación de la llamada " + id
	}
	pg := c.newPage(&p, title, "evaluacion", b)
	pg.Flash, pg.Error = flash, errMsg
	if !b.Index {
		pg.Scripts = []string{"detail.js", "eval.js"}
	}
	c.render(w, r, status, "evaluacion", pg)
}

// evalIndex fills the list of the month's sampled calls.
func (c *console) evalIndex(r *http.Request, b *evalBody, items []report.Item, byID map[string]*report.Evaluation) {
	for _, it := range items {
		ev := byID[it.ID]
		row := evalItem{ID: it.ID, Operator: it.Operator, Rank: it.Rank, Replacement: it.Replacement, Status: evalItemStatus(ev)}
		if ev != nil {
			row.InviteAt, row.Revision = ev.Facts.InviteAt, ev.Revision
		}
		if row.InviteAt.IsZero() {
			if call, err := c.s.cfg.Calls.Call(r.Context(), it.ID); err == nil {
				row.InviteAt = call.InviteAt
			}
		}
		b.Counts.Total++
		switch row.Status {
		case evalPending:
			b.Counts.Pending++
		case evalDraftCode:
			b.Counts.Draft++
		case evalDisputed:
			b.Counts.Disputed++
			b.Counts.Submitted++
		default:
			b.Counts.Submitted++
		}
		b.Items = append(b.Items, row)
	}
}

// evalCall fills the page of one call: a sampled call or one with an
// evaluation (a call replaced after it was evaluated keeps its page).
func (c *console) evalCall(r *http.Request, p Principal, b *evalBody, id string, items []report.Item, byID map[string]*report.Evaluation, posted *evalPosted) error {
	b.ID = id
	ev := byID[id]
	pos := -1
	for i, it := range items {
		if it.ID == id {
			pos = i
			b.Operator = it.Operator
		}
	}
	if pos < 0 && ev == nil {
		return &procError{kind: ErrNotFound, msg: "la llamada no está en la muestra", cause: report.ErrNotSampled}
	}
	// Prev and Next become the neighbouring calls of the sample.
	b.Prev, b.Next = "", ""
	if pos > 0 {
		b.Prev = items[pos-1].ID
	}
	if pos >= 0 && pos+1 < len(items) {
		b.Next = items[pos+1].ID
	}
	b.Eval, b.Status = ev, evalItemStatus(ev)
	form, err := report.FormByVersion(report.CurrentForm)
	if ev != nil {
		b.Operator, b.Revision = ev.Operator, ev.Revision
		form, err = report.FormByVersion(ev.Form)
	}
	if err != nil {
		return procErr("form of "+id, err)
	}
	b.Form = form

	// The call itself: the player and timeline of the detail page. A
	// record gone (pruned) leaves the evaluation's own facts.
	var facts report.EvalFacts
	if d, err := c.s.callDetail(r.Context(), id); err == nil {
		db := c.detailBody(d)
		b.Call = &db
		facts = evalFactsOf(d, c.s.cfg.Ring.MaxRings)
		if b.Operator == "" {
			b.Operator = d.Call.Operator
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if ev != nil {
		callInvite := facts.InviteAt
		facts = ev.Facts
		if facts.InviteAt.IsZero() {
			facts.InviteAt = callInvite
		}
	}
	b.InviteAt = facts.InviteAt
	b.RingsText, b.Over = ringsText(facts), !facts.WithinLimit
	b.TransferText = transferText(facts.Transfer)
	b.RecordingText = "sin grabación"
	if facts.RecordingSeconds > 0 {
		b.RecordingText = formatSeconds(facts.RecordingSeconds)
	}

	measured := measuredText(facts)
	var figures map[string]string
	if b.Call != nil {
		figures = pointFigures(&b.Call.Call)
	}
	var current []report.Answer
	if ev != nil {
		current = ev.Answers
		b.Answers = answerRows(form, current)
		for i := range b.Answers {
			b.Answers[i].Figures = figures[b.Answers[i].ID]
		}
		if !ev.UpdatedAt.IsZero() {
			b.SavedAt = c.f.dateTime(ev.UpdatedAt)
		}
	}
	values := func(set string) url.Values {
		if posted != nil && posted.set == set {
			return posted.values
		}
		return nil
	}
	b.Draft = pointSet("", form, current, measured, figures, values("draft"))
	b.Revise = pointSet("rev-", form, current, measured, figures, values("revise"))
	b.Resolve = pointSet("res-", form, current, measured, figures, values("resolve"))
	b.ReviseOpen = posted != nil && posted.set == "revise"
	b.DraftURL = "/api/v1/months/" + url.PathEscape(b.Month) + "/evaluations/" + url.PathEscape(id) + "/draft"

	if ev != nil && c.s.cfg.Review != nil {
		if rv, err := c.s.reviewGet(r, p, b.Month); err == nil && (rv.State == report.ReviewSubmitted || rv.State == report.ReviewApproved) {
			b.Locked = reviewStateLabel(rv.State)
		}
	}
	submitted := ev != nil && ev.Status == report.EvalSubmitted
	b.Editable = ev != nil && !submitted && b.CanEvaluate && b.Locked == ""
	b.CanRevise = submitted && b.CanEvaluate && b.Locked == ""
	b.CanResolve = submitted && ev.Ack != nil && ev.Ack.State == report.AckDisputed && scopeOf(p, opEvalResolve) != scopeNone
	return nil
}

// evalFactsOf are the facts of a call not evaluated yet, as Open would
// copy them.
func evalFactsOf(d CallDetail, maxRings int) report.EvalFacts {
	call := d.Call
	f := report.EvalFacts{InviteAt: call.InviteAt, Rings: call.Rings, RingSeconds: call.RingSeconds, WithinLimit: call.WithinLimit, MaxRings: maxRings}
	if t := call.Transfer; t != nil {
		f.Transfer = &report.TransferFacts{Kind: t.Kind, Target: t.Target, Result: t.Result}
	}
	if call.Recording != nil {
		f.RecordingSeconds = call.Recording.DurationSeconds
	}
	return f
}

// ringsText writes the ring count against the limit: "3 de 4 timbres".
func ringsText(f report.EvalFacts) string {
	s := strconv.Itoa(f.Rings)
	if f.MaxRings > 0 {
		s += " de " + strconv.Itoa(f.MaxRings)
	}
	if f.Rings == 1 && f.MaxRings <= 1 {
		return s + " timbre"
	}
	return s + " timbres"
}

// measuredText is inmediatez as the capture measured it: "medido: 3
// timbres, 9,2 s".
func measuredText(f report.EvalFacts) string {
	rings := strconv.Itoa(f.Rings) + " timbres"
	if f.Rings == 1 {
		rings = "1 timbre"
	}
	return "medido: " + rings + ", " + formatSeconds(f.RingSeconds)
}

// transferText writes the transfer facts, or that there was none.
func transferText(t *report.TransferFacts) string {
	if t == nil {
		return "sin traslado"
	}
	s := transferKindLabel(t.Kind)
	if t.Target != "" {
		s += " hacia " + t.Target
	}
	switch t.Result {
	case "":
	case "completed":
		s += " (completado)"
	case "failed":
		s += " (fallido)"
	default:
		s += " (" + t.Result + ")"
	}
	return s
}

// pointSet lays out form's points with the answers, or with the values of
// a form posted back, and the recording's figures by point id.
func pointSet(prefix string, form report.Form, answers []report.Answer, measured string, figures map[string]string, posted url.Values) evalPointSet {
	set := evalPointSet{Prefix: prefix}
	for i, pt := range form.Points {
		a := answerOf(answers, pt.ID)
		v := evalPointView{
			N: i + 1, ID: pt.ID, Label: pt.Label, Text: pt.Text, Auto: pt.Auto,
			Verdict: a.Verdict, Observation: a.Observation, At: atText(a.AtSeconds),
			Figures: figures[pt.ID],
		}
		if pt.Auto {
			v.Measured = measured
		}
		if posted != nil {
			if !pt.Auto {
				v.Verdict = report.Verdict(posted.Get("verdict-" + pt.ID))
			}
			v.Observation, v.At = posted.Get("obs-"+pt.ID), posted.Get("at-"+pt.ID)
		}
		set.Points = append(set.Points, v)
	}
	return set
}

// answerOf is the answer to point, empty when none.
func answerOf(answers []report.Answer, point string) report.Answer {
	for _, a := range answers {
		if a.Point == point {
			return a
		}
	}
	return report.Answer{Point: point}
}

// answerRows lays out answers read-only in the form's order.
func answerRows(form report.Form, answers []report.Answer) []answerRow {
	rows := make([]answerRow, 0, len(form.Points))
	for i, pt := range form.Points {
		a := answerOf(answers, pt.ID)
		row := answerRow{N: i + 1, ID: pt.ID, Label: pt.Label, Verdict: a.Verdict, Observation: a.Observation, At: atText(a.AtSeconds)}
		if a.AtSeconds != nil {
			row.AtJS = strconv.FormatFloat(*a.AtSeconds, 'f', 3, 64)
		}
		rows = append(rows, row)
	}
	return rows
}

// postedAnswers reads the answers of a posted form: every point of the
// form, its verdict (the current one for a measured point, which the
// service keeps anyway), observation and moment.
func postedAnswers(form report.Form, current []report.Answer, v url.Values) ([]report.Answer, error) {
	out := make([]report.Answer, 0, len(form.Points))
	for _, pt := range form.Points {
		a := report.Answer{Point: pt.ID, Observation: v.Get("obs-" + pt.ID)}
		if pt.Auto {
			a.Verdict = answerOf(current, pt.ID).Verdict
		} else {
			a.Verdict = report.Verdict(v.Get("verdict-" + pt.ID))
			switch a.Verdict {
			case report.VerdictPending, report.VerdictCumple, report.VerdictNoCumple, report.VerdictNoAplica:
			default:
				return nil, &procError{kind: ErrInvalid, msg: "veredicto desconocido en «" + pt.Label + "»", cause: report.ErrBadAnswer}
			}
			at, ok := parseAt(v.Get("at-" + pt.ID))
			if !ok {
				return nil, &procError{kind: ErrInvalid, msg: "el momento de «" + pt.Label + "» debe ser un número de segundos (por ejemplo 12,5)", cause: report.ErrBadAnswer}
			}
			a.AtSeconds = at
		}
		out = append(out, a)
	}
	return out, nil
}

// evalTargetOf reads the month and id a form posts.
func (c *console) evalTargetOf(r *http.Request) (string, string, error) {
	m, _, err := c.sampleMonth(r)
	if err != nil {
		return "", "", err
	}
	return m, r.PostFormValue("id"), nil
}

// evalDone goes back to the call's page with a message.
func evalDone(w http.ResponseWriter, r *http.Request, month, id, code string) {
	seeOther(w, r, "/evaluacion?"+url.Values{"m": {month}, "id": {id}, "hecho": {code}}.Encode())
}

// evalOpenForm is POST /evaluacion/abrir: opens (creates) the draft.
func (c *console) evalOpenForm(w http.ResponseWriter, r *http.Request, p Principal) {
	m, id, err := c.evalTargetOf(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	if _, err := c.s.evalOpen(r, p, m, id); err != nil {
		c.evalFailed(w, r, p, err, nil)
		return
	}
	evalDone(w, r, m, id, "abierta")
}

// evalCurrent reads the evaluation a form changes, for its form and its
// measured answers.
func (c *console) evalCurrent(r *http.Request, p Principal, m, id string) (report.Evaluation, report.Form, error) {
	ev, err := c.s.evalGet(r, p, m, id)
	if err != nil {
		return report.Evaluation{}, report.Form{}, err
	}
	form, err := report.FormByVersion(ev.Form)
	if err != nil {
		return report.Evaluation{}, report.Form{}, procErr("form of "+id, err)
	}
	return ev, form, nil
}

// evalSaveDraft saves the posted draft (both the save and the submit
// buttons post every answer).
func (c *console) evalSaveDraft(w http.ResponseWriter, r *http.Request, p Principal) (string, string, bool) {
	m, id, err := c.evalTargetOf(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return "", "", false
	}
	posted := &evalPosted{set: "draft", values: r.PostForm}
	ev, form, err := c.evalCurrent(r, p, m, id)
	if err != nil {
		c.evalFailed(w, r, p, err, posted)
		return "", "", false
	}
	answers, err := postedAnswers(form, ev.Answers, r.PostForm)
	if err == nil {
		_, err = c.s.evalDraft(r, p, m, id, answers)
	}
	if err != nil {
		c.evalFailed(w, r, p, err, posted)
		return "", "", false
	}
	return m, id, true
}

// evalDraftForm is POST /evaluacion/borrador.
func (c *console) evalDraftForm(w http.ResponseWriter, r *http.Request, p Principal) {
	if m, id, ok := c.evalSaveDraft(w, r, p); ok {
		evalDone(w, r, m, id, "borrador")
	}
}

// evalSubmitForm is POST /evaluacion/enviar: saves what was posted, then
// submits.
func (c *console) evalSubmitForm(w http.ResponseWriter, r *http.Request, p Principal) {
	m, id, ok := c.evalSaveDraft(w, r, p)
	if !ok {
		return
	}
	if _, err := c.s.evalSubmit(r, p, m, id); err != nil {
		c.evalFailed(w, r, p, err, &evalPosted{set: "draft", values: r.PostForm})
		return
	}
	evalDone(w, r, m, id, "enviada")
}

// evalReviseForm is POST /evaluacion/revision.
func (c *console) evalReviseForm(w http.ResponseWriter, r *http.Request, p Principal) {
	m, id, err := c.evalTargetOf(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	posted := &evalPosted{set: "revise", values: r.PostForm}
	ev, form, err := c.evalCurrent(r, p, m, id)
	if err != nil {
		c.evalFailed(w, r, p, err, posted)
		return
	}
	answers, err := postedAnswers(form, ev.Answers, r.PostForm)
	if err == nil {
		_, err = c.s.evalRevise(r, p, m, id, r.PostFormValue("reason"), answers)
	}
	if err != nil {
		c.evalFailed(w, r, p, err, posted)
		return
	}
	evalDone(w, r, m, id, "revision")
}

// evalResolveForm is POST /evaluacion/resolver: the resolution, and the
// corrected answers when "change" is ticked.
func (c *console) evalResolveForm(w http.ResponseWriter, r *http.Request, p Principal) {
	m, id, err := c.evalTargetOf(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	posted := &evalPosted{set: "resolve", values: r.PostForm}
	var answers []report.Answer
	if r.PostFormValue("change") != "" {
		ev, form, err := c.evalCurrent(r, p, m, id)
		if err == nil {
			answers, err = postedAnswers(form, ev.Answers, r.PostForm)
		}
		if err != nil {
			c.evalFailed(w, r, p, err, posted)
			return
		}
	}
	if _, err := c.s.evalResolve(r, p, m, id, r.PostFormValue("resolution"), answers); err != nil {
		c.evalFailed(w, r, p, err, posted)
		return
	}
	evalDone(w, r, m, id, "resuelta")
}

// evalFailed shows a refused step on the page itself, with the form as it
// was posted: 400 for what was wrong in it, 409 for what the state does
// not allow, 503 when the audit could not be written; anything else (403,
// 404, 500) is the error page.
func (c *console) evalFailed(w http.ResponseWriter, r *http.Request, p Principal, err error, posted *evalPosted) {
	if status, msg, ok := stepRefusal(err); ok {
		c.renderEval(w, r, p, status, "", msg, posted)
		return
	}
	c.fail(w, r, &p, err)
}

// stepRefusal is how a page shows a refused step of the procedure: the
// status and the Spanish message, ok false for the errors the error page
// answers.
func stepRefusal(err error) (int, string, bool) {
	switch {
	case errors.Is(err, errAuditUnavailable):
		return http.StatusServiceUnavailable, "No se pudo escribir la auditoría: el paso no se da por hecho. Intente de nuevo; si se repite, avise al administrador.", true
	case errors.Is(err, errConflict):
		return http.StatusConflict, capitalize(detail(err, errConflict, "No es posible en el estado actual.")), true
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, capitalize(detail(err, ErrInvalid, "Solicitud inválida.")), true
	}
	return 0, "", false
}

// capitalize writes a message's first letter in upper case and ends it
// with a period.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	if r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	s = string(r)
	if last := r[len(r)-1]; last != '.' && last != '?' && last != '!' {
		s += "."
	}
	return s
}
