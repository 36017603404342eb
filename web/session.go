package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Login, logout, the current principal and its own password. Logins,
// failed logins, logouts and password changes are audited by package
// access behind Auth, not here: one entry per event.

// setSessionCookie gives the browser the session's token: HttpOnly (no
// script reads it), SameSite=Lax (not sent on cross-site subrequests or
// POSTs), Secure when the daemon serves TLS. Its lifetime is Max-Age,
// relative, which a browser prefers to Expires (RFC 6265 §5.3): a box
// whose clock is off from the user's PC does not hand out cookies already
// expired, or lasting too long, in the browser's time.
func (s *Server) setSessionCookie(w http.ResponseWriter, sess Session) {
	maxAge := int(sess.Expires.Sub(s.now()).Seconds())
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    sess.Token,
		Path:     "/",
		Expires:  sess.Expires,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.cfg.Secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// clearSessionCookie removes the session cookie.
func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    "",
		Path:     "/",
		Expires:  time.Unix(0, 0),
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.cfg.Secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// loginRequest is the body of POST /api/v1/login.
type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// loginResponse answers a login.
type loginResponse struct {
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	MustChange bool      `json:"must_change"`
	Expires    time.Time `json:"expires"`
}

// handleLogin is POST /api/v1/login.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	sess, err := s.cfg.Auth.Login(r.Context(), req.Name, req.Password, remoteAddr(r))
	if err != nil {
		s.writeError(w, r, fmt.Errorf("login: %w", err))
		return
	}
	s.setSessionCookie(w, sess)
	writeJSON(w, http.StatusOK, loginResponse{
		Name:       sess.Principal.Name,
		Role:       sess.Principal.Role,
		MustChange: sess.Principal.MustChange,
		Expires:    sess.Expires,
	})
}

// handleLogout is POST /api/v1/logout: it ends the session of the cookie
// (a bearer token stays valid: tokens are revoked by disabling them).
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if p, _ := principalFrom(r.Context()); p.Via == "session" {
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			if err := s.cfg.Auth.Logout(r.Context(), c.Value); err != nil && !errors.Is(err, ErrNotFound) {
				s.writeError(w, r, fmt.Errorf("logout: %w", err))
				return
			}
		}
	}
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

// meResponse is GET /api/v1/me.
type meResponse struct {
	Name       string `json:"name"`
	Role       Role   `json:"role"`
	Via        string `json:"via"`
	MustChange bool   `json:"must_change"`
	// Operator is the receptionist of a recepcionista account.
	Operator string `json:"operator,omitempty"`
}

// handleMe is GET /api/v1/me.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	//lint:ignore S1016 field by field on purpose: a field added to Principal must not reach the API unseen.
	writeJSON(w, http.StatusOK, meResponse{Name: p.Name, Role: p.Role, Via: p.Via, MustChange: p.MustChange, Operator: p.Operator})
}

// passwordRequest is the body of POST /api/v1/account/password.
type passwordRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// handlePassword is POST /api/v1/account/password. A wrong old password is
// 403, not 401: the session itself is fine.
func (s *Server) handlePassword(w http.ResponseWriter, r *http.Request) {
	var req passwordRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.New == "" {
		s.writeError(w, r, fmt.Errorf("%w: falta la contraseña nueva", ErrInvalid))
		return
	}
	p, _ := principalFrom(r.Context())
	err := s.cfg.Auth.ChangePassword(r.Context(), p, req.Old, req.New)
	if errors.Is(err, ErrBadLogin) {
		s.writeError(w, r, fmt.Errorf("%w: contraseña actual incorrecta", errForbidden))
		return
	}
	if err != nil {
		s.writeError(w, r, fmt.Errorf("change password: %w", err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
