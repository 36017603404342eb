package web

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/switchtap/switchtap/report"
)

// The Acciones page (/acciones): the corrective actions of every month
// (steps 05–06 of ETAPA 2, issue 10 §5) with their status, filtered by
// month, receptionist and status; the jefe assesses each one here or from
// a later month's report (effective, not effective, closed).

// actionsBody is the Acciones page's data.
type actionsBody struct {
	Month    string
	To       []option
	Statuses []option
	Table    actionTable
	Open     int
}

// actionTable is a table of actions (the action-table partial).
type actionTable struct {
	ID   string
	Rows []actionView
	// CanAssess shows the jefe's form, AssessMonth its default month and
	// Back the page it returns to.
	CanAssess   bool
	AssessMonth string
	Back        string
	// CanAck shows the receptionist's "Leído".
	CanAck bool
}

// actionView is one action as a table shows it.
type actionView struct {
	A report.Action
	// Last is the latest assessment, nil before the first.
	Last      *report.Assessment
	Overdue   bool
	AckedByMe bool
}

// actionRoutes parses the page and registers it; nothing without the
// review service.
func (c *console) actionRoutes(mux *router) {
	if c.s.cfg.Review == nil {
		return
	}
	c.procedurePage("acciones", "acciones")
	mux.Handle("GET /acciones", c.page(c.actions, false, everyone...))
	mux.Handle("POST /acciones/{id}/valorar", c.page(c.actionAssessForm, false, everyone...))
}

// actionFlash are the messages after a step, by the code in ?hecho=.
func actionFlash(code string) string {
	switch code {
	case "valorada":
		return "Se guardó la valoración de la acción."
	case "accion":
		return "Acción correctiva registrada."
	case "leida":
		return "Acción marcada como leída."
	}
	return ""
}

// actionStatuses are the status filter's options.
func actionStatuses(sel string) []option {
	out := []option{}
	for _, s := range []report.ActionStatus{report.ActionOpen, report.ActionEffective, report.ActionNotEffective, report.ActionClosed} {
		out = append(out, option{Value: string(s), Label: actionStatusLabel(s), Selected: sel == string(s)})
	}
	return out
}

// actions is GET /acciones.
func (c *console) actions(w http.ResponseWriter, r *http.Request, p Principal) {
	c.renderActions(w, r, p, http.StatusOK, actionFlash(r.URL.Query().Get("hecho")), "")
}

func (c *console) renderActions(w http.ResponseWriter, r *http.Request, p Principal, status int, flash, errMsg string) {
	q := r.URL.Query()
	f := report.ActionFilter{Month: q.Get("month"), To: q.Get("to"), Status: report.ActionStatus(q.Get("status"))}
	acts, err := c.s.actionList(r, p, f)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	b := actionsBody{Month: f.Month, Statuses: actionStatuses(string(f.Status))}
	for _, op := range append(slices.Clone(c.s.cfg.Operators), report.ToEveryone) {
		label := op
		if op == report.ToEveryone {
			label = "Todas las recepcionistas"
		}
		b.To = append(b.To, option{Value: op, Label: label, Selected: f.To == op})
	}
	b.Table = c.actionTable("actions", p, acts, c.latestReportMonth(), "acciones")
	for _, a := range acts {
		if a.Status == report.ActionOpen {
			b.Open++
		}
	}
	pg := c.newPage(&p, "Acciones correctivas", "acciones", b)
	pg.Flash, pg.Error = flash, errMsg
	c.render(w, r, status, "acciones", pg)
}

// latestReportMonth is the month whose report is being made now: the one
// before the current month.
func (c *console) latestReportMonth() string {
	now := c.s.now().In(c.s.cfg.Location)
	return time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, c.s.cfg.Location).Format("2006-01")
}

// actionTable lays out actions for p: the assessment form for who may
// record actions, "Leído" for a receptionist.
func (c *console) actionTable(id string, p Principal, acts []report.Action, assessMonth, back string) actionTable {
	t := actionTable{
		ID: id, AssessMonth: assessMonth, Back: back,
		CanAssess: scopeOf(p, opActionWrite) != scopeNone,
		CanAck:    scopeOf(p, opActionAck) != scopeNone,
	}
	today := c.s.now().In(c.s.cfg.Location).Format(layoutDay)
	for _, a := range acts {
		v := actionView{A: a, Overdue: a.Status == report.ActionOpen && a.DueDate != "" && a.DueDate < today}
		if n := len(a.Assessments); n > 0 {
			last := a.Assessments[n-1]
			v.Last = &last
		}
		for _, ack := range a.Acknowledged {
			if p.Operator != "" && ack.Operator == p.Operator {
				v.AckedByMe = true
			}
		}
		t.Rows = append(t.Rows, v)
	}
	return t
}

// actionAssessForm is POST /acciones/{id}/valorar, from this page or the
// report's (back=informe).
func (c *console) actionAssessForm(w http.ResponseWriter, r *http.Request, p Principal) {
	id := r.PathValue("id")
	req := assessRequest{Month: r.PostFormValue("month"), Status: report.ActionStatus(r.PostFormValue("status")), Comment: r.PostFormValue("comment")}
	_, err := c.s.actionAssess(r, p, id, req)
	back := r.PostFormValue("back")
	if err != nil {
		status, msg, ok := stepRefusal(err)
		if !ok {
			c.fail(w, r, &p, err)
			return
		}
		if back == "informe" && checkMonth(req.Month) == nil {
			c.renderReport(w, r, p, req.Month, status, "", msg, nil)
			return
		}
		c.renderActions(w, r, p, status, "", msg)
		return
	}
	if back == "informe" {
		seeOther(w, r, "/informe?"+url.Values{"m": {req.Month}, "hecho": {"valorada"}}.Encode()+"#follow-ups")
		return
	}
	seeOther(w, r, "/acciones?hecho=valorada")
}
