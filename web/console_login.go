package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Login, logout and the account page. Logins, failed logins, logouts and
// password changes are audited by package access behind Auth (one entry
// per event), so none is written here.

// Messages of the login form: never which of name or password was wrong.
const (
	msgBadLogin    = "Nombre o contraseña incorrectos"
	msgLockedUntil = "Cuenta bloqueada hasta "
	msgLocked      = "Cuenta bloqueada; intente más tarde"
	msgLoginFailed = "No se pudo iniciar sesión por un error interno; intente de nuevo"
)

// loginBody is the login form's data.
type loginBody struct {
	Next string
	Name string
}

// loginPage is GET /login; someone already logged in goes on to the page.
func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if p, ok := principalFrom(r.Context()); ok {
		http.Redirect(w, r, afterLogin(p, next, c.s.cfg.Home), http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "login", c.newPage(nil, "Ingreso", "login", loginBody{Next: next}))
}

// loginSubmit is POST /login (fields name, password, next).
func (c *console) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, nil, fmt.Errorf("%w: formulario ilegible", ErrInvalid))
		return
	}
	name, password := r.PostForm.Get("name"), r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	sess, err := c.s.cfg.Auth.Login(r.Context(), name, password, remoteAddr(r))
	if err != nil {
		status, msg := http.StatusInternalServerError, msgLoginFailed
		var locked *LockedError
		switch {
		case errors.As(err, &locked):
			status, msg = http.StatusTooManyRequests, msgLockedUntil+c.f.clock(locked.Until)
		case errors.Is(err, ErrLocked):
			status, msg = http.StatusTooManyRequests, msgLocked
		case errors.Is(err, ErrBadLogin), errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalid):
			status, msg = http.StatusUnauthorized, msgBadLogin
		default:
			c.s.log.Error("console login failed", "remote", remoteAddr(r), "err", err)
		}
		pg := c.newPage(nil, "Ingreso", "login", loginBody{Next: next, Name: name})
		pg.Error = msg
		c.render(w, r, status, "login", pg)
		return
	}
	c.s.setSessionCookie(w, sess)
	http.Redirect(w, r, afterLogin(sess.Principal, next, c.s.cfg.Home), http.StatusSeeOther)
}

// afterLogin is where a login goes: the account page when the password
// must change, else next, else home (a receptionist's own evaluations).
func afterLogin(p Principal, next, home string) string {
	switch {
	case p.MustChange:
		return "/cuenta"
	case next != "":
		return next
	case p.Role == RoleRecepcionista:
		return "/mias"
	}
	return home
}

// safeNext returns next when it is a path of this site, else "". Beyond
// localPath ("//host", "/\host"), it refuses every control character and
// backslash, because browsers drop tabs and newlines from a URL and read
// "\" as "/": "/\t/evil" would become "//evil". The login pages themselves
// are refused too, so a login never loops back to the form.
func safeNext(next string) string {
	if !localPath(next) || strings.ContainsRune(next, '\\') {
		return ""
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return ""
	}
	if u.Path == "/login" || u.Path == "/logout" {
		return ""
	}
	return next
}

// logout is POST /logout: it ends the cookie's session and goes to the
// login form.
func (c *console) logout(w http.ResponseWriter, r *http.Request) {
	if p, ok := principalFrom(r.Context()); ok && p.Via == "session" {
		if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
			if err := c.s.cfg.Auth.Logout(r.Context(), ck.Value); err != nil && !errors.Is(err, ErrNotFound) {
				// The cookie is cleared anyway; the session expires on its own.
				c.s.log.Error("console logout", "user", p.Name, "err", err)
			}
		}
	}
	c.s.clearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// accountBody is the account page's data.
type accountBody struct{ Forced bool }

// account is GET /cuenta.
func (c *console) account(w http.ResponseWriter, r *http.Request, p Principal) {
	pg := c.newPage(&p, "Mi cuenta", "cuenta", accountBody{Forced: p.MustChange})
	if r.URL.Query().Get("hecho") == "1" {
		pg.Flash = "La contraseña se cambió."
	}
	c.render(w, r, http.StatusOK, "cuenta", pg)
}

// changePassword is POST /cuenta/clave (fields old, new, confirm).
func (c *console) changePassword(w http.ResponseWriter, r *http.Request, p Principal) {
	again := func(status int, msg string) {
		pg := c.newPage(&p, "Mi cuenta", "cuenta", accountBody{Forced: p.MustChange})
		pg.Error = msg
		c.render(w, r, status, "cuenta", pg)
	}
	if err := r.ParseForm(); err != nil {
		again(http.StatusBadRequest, "El formulario no se pudo leer.")
		return
	}
	oldPw, newPw, confirm := r.PostForm.Get("old"), r.PostForm.Get("new"), r.PostForm.Get("confirm")
	switch {
	case newPw == "":
		again(http.StatusBadRequest, "Escriba la contraseña nueva.")
		return
	case newPw != confirm:
		again(http.StatusBadRequest, "La confirmación no coincide con la contraseña nueva.")
		return
	}
	err := c.s.cfg.Auth.ChangePassword(r.Context(), p, oldPw, newPw)
	switch {
	case err == nil:
		http.Redirect(w, r, "/cuenta?hecho=1", http.StatusSeeOther)
	case errors.Is(err, ErrBadLogin):
		again(http.StatusForbidden, "La contraseña actual no es correcta.")
	case errors.Is(err, ErrInvalid):
		again(http.StatusBadRequest, "La contraseña nueva no es válida: "+detail(err, ErrInvalid, "no cumple los requisitos")+".")
	default:
		c.s.log.Error("console password change", "user", p.Name, "err", err)
		again(http.StatusInternalServerError, "No se pudo cambiar la contraseña por un error interno.")
	}
}
