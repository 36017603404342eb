package web

import (
	"html/template"
	"maps"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchtap/switchtap/report"
)

// What the procedure's pages (Evaluación, Informe, Acciones, Calendario,
// Mis evaluaciones) share: how their templates are parsed and the Spanish
// names of the procedure's states. The pages share partials across their
// files (the seven points and an evaluation's answers are defined in
// evaluacion.html, an action's row in acciones.html); a page parses the
// files it borrows from before its own, whose "content" is the one kept
// (a later {{define}} replaces an earlier one).

// procedurePage parses the layout, the partials and files (the page's own
// last) as the page name. A template that does not parse leaves that page
// answering 500 (caught by the tests), never the console down.
func (c *console) procedurePage(name string, files ...string) {
	paths := []string{"templates/layout.html", "templates/partials.html"}
	for _, f := range files {
		paths = append(paths, "templates/"+f+".html")
	}
	t, err := template.New("layout").Funcs(c.funcs()).Funcs(procedureFuncs(c)).ParseFS(templateFiles, paths...)
	if err != nil {
		c.s.log.Error("console template does not parse", "page", name, "err", err)
		return
	}
	c.pages[name] = t
}

// procedureFuncs are the template functions of the procedure's pages: the
// Mes and Muestra pages' number formats and the labels below.
func procedureFuncs(c *console) template.FuncMap {
	fm := template.FuncMap{
		"verdict":      verdictLabel,
		"evalStatus":   evalStatusLabel,
		"reviewState":  reviewStateLabel,
		"actionStatus": actionStatusLabel,
		"indicator":    indicatorLabel,
		"ackState":     ackStateLabel,
		"wilson":       wilsonText,
		"optDec":       optDecimal,
		"optInt":       func(v *float64) string { return optDecimalPrec(v, 0) },
		"improved":     improvedLabel,
		"at":           atText,
		"dayDate":      dayDate,
		"plus1":        func(i int) int { return i + 1 },
		"evalURL":      evalURL,
		"pointLabel":   pointLabel,
		"text":         strings.TrimSpace,
		"clockOf":      c.f.clock,
		"reviewEvent":  reportEventLabel,
	}
	maps.Copy(fm, monthFuncs())
	maps.Copy(fm, sampleFuncs())
	return fm
}

// verdictLabel names a verdict.
func verdictLabel(v report.Verdict) string { return v.Label() }

// evalStatusLabel names the status of a sampled call's evaluation, as the
// Evaluación index shows it (evalItemStatus gives the code).
func evalStatusLabel(code string) string {
	switch code {
	case evalPending:
		return "pendiente"
	case evalDraftCode:
		return "borrador"
	case evalSubmittedCode:
		return "enviada"
	case evalAcknowledged:
		return "reconocida"
	case evalDisputed:
		return "disputada"
	case evalResolved:
		return "disputa resuelta"
	}
	return code
}

// Codes of an item's status on the Evaluación index (its data-status).
const (
	evalPending       = "pending"
	evalDraftCode     = "draft"
	evalSubmittedCode = "submitted"
	evalAcknowledged  = "acknowledged"
	evalDisputed      = "disputed"
	evalResolved      = "resolved"
)

// evalItemStatus is the status code of an evaluation (nil: none yet).
func evalItemStatus(ev *report.Evaluation) string {
	switch {
	case ev == nil:
		return evalPending
	case ev.Status != report.EvalSubmitted:
		return evalDraftCode
	case ev.Ack == nil:
		return evalSubmittedCode
	}
	switch ev.Ack.State {
	case report.AckAcknowledged:
		return evalAcknowledged
	case report.AckDisputed:
		return evalDisputed
	case report.AckResolved:
		return evalResolved
	}
	return evalSubmittedCode
}

// ackStateLabel names a receptionist's answer.
func ackStateLabel(s report.AckState) string { return lowerFirst(s.Label()) }

// reviewStateLabel names a report's state.
func reviewStateLabel(s report.ReviewState) string { return lowerFirst(s.Label()) }

// actionStatusLabel names a corrective action's status.
func actionStatusLabel(s report.ActionStatus) string { return lowerFirst(s.Label()) }

// indicatorKinds are the indicators an action can aim at, in the order the
// form offers them.
func indicatorKinds() []option {
	return []option{
		{Value: report.IndicatorPointNoCumplePct, Label: report.IndicatorKindLabel(report.IndicatorPointNoCumplePct)},
		{Value: report.IndicatorServiceLevelPct, Label: report.IndicatorKindLabel(report.IndicatorServiceLevelPct)},
		{Value: report.IndicatorAbandonedPct, Label: report.IndicatorKindLabel(report.IndicatorAbandonedPct)},
		{Value: report.IndicatorASASeconds, Label: report.IndicatorKindLabel(report.IndicatorASASeconds)},
	}
}

// indicatorLabel writes an indicator in words: "% de incumplimiento de
// Saludo e identificación (201)".
func indicatorLabel(ind report.Indicator) string {
	var s string
	switch ind.Kind {
	case report.IndicatorPointNoCumplePct:
		s = "% de incumplimiento de «" + pointLabel(ind.Point) + "»"
	case report.IndicatorServiceLevelPct:
		s = "Nivel de servicio"
	case report.IndicatorAbandonedPct:
		s = "Abandonos"
	case report.IndicatorASASeconds:
		s = "Tiempo medio de respuesta"
	default:
		s = ind.Kind
	}
	if ind.Operator != "" {
		s += " (" + ind.Operator + ")"
	} else {
		s += " (todas)"
	}
	return s
}

// pointLabel is a point's label in the current form, the id when unknown.
func pointLabel(id string) string { return report.PointLabel(id) }

// lowerFirst lowers a label's first letter, as the console writes states
// inside a sentence.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// wilsonText writes a Wilson interval: "4,1 – 32,0 %", a dash for none.
func wilsonText(iv *report.Interval) string {
	if iv == nil {
		return noValue
	}
	return formatDecimal(iv.Low, 1) + " – " + formatDecimal(iv.High, 1) + nbsp + "%"
}

// optDecimal writes a nullable value with two decimals, a dash for null.
func optDecimal(v *float64) string { return optDecimalPrec(v, 2) }

func optDecimalPrec(v *float64, prec int) string {
	if v == nil {
		return noValue
	}
	return formatDecimal(*v, prec)
}

// improvedLabel writes a follow-up's verdict.
func improvedLabel(b *bool) string {
	switch {
	case b == nil:
		return "sin datos"
	case *b:
		return "mejoró"
	}
	return "no mejoró"
}

// atText writes a moment of the recording for a form field: "12,3", ""
// for none.
func atText(v *float64) string {
	if v == nil {
		return ""
	}
	return formatDecimal(*v, 1)
}

// dayDate writes a YYYY-MM-DD day as dd/mm/aaaa (as is when it is not one).
func dayDate(day string) string {
	if len(day) != len(layoutDay) || day[4] != '-' || day[7] != '-' {
		return day
	}
	return day[8:] + "/" + day[5:7] + "/" + day[:4]
}

// evalURL is the Evaluación page of one call.
func evalURL(month, id string) string {
	return "/evaluacion?m=" + month + "&id=" + id
}

// parseAt reads a moment typed in a form: seconds with a decimal comma
// or point; "" is none.
func parseAt(s string) (*float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", "."), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, false
	}
	return &v, true
}

// seeOther answers a posted form with the page to show next.
func seeOther(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// procedureNav is the procedure's part of the menu: the pages p may use
// that the daemon serves. A receptionist gets only their own pages.
type procedureNav struct {
	Receptionist bool
	Evaluation   bool
	Report       bool
	Actions      bool
	Calendar     bool
	Mine         bool
}

func (c *console) procedureNav(p Principal) procedureNav {
	cfg := c.s.cfg
	if p.Role == RoleRecepcionista {
		return procedureNav{Receptionist: true, Mine: cfg.Evaluations != nil || cfg.Review != nil}
	}
	return procedureNav{
		Evaluation: cfg.Evaluations != nil && scopeOf(p, opEvalRead) == scopeAll,
		Report:     cfg.Documents != nil && scopeOf(p, opReportRead) != scopeNone,
		Actions:    cfg.Review != nil && scopeOf(p, opActionRead) == scopeAll,
		Calendar:   cfg.Review != nil && scopeOf(p, opReportRead) != scopeNone,
	}
}
