package web

import (
	"net/http"
	"net/url"

	"github.com/switchtap/switchtap/report"
)

// The Mis evaluaciones page (/mias), the receptionist's own part of the
// procedure (issue 10 §5): the submitted evaluations of their calls, read
// only with the técnico's observations, each acknowledged ("Reconozco")
// or disputed with a comment, and the corrective actions given to them or
// to everyone, each marked as read. What they see is filtered by the
// operations of procedure.go (their own data only).

// mineBody is the page's data.
type mineBody struct {
	Operator   string
	Month      string
	Prev, Next string
	Evals      []mineEval
	Actions    actionTable
}

// mineEval is one of the receptionist's evaluations.
type mineEval struct {
	Ev       report.Evaluation
	Status   string
	Answers  []answerRow
	NoCumple int
	// CanAnswer: the last revision has no answer of theirs yet.
	CanAnswer bool
}

// mineRoutes parses the page and registers it and its forms.
func (c *console) mineRoutes(mux *router) {
	if c.s.cfg.Evaluations == nil && c.s.cfg.Review == nil {
		return
	}
	c.procedurePage("mias", "evaluacion", "acciones", "mias")
	own := func(h pageHandler) http.Handler { return c.page(h, false, RoleRecepcionista) }
	mux.Handle("GET /mias", own(c.mine))
	mux.Handle("POST /mias/reconocer", own(c.mineAckForm))
	mux.Handle("POST /mias/disputar", own(c.mineDisputeForm))
	mux.Handle("POST /mias/acciones/{id}/leido", own(c.mineActionAckForm))
}

// mineFlash are the messages after a step, by the code in ?hecho=.
func mineFlash(code string) string {
	switch code {
	case "reconocida":
		return "Gracias: la evaluación quedó reconocida."
	case "disputada":
		return "La disputa quedó registrada; el técnico o el jefe la resolverá."
	case "leida":
		return "Acción marcada como leída."
	}
	return ""
}

// mine is GET /mias.
func (c *console) mine(w http.ResponseWriter, r *http.Request, p Principal) {
	c.renderMine(w, r, p, http.StatusOK, mineFlash(r.URL.Query().Get("hecho")), "")
}

func (c *console) renderMine(w http.ResponseWriter, r *http.Request, p Principal, status int, flash, errMsg string) {
	m, start, err := c.sampleMonth(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	b := mineBody{
		Operator: p.Operator, Month: m,
		Prev: start.AddDate(0, -1, 0).Format("2006-01"), Next: start.AddDate(0, 1, 0).Format("2006-01"),
	}
	if c.s.cfg.Evaluations != nil {
		evs, err := c.s.evalList(r, p, m)
		if err != nil {
			c.fail(w, r, &p, err)
			return
		}
		for _, ev := range evs {
			me := mineEval{Ev: ev, Status: evalItemStatus(&ev), CanAnswer: canAnswer(ev)}
			if form, err := report.FormByVersion(ev.Form); err == nil {
				me.Answers = answerRows(form, ev.Answers)
			}
			for _, a := range ev.Answers {
				if a.Verdict == report.VerdictNoCumple {
					me.NoCumple++
				}
			}
			b.Evals = append(b.Evals, me)
		}
	}
	if c.s.cfg.Review != nil {
		acts, err := c.s.actionList(r, p, report.ActionFilter{})
		if err != nil {
			c.fail(w, r, &p, err)
			return
		}
		b.Actions = c.actionTable("my-actions", p, acts, m, "mias")
	}
	pg := c.newPage(&p, "Mis evaluaciones", "mias", b)
	pg.Flash, pg.Error = flash, errMsg
	pg.Scripts = []string{"eval.js"}
	c.render(w, r, status, "mias", pg)
}

// canAnswer mirrors the evaluator's rule: a receptionist answers each
// revision once, and again only after a resolution that made a new one.
func canAnswer(ev report.Evaluation) bool {
	if ev.Status != report.EvalSubmitted {
		return false
	}
	a := ev.Ack
	return a == nil || a.State == report.AckNone || (a.State == report.AckResolved && a.Revision < ev.Revision)
}

// mineStep runs a posted step and goes back to the page, or shows the
// refusal on it.
func (c *console) mineStep(w http.ResponseWriter, r *http.Request, p Principal, code, anchor string, step func(month string) error) {
	m, _, err := c.sampleMonth(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	if err := step(m); err != nil {
		status, msg, ok := stepRefusal(err)
		if !ok {
			c.fail(w, r, &p, err)
			return
		}
		c.renderMine(w, r, p, status, "", msg)
		return
	}
	seeOther(w, r, "/mias?"+url.Values{"m": {m}, "hecho": {code}}.Encode()+anchor)
}

// mineAckForm is POST /mias/reconocer.
func (c *console) mineAckForm(w http.ResponseWriter, r *http.Request, p Principal) {
	id := r.PostFormValue("id")
	c.mineStep(w, r, p, "reconocida", "#ev-"+url.PathEscape(id), func(m string) error {
		_, err := c.s.evalAck(r, p, m, id, false, "")
		return err
	})
}

// mineDisputeForm is POST /mias/disputar: the comment is required.
func (c *console) mineDisputeForm(w http.ResponseWriter, r *http.Request, p Principal) {
	id := r.PostFormValue("id")
	c.mineStep(w, r, p, "disputada", "#ev-"+url.PathEscape(id), func(m string) error {
		_, err := c.s.evalAck(r, p, m, id, true, r.PostFormValue("comment"))
		return err
	})
}

// mineActionAckForm is POST /mias/acciones/{id}/leido.
func (c *console) mineActionAckForm(w http.ResponseWriter, r *http.Request, p Principal) {
	id := r.PathValue("id")
	c.mineStep(w, r, p, "leida", "#acciones", func(string) error {
		_, err := c.s.actionAck(r, p, id)
		return err
	})
}
