package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
)

// apiRoute is one route of /api/v1 with a request that succeeds for a
// principal allowed to use it.
type apiRoute struct {
	method, path, body string
	// roles may use it; nil: open (login).
	roles []Role
	// ok is the status of a successful call.
	ok int
	// mustChange: reachable by a principal that must change its password.
	mustChange bool
	// body per call, when each call must differ (a new user's name).
	bodyFn func(i int) string
	// stream: an event stream, asked with a request whose context has
	// already ended, so that it answers its status and snapshot and
	// returns.
	stream bool
}

// testAPIRoutes lists every route of the API a server without the
// month's procedure registers (TestRouteTableComplete holds it to the
// router); the table tests cover each.
func testAPIRoutes() []apiRoute {
	all := []Role{RoleTecnico, RoleJefe, RoleAdmin}
	return []apiRoute{
		{method: "POST", path: "/api/v1/logout", roles: all, ok: http.StatusNoContent, mustChange: true},
		{method: "GET", path: "/api/v1/me", roles: all, ok: http.StatusOK},
		{method: "POST", path: "/api/v1/account/password", body: `{"old":"x","new":""}`, roles: all, ok: http.StatusBadRequest, mustChange: true},
		{method: "GET", path: "/api/v1/calls?from=2026-12-01&to=2026-12-01", roles: all, ok: http.StatusOK},
		{method: "GET", path: "/api/v1/calls/c1", roles: all, ok: http.StatusOK},
		{method: "GET", path: "/api/v1/calls/c1/recording", roles: all, ok: http.StatusOK},
		{method: "GET", path: "/api/v1/calls/c1/peaks", roles: all, ok: http.StatusOK},
		{method: "GET", path: "/api/v1/live", roles: all, ok: http.StatusOK, stream: true},
		{method: "GET", path: "/api/v1/status", roles: all, ok: http.StatusOK},
		{method: "GET", path: "/api/v1/months/2026-12/figures", roles: all, ok: http.StatusOK},
		{method: "GET", path: "/api/v1/aggregates?from=2026-12-01&to=2026-12-01", roles: all, ok: http.StatusOK},
		{method: "GET", path: "/api/v1/audit?from=2026-12-01&to=2026-12-01", roles: []Role{RoleJefe, RoleAdmin}, ok: http.StatusOK},
		{method: "GET", path: "/api/v1/users", roles: []Role{RoleAdmin}, ok: http.StatusOK},
		{method: "POST", path: "/api/v1/users", roles: []Role{RoleAdmin}, ok: http.StatusCreated,
			bodyFn: func(i int) string {
				return `{"name":"u` + strconv.Itoa(i) + `","role":"tecnico","password":"long enough"}`
			}},
		{method: "PATCH", path: "/api/v1/users/tecnico", body: `{"role":"tecnico"}`, roles: []Role{RoleAdmin}, ok: http.StatusOK},
		{method: "POST", path: "/api/v1/users/tecnico/token", body: `{"label":"x"}`, roles: []Role{RoleAdmin}, ok: http.StatusCreated},
	}
}

// newRoutesEnv is the server of the role table: the calls, recordings,
// figures and accounts of issue 8 and the never-rang aggregates, without
// the month's procedure.
func newRoutesEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	e.calls.add(e.testCall("c1", -time.Hour))
	writeTestRecording(t, e, "c1", tone(8000, 440, 8000), tone(8000, 1000, 3000))
	e.srv.cfg.Figures = report.NewFiguresService(e.calls, report.FiguresOptions{
		Location: e.loc, Receptionists: e.srv.cfg.Operators, Now: e.clock.Now,
	})
	e.srv.cfg.Aggregates = &fakeAggregates{}
	e.handler = e.srv.Handler()
	e.local = e.srv.LocalHandler()
	return e
}

// ended makes a request whose context has already ended (an event
// stream then answers and returns at once).
func ended(r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	cancel()
	*r = *r.WithContext(ctx)
}

// TestRouteTableComplete: every API route the router registers for the
// role table's server has a row in testAPIRoutes, so TestRoutesByPrincipal
// checks it for every principal; only the open login (TestLoginOpen,
// TestCrossOrigin) and the catch-all (TestLoginOpen) are tested apart. A
// row must reach a route of its own, not the catch-all.
func TestRouteTableComplete(t *testing.T) {
	e := newRoutesEnv(t)
	rt := e.srv.routes(false)
	apart := map[string]bool{"POST /api/v1/login": true, "/api/": true}
	covered := map[string]bool{}
	for _, row := range testAPIRoutes() {
		_, pat := rt.mux.Handler(httptest.NewRequest(row.method, row.path, nil))
		if pat == "" || apart[pat] {
			t.Errorf("row %s %s reaches %q, not a route of its own", row.method, row.path, pat)
		}
		covered[pat] = true
	}
	n := 0
	for _, pat := range rt.patterns {
		if !isAPI(patternPath(pat)) {
			continue
		}
		n++
		if !covered[pat] && !apart[pat] {
			t.Errorf("route %q has no row in testAPIRoutes", pat)
		}
	}
	if n < len(testAPIRoutes()) {
		t.Fatalf("the router lists %d API routes, fewer than the table's %d rows", n, len(testAPIRoutes()))
	}
}

// TestRoutesByPrincipal: every route × {anonymous, tecnico, jefe, admin,
// must-change, bearer token, disabled account, expired session} gets the
// status its rules give.
func TestRoutesByPrincipal(t *testing.T) {
	e := newRoutesEnv(t)

	expired := e.session("tecnico")
	e.clock.Add(fakeSessionTTL + time.Minute)
	defer e.clock.Add(-fakeSessionTTL - time.Minute)

	type who struct {
		name string
		// opt authenticates the request (nil: nothing).
		opt func() func(*http.Request)
		// role decides access; "" anonymous (401).
		role       Role
		mustChange bool
	}
	sess := func(n string) func() func(*http.Request) { return func() func(*http.Request) { return e.as(n) } }
	principals := []who{
		{name: "anonymous", opt: func() func(*http.Request) { return func(*http.Request) {} }},
		{name: "tecnico", opt: sess("tecnico"), role: RoleTecnico},
		{name: "jefe", opt: sess("jefe"), role: RoleJefe},
		{name: "admin", opt: sess("admin"), role: RoleAdmin},
		{name: "must-change", opt: sess("nuevo"), role: RoleAdmin, mustChange: true},
		{name: "bearer-tecnico", opt: func() func(*http.Request) { return e.bearer("tecnico") }, role: RoleTecnico},
		{name: "bearer-admin", opt: func() func(*http.Request) { return e.bearer("admin") }, role: RoleAdmin},
		{name: "bearer-bad", opt: func() func(*http.Request) { return header("Authorization", "Bearer nope") }},
		{name: "basic-auth", opt: func() func(*http.Request) { return header("Authorization", "Basic YWRtaW46eA==") }},
		{name: "disabled", opt: func() func(*http.Request) {
			// A session made before the account was disabled.
			c := e.session("tecnico")
			e.auth.mu.Lock()
			e.auth.sessions[c.Value] = Session{Token: c.Value, Principal: Principal{Name: "baja"}, Expires: e.clock.Now().Add(time.Hour)}
			e.auth.mu.Unlock()
			return func(r *http.Request) { r.AddCookie(c) }
		}},
		{name: "expired", opt: func() func(*http.Request) { return func(r *http.Request) { r.AddCookie(expired) } }},
	}
	i := 0
	for _, rt := range testAPIRoutes() {
		for _, p := range principals {
			t.Run(rt.method+" "+rt.path+" "+p.name, func(t *testing.T) {
				i++
				body := rt.body
				if rt.bodyFn != nil {
					body = rt.bodyFn(i)
				}
				want := rt.ok
				switch {
				case p.role == "":
					want = http.StatusUnauthorized
				case p.mustChange && !rt.mustChange:
					want = http.StatusForbidden
				case !allowed(Principal{Role: p.role}, rt.roles...):
					want = http.StatusForbidden
				}
				var rd io.Reader
				if body != "" {
					rd = strings.NewReader(body)
				}
				opts := []func(*http.Request){p.opt()}
				if rt.stream {
					opts = append(opts, ended)
				}
				w := e.do(rt.method, rt.path, rd, opts...)
				if w.Code != want {
					t.Fatalf("status %d, want %d: %s", w.Code, want, w.Body.String())
				}
				if ct := w.Header().Get("Content-Type"); w.Code >= 400 && !strings.HasPrefix(ct, "application/json") {
					t.Errorf("error Content-Type %q, want JSON", ct)
				}
				checkSecurityHeaders(t, w.Header(), true)
			})
		}
	}
}

// TestLoginOpen: the API's login is the one route served without a login.
func TestLoginOpen(t *testing.T) {
	e := newTestEnv(t)
	w := e.do("POST", "/api/v1/login", strings.NewReader(`{"name":"tecnico","password":"`+testPassword+`"}`))
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	for _, path := range []string{"/api/v1/nothing", "/api/v2/calls", "/api/v1/calls/a/b/c"} {
		if w := e.do("GET", path, nil); w.Code != http.StatusUnauthorized {
			t.Errorf("anonymous %s: %d, want 401", path, w.Code)
		}
		if w := e.do("GET", path, nil, e.as("admin")); w.Code != http.StatusNotFound {
			t.Errorf("admin %s: %d, want 404", path, w.Code)
		}
	}
}

// TestPagesRedirectToLogin: an anonymous page request is sent to the login
// with next= only when next is a local path.
func TestPagesRedirectToLogin(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct{ target, want string }{
		{"/llamadas?from=2026-12-01", "/login?next=%2Fllamadas%3Ffrom%3D2026-12-01"},
		{"/envivo", "/login?next=%2Fenvivo"},
		{"//evil.example/x", "/login"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			w := e.do("GET", tc.target, nil)
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tc.want {
				t.Fatalf("%d Location %q, want 303 %q", w.Code, w.Header().Get("Location"), tc.want)
			}
			checkSecurityHeaders(t, w.Header(), false)
		})
	}
	// A must-change principal is sent to its account page.
	w := e.do("GET", "/llamadas", nil, e.as("nuevo"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/cuenta" {
		t.Fatalf("must-change page: %d %q", w.Code, w.Header().Get("Location"))
	}
	// Open paths pass the guard (the console serves them; here the stub
	// console has none, so the mux answers 404, not a redirect).
	for _, p := range []string{"/login", "/static/app.css"} {
		if w := e.do("GET", p, nil); w.Code == http.StatusSeeOther || w.Code == http.StatusUnauthorized {
			t.Errorf("open %s: %d", p, w.Code)
		}
	}
	if w := e.do("GET", "/static/../api/v1/users", nil); w.Code == http.StatusOK {
		t.Errorf("dot-dot through static: %d", w.Code)
	}
}

// TestLocalHandler: on the local socket the peer is an admin "local:<uid>";
// without peer credentials nothing is served.
func TestLocalHandler(t *testing.T) {
	e := newTestEnv(t)
	r := e.request("GET", "/api/v1/me", nil)
	w := serve(e.local, r)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("no peer: %d", w.Code)
	}
	r = e.request("GET", "/api/v1/me", nil)
	r = r.WithContext(WithPeer(r.Context(), 1000))
	w = serve(e.local, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"name":"local:1000"`) || !strings.Contains(w.Body.String(), `"role":"admin"`) {
		t.Fatalf("peer: %d %s", w.Code, w.Body)
	}
	r = e.request("GET", "/api/v1/users", nil)
	r = r.WithContext(WithPeer(r.Context(), 0))
	if w := serve(e.local, r); w.Code != http.StatusOK {
		t.Fatalf("peer users: %d", w.Code)
	}
	// The local handler has no console: no login page.
	r = e.request("GET", "/login", nil)
	if w := serve(e.local, r); w.Code != http.StatusUnauthorized {
		t.Fatalf("local /login without peer: %d", w.Code)
	}
}

func checkSecurityHeaders(t *testing.T, h http.Header, api bool) {
	t.Helper()
	if got := h.Get("Content-Security-Policy"); got != contentSecurityPolicy {
		t.Errorf("CSP %q", got)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" {
		t.Errorf("headers %v", h)
	}
	if api && h.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q on API", h.Get("Cache-Control"))
	}
}

// serve runs r through h.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
