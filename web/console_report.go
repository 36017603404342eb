package web

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/switchtap/switchtap/report"
)

// The Informe page (/informe?m=YYYY-MM): the whole month's report
// (report.Document) as the jefe receives it, steps 03–06 of ETAPA 2
// (issue 10 §4–6): figures and charts, sample design, tabulation overall
// and per receptionist, inmediatez over every call, observations, the
// técnico's conclusions, outgoing calls and the tap's health, the actions
// of the month and the follow-up of earlier ones, and the review's rounds.
// The forms are the steps each role may take in the report's state; every
// one goes through the operations the API uses (procedure.go).

// reportBody is the Informe page's data.
type reportBody struct {
	Month, Label, Prev, Next string
	D                        *report.Document
	F                        *report.MonthFigures
	Tab                      *report.Tabulation
	Form                     report.Form
	Charts                   []monthChart
	ByOperator               []operatorTally
	State                    report.ReviewState
	Due                      dueView
	Exports                  []exportLink

	// Conclusions and Observations are the texts in the forms (the
	// draft's conclusions, or what was posted back with an error).
	Conclusions  string
	Observations string

	CanWrite, CanJudge, CanAct, CanAssess bool

	Actions   actionTable
	FollowUps []report.FollowUp

	// The corrective action form.
	ActionForm   actionFormValues
	To           []option
	Kinds        []option
	Points       []option
	IndicatorOps []option
}

// operatorTally is one receptionist's tabulation.
type operatorTally struct {
	Name   string
	Points []report.PointTally
	// All is inmediatez over every call of theirs, nil when unknown.
	All *report.PointTally
}

// exportLink is one download of the report.
type exportLink struct {
	Label, URL, Format, Table string
}

// actionFormValues are the corrective action form's fields.
type actionFormValues struct {
	To, Instruction, Kind, Point, Operator, DueDate string
}

// reportRoutes parses the page and registers it and its forms; nothing
// without the document.
func (c *console) reportRoutes(mux *router) {
	if c.s.cfg.Documents == nil {
		return
	}
	c.procedurePage("informe", "acciones", "informe")
	office := func(h pageHandler) http.Handler { return c.page(h, false, everyone...) }
	mux.Handle("GET /informe", office(c.reportPage))
	mux.Handle("POST /informe/conclusiones", office(c.reportConclusionsForm))
	mux.Handle("POST /informe/enviar", office(c.reportSubmitForm))
	mux.Handle("POST /informe/devolver", office(c.reportReturnForm))
	mux.Handle("POST /informe/aprobar", office(c.reportApproveForm))
	mux.Handle("POST /informe/accion", office(c.reportActionForm))
}

// reportFlash are the messages after a step, by the code in ?hecho=.
func reportFlash(code string) string {
	switch code {
	case "conclusiones":
		return "Conclusiones guardadas."
	case "enviado":
		return "Informe enviado al jefe."
	case "devuelto":
		return "Informe devuelto al técnico con sus observaciones."
	case "aprobado":
		return "Informe aprobado. Ya puede registrar las acciones correctivas."
	}
	return actionFlash(code)
}

// reportPage is GET /informe.
func (c *console) reportPage(w http.ResponseWriter, r *http.Request, p Principal) {
	m, _, err := c.sampleMonth(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	c.renderReport(w, r, p, m, http.StatusOK, reportFlash(r.URL.Query().Get("hecho")), "", nil)
}

// renderReport shows month's report with a message or an error; posted,
// when not nil, is a form that came back with an error.
func (c *console) renderReport(w http.ResponseWriter, r *http.Request, p Principal, month string, status int, flash, errMsg string, posted url.Values) {
	d, err := c.s.document(r, p, month)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	start, err := time.ParseInLocation("2006-01", month, c.s.cfg.Location)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	b := reportBody{
		Month: month, Label: monthName(start.Month()) + " de " + start.Format("2006"),
		Prev: start.AddDate(0, -1, 0).Format("2006-01"), Next: start.AddDate(0, 1, 0).Format("2006-01"),
		D: d, F: d.Figures, Tab: d.Tabulation, State: d.Review.State,
		Conclusions: d.Review.Conclusions, FollowUps: d.FollowUps,
	}
	if b.State == "" {
		b.State = report.ReviewDraft
	}
	formVersion := report.CurrentForm
	if d.Tabulation != nil && d.Tabulation.Form != "" {
		formVersion = d.Tabulation.Form
	}
	if f, err := report.FormByVersion(formVersion); err == nil {
		b.Form = f
	}
	if d.Figures != nil {
		b.Charts = reportCharts(d.Figures)
	}
	b.ByOperator = c.operatorTallies(d.Tabulation)
	b.Due = c.dueView(d.Due, c.s.now())
	b.Exports = c.exportLinks(month)

	b.CanWrite = scopeOf(p, opReportWrite) != scopeNone && (b.State == report.ReviewDraft || b.State == report.ReviewReturned)
	b.CanJudge = scopeOf(p, opReportJudge) != scopeNone && b.State == report.ReviewSubmitted
	writer := scopeOf(p, opActionWrite) != scopeNone
	b.CanAct = writer && b.State == report.ReviewApproved
	b.CanAssess = writer
	b.Actions = c.actionTable("report-actions", p, d.Actions, month, "informe")
	// The month's own actions are judged in a later report (follow-ups).
	b.Actions.CanAssess = false

	af := actionFormValues{To: report.ToEveryone, Kind: report.IndicatorPointNoCumplePct,
		DueDate: c.s.now().In(c.s.cfg.Location).AddDate(0, 1, 0).Format(layoutDay)}
	if posted != nil {
		b.Conclusions = posted.Get("conclusions")
		b.Observations = posted.Get("observations")
		if posted.Get("instruction") != "" || posted.Get("kind") != "" {
			af = actionFormValues{To: posted.Get("to"), Instruction: posted.Get("instruction"), Kind: posted.Get("kind"),
				Point: posted.Get("point"), Operator: posted.Get("operator"), DueDate: posted.Get("due_date")}
		}
	}
	b.ActionForm = af
	for _, op := range append([]string{report.ToEveryone}, c.s.cfg.Operators...) {
		label := op
		if op == report.ToEveryone {
			label = "Todas las recepcionistas"
		}
		b.To = append(b.To, option{Value: op, Label: label, Selected: af.To == op})
	}
	for _, k := range indicatorKinds() {
		k.Selected = af.Kind == k.Value
		b.Kinds = append(b.Kinds, k)
	}
	b.Points = append(b.Points, option{Value: "", Label: "—", Selected: af.Point == ""})
	for _, pt := range b.Form.Points {
		b.Points = append(b.Points, option{Value: pt.ID, Label: pt.Label, Selected: af.Point == pt.ID})
	}
	b.IndicatorOps = append(b.IndicatorOps, option{Value: "", Label: "Todas las recepcionistas", Selected: af.Operator == ""})
	for _, op := range c.s.cfg.Operators {
		b.IndicatorOps = append(b.IndicatorOps, option{Value: op, Label: op, Selected: af.Operator == op})
	}

	pg := c.newPage(&p, "Informe de "+b.Label, "informe", b)
	pg.Flash, pg.Error = flash, errMsg
	pg.Scripts = []string{"eval.js"}
	c.render(w, r, status, "informe", pg)
}

// reportCharts draws the Mes page's three charts of the figures.
func reportCharts(f *report.MonthFigures) []monthChart {
	var out []monthChart
	for _, ch := range []struct {
		id string
		c  report.Chart
	}{
		{"chart-service-level", report.ServiceLevelChart(f)},
		{"chart-rings", report.RingChart(f)},
		{"chart-hours", report.HourChart(f)},
	} {
		// The SVG is built by package report with every text escaped.
		out = append(out, monthChart{ID: ch.id, Title: ch.c.Title, SVG: template.HTML(ch.c.SVG())}) // #nosec G203 -- escaped by report.Chart.SVG
	}
	return out
}

// operatorTallies orders the per-receptionist tabulation: the configured
// receptionists first, in the configuration's order, then any other.
func (c *console) operatorTallies(tab *report.Tabulation) []operatorTally {
	if tab == nil {
		return nil
	}
	names := slices.Clone(c.s.cfg.Operators)
	var others []string
	for name := range tab.ByOperator {
		if !slices.Contains(names, name) {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	var out []operatorTally
	for _, name := range append(names, others...) {
		pts, ok := tab.ByOperator[name]
		if !ok {
			continue
		}
		t := operatorTally{Name: name, Points: pts}
		if all, ok := tab.InmediatezAllByOperator[name]; ok {
			t.All = &all
		}
		out = append(out, t)
	}
	return out
}

// exportLinks are the report's downloads (none without the exporter).
func (c *console) exportLinks(month string) []exportLink {
	if c.s.cfg.Exports == nil {
		return nil
	}
	base := "/api/v1/months/" + url.PathEscape(month) + "/report/export?"
	out := []exportLink{
		{Label: "Excel (XLSX)", URL: base + "format=xlsx", Format: "xlsx"},
		{Label: "PDF", URL: base + "format=pdf", Format: "pdf"},
	}
	for _, t := range exportTables {
		out = append(out, exportLink{Label: "CSV " + t, URL: base + url.Values{"format": {"csv"}, "table": {t}}.Encode(), Format: "csv", Table: t})
	}
	return out
}

// reportEventLabel names a step of the report's history.
func reportEventLabel(a string) string {
	switch a {
	case report.EventConclusions:
		return "Conclusiones guardadas"
	case report.EventSubmitted:
		return "Enviado al jefe"
	case report.EventReturned:
		return "Devuelto con observaciones"
	case report.EventApproved:
		return "Aprobado"
	case report.EventActionAdded:
		return "Acción correctiva registrada"
	case report.EventActionAssessed:
		return "Acción correctiva valorada"
	case report.EventActionRead:
		return "Acción leída por la recepcionista"
	case report.EventKeepReleased:
		return "Protección de grabaciones liberada"
	}
	return a
}

// reportStep is a posted step: it reads the month, runs step and goes
// back to the page with code, or shows the refusal on the page with what
// was posted.
func (c *console) reportStep(w http.ResponseWriter, r *http.Request, p Principal, code string, step func(month string) error) {
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
		c.renderReport(w, r, p, m, status, "", msg, r.PostForm)
		return
	}
	seeOther(w, r, "/informe?"+url.Values{"m": {m}, "hecho": {code}}.Encode())
}

// reportConclusionsForm is POST /informe/conclusiones.
func (c *console) reportConclusionsForm(w http.ResponseWriter, r *http.Request, p Principal) {
	c.reportStep(w, r, p, "conclusiones", func(m string) error {
		_, err := c.s.reviewConclusions(r, p, m, r.PostFormValue("conclusions"))
		return err
	})
}

// reportSubmitForm is POST /informe/enviar: saves the conclusions posted
// with it (when they changed), then submits.
func (c *console) reportSubmitForm(w http.ResponseWriter, r *http.Request, p Principal) {
	c.reportStep(w, r, p, "enviado", func(m string) error {
		if _, ok := r.PostForm["conclusions"]; ok {
			rv, err := c.s.reviewGet(r, p, m)
			if err != nil {
				return err
			}
			if text := r.PostFormValue("conclusions"); text != rv.Conclusions {
				if _, err := c.s.reviewConclusions(r, p, m, text); err != nil {
					return err
				}
			}
		}
		_, err := c.s.reviewSubmit(r, p, m)
		return err
	})
}

// reportReturnForm is POST /informe/devolver.
func (c *console) reportReturnForm(w http.ResponseWriter, r *http.Request, p Principal) {
	c.reportStep(w, r, p, "devuelto", func(m string) error {
		_, err := c.s.reviewReturn(r, p, m, r.PostFormValue("observations"))
		return err
	})
}

// reportApproveForm is POST /informe/aprobar.
func (c *console) reportApproveForm(w http.ResponseWriter, r *http.Request, p Principal) {
	c.reportStep(w, r, p, "aprobado", func(m string) error {
		_, err := c.s.reviewApprove(r, p, m)
		return err
	})
}

// reportActionForm is POST /informe/accion: a corrective action on the
// approved report. The point is sent only for a point's indicator.
func (c *console) reportActionForm(w http.ResponseWriter, r *http.Request, p Principal) {
	c.reportStep(w, r, p, "accion", func(m string) error {
		req := actionRequest{
			To: r.PostFormValue("to"), Instruction: r.PostFormValue("instruction"), DueDate: r.PostFormValue("due_date"),
			Indicator: report.Indicator{Kind: r.PostFormValue("kind"), Operator: r.PostFormValue("operator")},
		}
		if req.Indicator.Kind == report.IndicatorPointNoCumplePct {
			req.Indicator.Point = r.PostFormValue("point")
		}
		_, err := c.s.actionAdd(r, p, m, req)
		return err
	})
}
