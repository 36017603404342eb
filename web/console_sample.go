package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/switchtap/switchtap/report"
)

// The Muestra page (/muestra?m=YYYY-MM): the month's random sample of step
// 02 of ETAPA 2 (issue 10 §2): the design, the frame and its hash, the
// allocation per receptionist, the calls to evaluate with links to their
// detail, and, for the técnico and the jefe, the forms that draw the
// sample and replace a call. Both forms go through the same code as the
// API, which audits them.

// sampleBody is the Muestra page's data.
type sampleBody struct {
	Month      string
	Prev, Next string
	// Sample is nil when the month has none yet.
	Sample  *report.Sample
	Verify  *report.Verification
	CanDraw bool
	// Defaults describe the design a draw would use now.
	Defaults report.SampleOptions
}

// sampleRoutes parses the Muestra page and registers it. A template that
// does not parse leaves /muestra answering 500, never the console down.
func (c *console) sampleRoutes(mux *router) {
	if c.s.cfg.Sample == nil {
		return
	}
	t, err := template.New("layout").Funcs(c.funcs()).Funcs(sampleFuncs()).
		ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", "templates/muestra.html")
	if err != nil {
		c.s.log.Error("console template muestra does not parse", "err", err)
	} else {
		c.pages["muestra"] = t
	}
	mux.Handle("GET /muestra", c.page(c.sample, false, everyone...))
	mux.Handle("POST /muestra", c.page(c.sampleDraw, false, RoleTecnico, RoleJefe))
	mux.Handle("POST /muestra/reemplazo", c.page(c.sampleReplace, false, RoleTecnico, RoleJefe))
}

func sampleFuncs() template.FuncMap {
	return template.FuncMap{
		"pct": func(v float64) string { return formatDecimal(v*100, 0) + nbsp + "%" },
		"dec": func(v float64) string { return formatDecimal(v, 2) },
	}
}

// sampleFlash are the messages after a change, by the code in ?hecho=.
func sampleFlash(code string) string {
	switch code {
	case "sorteo":
		return "Se sorteó la muestra del mes; sus grabaciones quedan protegidas de la retención."
	case "reemplazo":
		return "Se reemplazó la llamada por la siguiente reserva de la misma recepcionista."
	}
	return ""
}

// sampleMonth returns the month asked for, by default the one before the
// current month (the sample is drawn once the month is over).
func (c *console) sampleMonth(r *http.Request) (string, time.Time, error) {
	loc := c.s.cfg.Location
	m := r.FormValue("m")
	if m == "" {
		now := c.s.now().In(loc)
		m = time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, loc).Format("2006-01")
	}
	start, err := time.ParseInLocation("2006-01", m, loc)
	if err != nil || len(m) != len("2006-01") {
		return "", time.Time{}, fmt.Errorf("%w: mes inválido (use AAAA-MM)", ErrInvalid)
	}
	return m, start, nil
}

// sample is GET /muestra.
func (c *console) sample(w http.ResponseWriter, r *http.Request, p Principal) {
	c.renderSample(w, r, p, http.StatusOK, sampleFlash(r.URL.Query().Get("hecho")), "")
}

// renderSample shows the month's sample with a message or an error.
func (c *console) renderSample(w http.ResponseWriter, r *http.Request, p Principal, status int, flash, errMsg string) {
	m, start, err := c.sampleMonth(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	b := sampleBody{
		Month: m, Prev: start.AddDate(0, -1, 0).Format("2006-01"), Next: start.AddDate(0, 1, 0).Format("2006-01"),
		CanDraw: allowed(p, RoleTecnico, RoleJefe),
	}
	if o, ok := c.s.cfg.Sample.(interface{ Options() report.SampleOptions }); ok {
		b.Defaults = o.Options()
	}
	smp, err := c.s.cfg.Sample.Get(r.Context(), m)
	switch {
	case errors.Is(err, report.ErrNoSample):
	case err != nil:
		c.fail(w, r, &p, sampleError(err))
		return
	default:
		b.Sample = &smp
		if r.URL.Query().Get("verificar") != "" {
			v, err := c.s.cfg.Sample.Verify(r.Context(), m)
			if err != nil {
				c.fail(w, r, &p, sampleError(err))
				return
			}
			b.Verify = &v
		}
	}
	pg := c.newPage(&p, "Muestra de "+m, "muestra", b)
	pg.Flash, pg.Error = flash, errMsg
	c.render(w, r, status, "muestra", pg)
}

// sampleDraw is POST /muestra: draws (or, with redraw and a reason,
// draws again) and goes back to the page.
func (c *console) sampleDraw(w http.ResponseWriter, r *http.Request, p Principal) {
	m, _, err := c.sampleMonth(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	req := sampleDrawRequest{Redraw: r.PostFormValue("redraw") != "", Reason: r.PostFormValue("reason")}
	if seed := r.PostFormValue("seed"); seed != "" {
		if err := req.Seed.UnmarshalJSON([]byte(seed)); err != nil {
			c.renderSample(w, r, p, http.StatusBadRequest, "", "La semilla debe ser un entero de 0 a 18446744073709551615.")
			return
		}
	}
	if _, err := c.s.drawSample(r, p, m, req); err != nil {
		c.sampleFailed(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/muestra?"+url.Values{"m": {m}, "hecho": {"sorteo"}}.Encode(), http.StatusSeeOther)
}

// sampleReplace is POST /muestra/reemplazo.
func (c *console) sampleReplace(w http.ResponseWriter, r *http.Request, p Principal) {
	m, _, err := c.sampleMonth(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	req := sampleReplaceRequest{ID: r.PostFormValue("id"), Reason: r.PostFormValue("reason")}
	if _, _, err := c.s.replaceSample(r, p, m, req); err != nil {
		c.sampleFailed(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/muestra?"+url.Values{"m": {m}, "hecho": {"reemplazo"}}.Encode(), http.StatusSeeOther)
}

// sampleFailed shows a refused change on the page itself (400/409), and
// anything else as the error page.
func (c *console) sampleFailed(w http.ResponseWriter, r *http.Request, p Principal, err error) {
	switch {
	case errors.Is(err, ErrExists):
		c.renderSample(w, r, p, http.StatusConflict, "", "El mes ya tiene muestra: para sortearla de nuevo marque «Sortear de nuevo» e indique el motivo.")
	case errors.Is(err, ErrInvalid):
		c.renderSample(w, r, p, http.StatusBadRequest, "", detail(err, ErrInvalid, "Solicitud inválida."))
	default:
		c.fail(w, r, &p, err)
	}
}
