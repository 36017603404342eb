package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/report"
)

// newFullEnv is a server with every optional service set (figures,
// sample, evaluations, review, documents, exports): every route the code
// has is registered.
func newFullEnv(t *testing.T) *cpEnv {
	t.Helper()
	cp := newCPEnv(t)
	cp.srv.cfg.Figures = report.NewFiguresService(cp.calls, report.FiguresOptions{
		Location: cp.loc, Receptionists: cp.srv.cfg.Operators, Now: cp.clock.Now,
	})
	cp.handler = cp.srv.Handler()
	cp.local = cp.srv.LocalHandler()
	return cp
}

// patternPath is the path of a ServeMux pattern ("GET /api/v1/calls" →
// "/api/v1/calls"; no pattern here names a host).
func patternPath(pattern string) string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		return p
	}
	return pattern
}

// routeRequest is a request for a registered pattern: its method (POST
// for a pattern without one) and its path with each wildcard given a
// value, "nada" after a catch-all's trailing slash. The request is
// checked to reach that very pattern.
func routeRequest(t *testing.T, rt *router, pattern string) (method, path string) {
	t.Helper()
	method, path = "POST", pattern
	if m, p, ok := strings.Cut(pattern, " "); ok {
		method, path = m, p
	}
	path = strings.NewReplacer("{month}", procMonth, "{id}", "c1", "{name}", "tecnico", "{$}", "").Replace(path)
	if strings.HasSuffix(path, "/") && path != "/" {
		path += "nada"
	}
	if !strings.HasPrefix(pattern, method+" ") && path == "/" {
		path = "/nada"
	}
	if strings.Contains(path, "{") {
		t.Fatalf("pattern %q: wildcard without a test value", pattern)
	}
	if _, got := rt.mux.Handler(httptest.NewRequest(method, path, nil)); got != pattern {
		t.Fatalf("%s %s reaches %q, not %q", method, path, got, pattern)
	}
	return method, path
}

// safeMethod reports the methods http.CrossOriginProtection lets through.
func safeMethod(m string) bool { return m == "GET" || m == "HEAD" || m == "OPTIONS" }

// TestRoutesRefuseCrossSite: every state-changing route the router
// registers (the API, the console's forms, the month's procedure, the
// catch-alls) refuses a cross-site request — by Sec-Fetch-Site, and by a
// foreign Origin without it — with 403 before any credential is looked
// up or anything audited; the same request from the console's own origin
// is not refused as cross-site (the route is really reached).
func TestRoutesRefuseCrossSite(t *testing.T) {
	cp := newFullEnv(t)
	rt := cp.srv.routes(false)
	unsafe := 0
	for _, pat := range rt.patterns {
		method, path := routeRequest(t, rt, pat)
		if safeMethod(method) {
			continue
		}
		unsafe++
		t.Run(pat, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				opt  func(*http.Request)
			}{
				{"sec-fetch-site cross-site", header("Sec-Fetch-Site", "cross-site")},
				{"sec-fetch-site same-site", header("Sec-Fetch-Site", "same-site")},
				{"foreign origin", func(r *http.Request) { r.Header.Del("Sec-Fetch-Site"); r.Header.Set("Origin", "https://evil.example") }},
			} {
				lookups, audited := cp.auth.lookupCount(), len(cp.auth.entries())
				w := cp.do(method, path, strings.NewReader("{}"), cp.as("admin"), tc.opt)
				if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), errCrossOrigin.Error()) {
					t.Errorf("%s: %d %s, want 403 %q", tc.name, w.Code, w.Body, errCrossOrigin)
				}
				if cp.auth.lookupCount() != lookups || len(cp.auth.entries()) != audited {
					t.Errorf("%s: refused after authentication or with an audit entry", tc.name)
				}
			}
			w := cp.do(method, path, strings.NewReader("{}"), cp.as("admin"))
			if strings.Contains(w.Body.String(), errCrossOrigin.Error()) {
				t.Errorf("same origin refused as cross-site: %d %s", w.Code, w.Body)
			}
		})
	}
	// The console's forms and the procedure's steps are among them.
	if unsafe < 40 {
		t.Errorf("%d state-changing routes registered: the full server should have more", unsafe)
	}
}

// TestRoutesNeedLogin: no registered route answers without a login but
// the login itself and the static assets: the API answers 401 (JSON), a
// page sends to /login. On the local socket nothing answers without the
// peer's credentials.
func TestRoutesNeedLogin(t *testing.T) {
	cp := newFullEnv(t)
	open := map[string]bool{"GET /static/": true, "GET /login": true, "POST /login": true, "POST /api/v1/login": true}
	rt := cp.srv.routes(false)
	for _, pat := range rt.patterns {
		if open[pat] {
			continue
		}
		method, path := routeRequest(t, rt, pat)
		w := cp.do(method, path, strings.NewReader("{}"), ended)
		switch {
		case isAPI(path):
			if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("anonymous %s %s: %d %q, want a JSON 401", method, path, w.Code, w.Header().Get("Content-Type"))
			}
		default:
			if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
				t.Errorf("anonymous %s %s: %d to %q, want a redirect to /login", method, path, w.Code, w.Header().Get("Location"))
			}
		}
	}
	lrt := cp.srv.routes(true)
	for _, pat := range lrt.patterns {
		method, path := routeRequest(t, lrt, pat)
		if w := serve(cp.local, cp.request(method, path, strings.NewReader("{}"), ended)); w.Code != http.StatusUnauthorized {
			t.Errorf("local %s %s without peer credentials: %d, want 401", method, path, w.Code)
		}
	}
}

// TestLocalRoutes: a LocalRoute is served on the local socket only, to a
// peer with credentials, and not on the network.
func TestLocalRoutes(t *testing.T) {
	e := newTestEnv(t)
	e.srv.cfg.LocalRoutes = []LocalRoute{{Pattern: "GET /audit/verify", Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})}}
	local := e.srv.LocalHandler()
	if w := serve(local, e.request("GET", "/audit/verify", nil)); w.Code != http.StatusUnauthorized {
		t.Errorf("no peer: %d, want 401", w.Code)
	}
	r := e.request("GET", "/audit/verify", nil)
	if w := serve(local, r.WithContext(WithPeer(r.Context(), 1000))); w.Code != http.StatusTeapot {
		t.Errorf("peer: %d, want the route's 418", w.Code)
	}
	if w := serve(e.srv.Handler(), e.request("GET", "/audit/verify", nil, e.as("admin"))); w.Code != http.StatusNotFound {
		t.Errorf("network, as admin: %d, want 404", w.Code)
	}
}
