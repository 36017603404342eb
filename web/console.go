package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// The console: server-rendered Spanish (es-SV) pages over the same helpers
// as the API, with a few small static scripts (no inline script or style:
// the CSP forbids them). Who may see what is checked here again, not only
// hidden in the menu: the guard authenticates, each page names its roles.

// The embedded files are the package's only variables: read-only, built
// into the binary, so the console works offline and needs no install step.
var (
	//go:embed templates/*.html
	templateFiles embed.FS
	//go:embed static
	staticFiles embed.FS
)

// pageNames are the templates/<name>.html rendered as whole pages.
func pageNames() []string {
	return []string{"login", "cuenta", "envivo", "llamadas", "detalle", "estado", "usuarios", "auditoria", "error"}
}

// console is the state of one handler's pages: the parsed templates.
type console struct {
	s     *Server
	f     formatter
	pages map[string]*template.Template
}

// page is what the layout template receives.
type page struct {
	Title string
	// Section is the menu entry to mark as current.
	Section string
	User    *Principal
	// Limited is a principal that must change its password: the menu
	// offers only the account page.
	Limited  bool
	CanAudit bool
	CanUsers bool
	// Nav says which of the procedure's pages the menu offers.
	Nav     procedureNav
	Scripts []string
	Flash   string
	Error   string
	Version string
	Zone    string
	// Home is where the product name leads; Banner the line under the
	// menu (Config.Home, Config.Banner).
	Home   string
	Banner *Banner
	Body   any
}

// consoleRoutes registers the console's pages. A template that does not
// parse (a broken build, caught by the tests) leaves every page answering
// 500 rather than the daemon failing to start: capture matters more.
func (s *Server) consoleRoutes(mux *router) {
	c, err := newConsole(s)
	if err != nil {
		s.log.Error("console templates do not parse", "err", err)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "consola no disponible: error interno", http.StatusInternalServerError)
		})
		return
	}
	c.routes(mux)
}

func (c *console) routes(mux *router) {
	all := func(h pageHandler) http.Handler { return c.page(h, false, everyone...) }
	mux.Handle("GET /static/", c.static())
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.loginSubmit)
	mux.HandleFunc("POST /logout", c.logout)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// A receptionist's home is their own page; En vivo is the office's.
		if p, ok := principalFrom(r.Context()); ok && p.Role == RoleRecepcionista {
			http.Redirect(w, r, "/mias", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, c.s.cfg.Home, http.StatusSeeOther)
	})
	mux.Handle("GET /cuenta", c.page(c.account, true, withReceptionist...))
	mux.Handle("POST /cuenta/clave", c.page(c.changePassword, true, withReceptionist...))

	mux.Handle("GET /envivo", all(c.live))
	mux.Handle("GET /envivo/resumen", all(c.liveSummary))
	// The list filters a receptionist to their own calls (restrict).
	mux.Handle("GET /llamadas", c.page(c.calls, false, withReceptionist...))
	// The detail filters a receptionist to their own calls (callDetail).
	mux.Handle("GET /llamadas/{id}", c.page(c.detail, false, withReceptionist...))
	mux.Handle("GET /estado", all(c.status))
	c.monthRoutes(mux)
	c.sampleRoutes(mux)
	c.evalRoutes(mux)
	c.reportRoutes(mux)
	c.actionRoutes(mux)
	c.calendarRoutes(mux)
	c.mineRoutes(mux)

	mux.Handle("GET /auditoria", c.page(c.audit, false, RoleJefe, RoleAdmin))

	admin := func(h pageHandler) http.Handler { return c.page(h, false, RoleAdmin) }
	mux.Handle("GET /usuarios", admin(c.users))
	mux.Handle("POST /usuarios", admin(c.addUser))
	mux.Handle("POST /usuarios/{name}/rol", admin(c.setRole))
	mux.Handle("POST /usuarios/{name}/estado", admin(c.setDisabled))
	mux.Handle("POST /usuarios/{name}/clave", admin(c.resetPassword))
	mux.Handle("POST /usuarios/{name}/token", admin(c.issueToken))

	mux.HandleFunc("/", c.notFound)
}

// newConsole parses the layout with each page.
func newConsole(s *Server) (*console, error) {
	c := &console{s: s, f: formatter{loc: s.cfg.Location}, pages: map[string]*template.Template{}}
	base, err := template.New("layout").Funcs(c.funcs()).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	for _, name := range pageNames() {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone layout for %s: %w", name, err)
		}
		if _, err := t.ParseFS(templateFiles, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return c, nil
}

func (c *console) funcs() template.FuncMap {
	return template.FuncMap{
		"dateTime":     c.f.dateTime,
		"date":         c.f.date,
		"rfc3339":      func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		"seconds":      formatSeconds,
		"int":          anyInt,
		"bytes":        formatBytes,
		"direction":    directionLabel,
		"endReason":    endReasonLabel,
		"endDetail":    endDetailLabel,
		"transferKind": transferKindLabel,
		"hangup":       hangupLabel,
		"role":         roleLabel,
		"lamp":         lampLabel,
		"alarm":        alarmLabel,
		"action":       actionLabel,
	}
}

// anyInt formats the integer types of StatusInfo.
func anyInt(v any) string {
	switch n := v.(type) {
	case int:
		return formatInt(int64(n))
	case int64:
		return formatInt(n)
	case uint64:
		if n > 1<<62 {
			return fmt.Sprint(n)
		}
		return formatInt(int64(n))
	case uint32:
		return formatInt(int64(n))
	}
	return fmt.Sprint(v)
}

// pageHandler serves a page for a principal already checked.
type pageHandler func(w http.ResponseWriter, r *http.Request, p Principal)

// page checks the principal (set by guard) against roles. The guard
// already sends the anonymous to /login and a must-change principal to
// /cuenta; this does it again so a page never depends on the wrapping.
func (c *console) page(h pageHandler, mustChangeOK bool, roles ...Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := principalFrom(r.Context())
		if !ok {
			http.Redirect(w, r, loginRedirect(r), http.StatusSeeOther)
			return
		}
		if p.MustChange && !mustChangeOK {
			http.Redirect(w, r, "/cuenta", http.StatusSeeOther)
			return
		}
		if !allowed(p, roles...) {
			c.fail(w, r, &p, fmt.Errorf("%w: %s may not %s %s", errForbidden, p.Role, r.Method, r.URL.Path))
			return
		}
		h(w, r, p)
	})
}

// newPage returns the layout's data for p (nil: not logged in).
func (c *console) newPage(p *Principal, title, section string, body any) page {
	pg := page{
		Title:   title,
		Section: section,
		User:    p,
		Version: c.s.cfg.Version,
		Zone:    c.s.cfg.Location.String(),
		Home:    c.s.cfg.Home,
		Banner:  c.s.cfg.Banner,
		Body:    body,
	}
	if p != nil {
		pg.Limited = p.MustChange
		pg.CanAudit = allowed(*p, RoleJefe, RoleAdmin)
		pg.CanUsers = allowed(*p, RoleAdmin)
		pg.Nav = c.procedureNav(*p)
	}
	return pg
}

// render executes a page into a buffer first, so that a template error is
// a clean 500 and never half a page.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) {
	t, ok := c.pages[name]
	if !ok {
		c.s.log.Error("console page has no template", "page", name)
		http.Error(w, "error interno", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		c.s.log.Error("render console page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "error interno", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorBodyPage is the body of the error page.
type errorBodyPage struct{ Message string }

// fail answers err with the Spanish error page: 403, 404, 400 with the
// fact that was wrong, or a logged 500 that shows no cause.
func (c *console) fail(w http.ResponseWriter, r *http.Request, p *Principal, err error) {
	status, title, msg := http.StatusInternalServerError, "Error interno", "Ocurrió un error interno. Intente de nuevo; si se repite, avise al administrador."
	switch {
	case errors.Is(err, errForbidden):
		status, title, msg = http.StatusForbidden, "Acceso denegado", "Su rol no permite ver esta página."
	case errors.Is(err, ErrNotFound):
		status, title, msg = http.StatusNotFound, "Página no encontrada", "No encontramos lo que busca: la dirección no existe o el registro ya no está."
	case errors.Is(err, ErrInvalid):
		status, title, msg = http.StatusBadRequest, "Solicitud inválida", detail(err, ErrInvalid, "La solicitud no es válida.")
	default:
		c.s.log.Error("console page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	c.render(w, r, status, "error", c.newPage(p, title, "", errorBodyPage{Message: msg}))
}

// notFound answers every path no route matched: JSON under /api (the API's
// own catch-all normally takes those), else the Spanish 404 page.
func (c *console) notFound(w http.ResponseWriter, r *http.Request) {
	if isAPI(r.URL.Path) {
		c.s.writeError(w, r, fmt.Errorf("%w: %s", ErrNotFound, r.URL.Path))
		return
	}
	var pp *Principal
	if p, ok := principalFrom(r.Context()); ok {
		pp = &p
	}
	c.fail(w, r, pp, fmt.Errorf("%w: %s", ErrNotFound, r.URL.Path))
}

// static serves web/static without directory listings.
func (c *console) static() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		// fs.Sub fails only on an invalid name, a constant here.
		return http.NotFoundHandler()
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			c.notFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// actionLabel names an audit action in Spanish (unknown actions as they
// are: the log is the authority, not this list).
func actionLabel(a string) string {
	switch a {
	case ActionLogin:
		return "Ingreso"
	case ActionLoginFailed:
		return "Ingreso fallido"
	case "login_locked":
		return "Cuenta bloqueada"
	case ActionLogout:
		return "Salida"
	case ActionRecordingPlay:
		return "Reproducción de grabación"
	case ActionRecordingSave:
		return "Descarga de grabación"
	case ActionExportCalls:
		return "Exportación de llamadas"
	case ActionExportAudit:
		return "Exportación de auditoría"
	case ActionPasswordChange:
		return "Cambio de contraseña"
	case "token_issued":
		return "Token emitido"
	}
	return a
}

// ringsOver reports whether a leg rang past the limit (red in the tables).
func ringsOver(c *sip.Call, ring sip.RingPolicy) bool { return c.Rings > ring.MaxRings }
