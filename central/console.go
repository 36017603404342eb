package central

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchtap/switchtap/export"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/web"
	"github.com/switchtap/switchtap/webauth"
)

// The console of the central server (issue 11: "the same console (all
// boxes, a filter per office)"): package web's console and API, one
// web.Server per office and one for all offices, built when first asked
// for. Which one answers a request is chosen by the office query
// parameter (for API calls), else by the office cookie set at
// GET /oficina?o=NAME, else all offices.
//
// It is mounted in front of the receiver and the central API: a request
// one of the server's own routes takes goes there as before, with one
// exception. GET /api/v1/calls is both the central API's (a bearer
// token; the records with box_id and office) and web's (the console's
// session); a request with the session cookie and no bearer token goes to
// web.
const (
	// officeCookie keeps the office chosen, its name query-escaped.
	officeCookie = "switchtap_office"
	// officeParam chooses the office of one request.
	officeParam = "office"
	// PathOffice is the office chooser.
	PathOffice = "/oficina"
	// sessionCookie is web's session cookie (web/auth.go).
	sessionCookie = "switchtap_session"
	// operatorsEvery is how often an office's receptionists (the
	// operators of its records) are read again; a change rebuilds its
	// console.
	operatorsEvery = time.Minute
)

// console dispatches to the office's web.Server.
type console struct {
	s       *Server
	inner   http.Handler
	match   func(r *http.Request) bool
	started time.Time
	hub     *web.Hub
	auth    web.Auth

	mu      sync.Mutex
	proc    Procedure
	offices map[string]*officeConsole
}

// officeConsole is one office's web server and procedure.
type officeConsole struct {
	proc    *OfficeProcedure
	h       http.Handler
	checked time.Time
}

// mountConsole puts the console in front of the server's routes: s.mux
// becomes a mux whose only route is the console, which hands the routes
// of the previous mux back to it.
func (s *Server) mountConsole() *console {
	inner := s.mux
	c := &console{
		s: s, inner: inner, started: s.now(),
		match: func(r *http.Request) bool {
			_, pat := inner.Handler(r)
			return pat != ""
		},
		hub:     web.NewHub(sip.DefaultRingPolicy(), s.cfg.Now),
		offices: map[string]*officeConsole{},
	}
	c.auth = webauth.New(s.acc, s.OfficeCalls(AllOffices).Operators)
	s.mux = http.NewServeMux()
	s.mux.Handle("/", c)
	return c
}

// SetProcedure sets the procedure's settings of the console (the ring:,
// report: and sample: of the configuration file); the offices' consoles
// are built again with them.
func (s *Server) SetProcedure(p Procedure) {
	c := s.cons
	c.mu.Lock()
	defer c.mu.Unlock()
	c.proc = p
	c.offices = map[string]*officeConsole{}
	c.hub = web.NewHub(p.Ring, s.cfg.Now)
}

// ServeHTTP picks the server's own route, the office chooser or the
// office's console.
func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.central(r) {
		c.inner.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == PathOffice {
		c.officePage(w, r)
		return
	}
	office, err := c.office(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	h, err := c.server(r.Context(), office)
	if err != nil {
		c.s.log.Error("console", "office", office, "err", err)
		http.Error(w, "consola no disponible", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// central says whether r is for the server's own routes.
func (c *console) central(r *http.Request) bool {
	if r.URL.Path == "/api/v1/calls" {
		_, bearer := bearer(r.Header.Get("Authorization"))
		_, err := r.Cookie(sessionCookie)
		return bearer || err != nil
	}
	return c.match(r)
}

// errOffice is an office that no box belongs to.
var errOffice = errors.New("oficina desconocida")

// office is the office of r: its office parameter, else its cookie,
// else all. A cookie naming an office no longer there means all.
func (c *console) office(r *http.Request) (string, error) {
	if q := r.URL.Query(); q.Has(officeParam) {
		o := q.Get(officeParam)
		if err := c.known(r.Context(), o); err != nil {
			return "", err
		}
		return o, nil
	}
	o := cookieOffice(r)
	if c.known(r.Context(), o) != nil {
		return AllOffices, nil
	}
	return o, nil
}

// cookieOffice is the office of r's cookie, AllOffices without one.
func cookieOffice(r *http.Request) string {
	ck, err := r.Cookie(officeCookie)
	if err != nil {
		return AllOffices
	}
	o, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return AllOffices
	}
	return o
}

// known checks that office is all or the office of an enrolled box.
func (c *console) known(ctx context.Context, office string) error {
	if office == AllOffices {
		return nil
	}
	c.mu.Lock()
	_, ok := c.offices[office]
	c.mu.Unlock()
	if ok {
		return nil
	}
	offices, err := c.s.Offices(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(offices, office) {
		return fmt.Errorf("%w: %q", errOffice, office)
	}
	return nil
}

// server returns office's console, building it on first use and again
// when the office's receptionists changed.
func (c *console) server(ctx context.Context, office string) (http.Handler, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.s.now()
	oc := c.offices[office]
	if oc != nil && now.Sub(oc.checked) < operatorsEvery {
		return oc.h, nil
	}
	if oc != nil {
		ops, err := oc.proc.Calls.Operators(ctx)
		if err != nil {
			return nil, err
		}
		if slices.Equal(ops, oc.proc.Operators) {
			oc.checked = now
			return oc.h, nil
		}
	}
	oc, err := c.build(ctx, office)
	if err != nil {
		return nil, err
	}
	oc.checked = now
	c.offices[office] = oc
	return oc.h, nil
}

// build makes office's web server over its procedure.
func (c *console) build(ctx context.Context, office string) (*officeConsole, error) {
	proc, err := c.s.Procedure(ctx, office, c.proc)
	if err != nil {
		return nil, err
	}
	dir := ""
	if c.s.rec != nil {
		dir = c.s.rec.dir
	}
	ws, err := web.New(web.Config{
		Calls:        proc.Calls,
		Auth:         c.auth,
		Status:       c.s.status(office, c.proc.Version, c.started),
		Live:         c.hub,
		RecordingDir: dir,
		Location:     proc.Location,
		Ring:         proc.Ring,
		Operators:    proc.Operators,
		Figures:      proc.Figures,
		Sample:       proc.Sampler,
		Evaluations:  proc.Evals,
		Review:       proc.Review,
		Documents:    proc,
		Exports:      export.Exporter{},
		Secure:       c.proc.Secure,
		Version:      c.proc.Version,
		// No live calls centrally: the month is the first page.
		Home:   "/mes",
		Banner: officeBanner(office),
		Now:    c.s.cfg.Now,
		Log:    c.s.log.With("component", "web", "office", office),
	})
	if err != nil {
		return nil, fmt.Errorf("console of %q: %w", office, err)
	}
	return &officeConsole{proc: proc, h: ws.Handler()}, nil
}

// officeBanner is the line on every page saying whose records it shows.
func officeBanner(office string) *web.Banner {
	text := "Oficina: " + office
	if office == AllOffices {
		text = "Todas las oficinas"
	}
	return &web.Banner{Text: text, Link: "/oficina", LinkText: "cambiar de oficina"}
}

// officePage is GET /oficina: with o=NAME it keeps the office in the
// cookie (o= or o=* for all) and goes back to the console; without it,
// it lists the offices. Both need a login, as every page of the console.
func (c *console) officePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "método no permitido", http.StatusMethodNotAllowed)
		return
	}
	if !c.loggedIn(r) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	q := r.URL.Query()
	if q.Has("o") {
		o := q.Get("o")
		if o == "*" {
			o = AllOffices
		}
		if err := c.known(r.Context(), o); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		c.mu.Lock()
		secure := c.proc.Secure
		c.mu.Unlock()
		ck := &http.Cookie{Name: officeCookie, Value: url.QueryEscape(o), Path: "/", HttpOnly: true,
			Secure: secure, SameSite: http.SameSiteLaxMode}
		if o == AllOffices {
			ck.MaxAge = -1
		}
		http.SetCookie(w, ck)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	offices, err := c.s.Offices(r.Context())
	if err != nil {
		c.s.log.Error("list offices", "err", err)
		http.Error(w, "oficinas no disponibles", http.StatusServiceUnavailable)
		return
	}
	cur := cookieOffice(r)
	page := officeList{Current: cur, All: cur == AllOffices}
	for _, o := range offices {
		page.Offices = append(page.Offices, officeItem{Name: o, Link: PathOffice + "?o=" + url.QueryEscape(o), Current: o == cur})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := officeTmpl.Execute(w, page); err != nil {
		c.s.log.Debug("office page", "err", err)
	}
}

// loggedIn says whether r carries a valid session or API token.
func (c *console) loggedIn(r *http.Request) bool {
	if tok, ok := bearer(r.Header.Get("Authorization")); ok {
		_, err := c.auth.Token(r.Context(), tok)
		return err == nil
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil || strings.TrimSpace(ck.Value) == "" {
		return false
	}
	_, err = c.auth.Session(r.Context(), ck.Value)
	return err == nil
}

type officeList struct {
	Current string
	All     bool
	Offices []officeItem
}

type officeItem struct {
	Name, Link string
	Current    bool
}

var officeTmpl = template.Must(template.New("oficina").Parse(`<!DOCTYPE html>
<html lang="es-SV">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Oficina · switchtap central</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/console.css">
</head>
<body>
<main class="page">
<h1>Oficina</h1>
<p>La consola muestra las llamadas, las cifras del mes, la muestra, las evaluaciones y el informe de la oficina elegida.</p>
<ul id="oficinas">
  <li><a href="/oficina?o=*"{{if .All}} aria-current="true"{{end}}>Todas las oficinas</a>{{if .All}} (actual){{end}}</li>
  {{- range .Offices}}
  <li><a href="{{.Link}}"{{if .Current}} aria-current="true"{{end}}>{{.Name}}</a>{{if .Current}} (actual){{end}}</li>
  {{- end}}
</ul>
<p><a href="/">Volver a la consola</a></p>
</main>
</body>
</html>
`))
