package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ctxKey keys this package's values in a request context (no string keys:
// style D5).
type ctxKey int

const (
	principalKey ctxKey = iota + 1
	peerKey
	remoteKey
)

// maxBody bounds every request body: the API takes small JSON documents
// and forms only.
const maxBody = 64 << 10

// sessionCookie is the name of the session cookie.
const sessionCookie = "switchtap_session"

// contentSecurityPolicy allows only this origin's files: no inline script or
// style, no framing (clickjacking), media and images from here (the
// waveform canvas exports data: URLs).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; media-src 'self'; " +
	"style-src 'self'; script-src 'self'; frame-ancestors 'none'"

// withPrincipal returns ctx carrying p.
func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// principalFrom returns who makes the request, as set by guard.
func principalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey).(Principal)
	return p, ok
}

// RemoteFrom returns the address of the client whose request ctx belongs
// to ("socket" on the local socket), for the audit entries the account
// service writes.
func RemoteFrom(ctx context.Context) string {
	r, _ := ctx.Value(remoteKey).(string)
	return r
}

// WithPeer returns ctx carrying the uid of the peer of a local-socket
// connection (SO_PEERCRED), which LocalHandler takes as an admin. The daemon
// calls it from http.Server.ConnContext.
func WithPeer(ctx context.Context, uid int) context.Context {
	return context.WithValue(ctx, peerKey, uid)
}

// peerFrom returns the uid set by WithPeer.
func peerFrom(ctx context.Context) (int, bool) {
	uid, ok := ctx.Value(peerKey).(int)
	return uid, ok
}

// allowed reports whether p has one of roles. The list is explicit: admin
// does not pass a check that does not name it.
func allowed(p Principal, roles ...Role) bool {
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// everyone is the three office roles: every route of the office's work.
var everyone = []Role{RoleTecnico, RoleJefe, RoleAdmin}

// withReceptionist is everyone and the receptionists, for the routes a
// receptionist may use too: their own account, their own calls (the
// handlers filter them, see callFilter.restrict and callVisible), the live
// page filtered likewise, and the status. Figures, samples, the audit log
// and the accounts are not theirs.
var withReceptionist = []Role{RoleTecnico, RoleJefe, RoleAdmin, RoleRecepcionista}

// remoteAddr is the client's address for the audit log: the host of
// r.RemoteAddr (no proxy header is trusted: the daemon is served directly),
// or "local:<uid>" on the local socket.
func remoteAddr(r *http.Request) string {
	if uid, ok := peerFrom(r.Context()); ok {
		return fmt.Sprintf("local:%d", uid)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// guard wraps mux with, from the outside in: panic recovery, security
// headers, the body bound, cross-origin protection of unsafe methods, and
// authentication (plus the must-change rule).
func (s *Server) guard(mux *http.ServeMux, local bool) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errCrossOrigin)
	}))
	var h http.Handler = s.authenticate(mux, local)
	h = cop.Handler(h)
	h = limitBody(h)
	h = securityHeaders(h)
	return s.recoverPanics(h)
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if isAPI(r.URL.Path) {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds the request body; a longer one fails the handler's read
// with *http.MaxBytesError (413).
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate finds the principal and refuses requests without one, but
// for the open paths (login page and static assets).
func (s *Server) authenticate(next http.Handler, local bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		remote := remoteAddr(r)
		if local {
			remote = "socket"
		}
		r = r.WithContext(context.WithValue(r.Context(), remoteKey, remote))
		if !local && openPath(path) {
			// The login page may show who is already logged in; a
			// static asset needs no look-up at all.
			if !strings.HasPrefix(path, "/static/") {
				if p, err := s.principal(r, local); err == nil {
					r = r.WithContext(withPrincipal(r.Context(), p))
				}
			}
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.principal(r, local)
		if err != nil {
			if errors.Is(err, errUnauthenticated) && !isAPI(path) && !local {
				http.Redirect(w, r, loginRedirect(r), http.StatusSeeOther)
				return
			}
			s.writeError(w, r, err)
			return
		}
		if p.MustChange && !mustChangeOpen(r.Method, path) {
			if isAPI(path) {
				s.writeError(w, r, errMustChange)
				return
			}
			http.Redirect(w, r, "/cuenta", http.StatusSeeOther)
			return
		}
		if isAPI(path) && dotSegments(path) {
			// The mux would redirect to the cleaned path; an API path
			// with "." or ".." segments names nothing (an id never
			// holds "/" or "..").
			s.writeError(w, r, fmt.Errorf("%w: %s", ErrNotFound, path))
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// dotSegments reports whether path has an empty, "." or ".." segment.
func dotSegments(path string) bool {
	for seg := range strings.SplitSeq(strings.TrimPrefix(path, "/"), "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return strings.Contains(path, "//")
}

// principal authenticates r: the socket peer on the local handler, else a
// bearer token, else the session cookie. Every failure that is the
// client's wraps errUnauthenticated.
func (s *Server) principal(r *http.Request, local bool) (Principal, error) {
	ctx := r.Context()
	if local {
		uid, ok := peerFrom(ctx)
		if !ok {
			return Principal{}, fmt.Errorf("%w: no peer credentials on the local socket", errUnauthenticated)
		}
		return Principal{Name: fmt.Sprintf("local:%d", uid), Role: RoleAdmin, Via: "socket"}, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, raw, ok := strings.Cut(h, " ")
		raw = strings.TrimSpace(raw)
		if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
			return Principal{}, fmt.Errorf("%w: authorization is not a bearer token", errUnauthenticated)
		}
		p, err := s.cfg.Auth.Token(ctx, raw)
		if err != nil {
			return Principal{}, authFailure("token", err)
		}
		p.Via = "token"
		return p, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return Principal{}, fmt.Errorf("%w: no session", errUnauthenticated)
	}
	p, err := s.cfg.Auth.Session(ctx, c.Value)
	if err != nil {
		return Principal{}, authFailure("session", err)
	}
	p.Via = "session"
	return p, nil
}

// authFailure maps a failed look-up: a missing, expired or revoked
// credential is the client's (401); anything else is the server's.
func authFailure(what string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadLogin) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrLocked) {
		return fmt.Errorf("%w: %s: %v", errUnauthenticated, what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isAPI reports whether path belongs to the API (JSON answers).
func isAPI(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// openPath reports the paths served without a login: the login page and
// form, the static assets of the console, and the API's login. A path with
// ".." is never open (the mux would only redirect it, but the guard does
// not rely on that).
func openPath(path string) bool {
	if strings.Contains(path, "..") {
		return false
	}
	return path == "/login" || path == "/api/v1/login" || strings.HasPrefix(path, "/static/")
}

// mustChangeOpen lists what a principal that must change its password may
// still reach: the password change itself, logout, the account page.
func mustChangeOpen(method, path string) bool {
	switch path {
	case "/api/v1/account/password", "/api/v1/logout", "/cuenta/clave", "/logout":
		return method == http.MethodPost
	case "/cuenta":
		return true
	}
	return openPath(path)
}

// loginRedirect is /login?next=<the requested path and query>, the next
// kept only when it is a path of this site (never "//host" or "/\host",
// which browsers read as another host).
func loginRedirect(r *http.Request) string {
	next := r.URL.RequestURI()
	if !localPath(next) || r.Method != http.MethodGet {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// localPath reports whether p is a path on this site, safe as a redirect
// target.
func localPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	return !strings.ContainsAny(p, "\r\n\x00")
}
