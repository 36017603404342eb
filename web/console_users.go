package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// The Usuarios page (admin). Every change goes through Auth, which audits
// it (package access: user, role, password, disable and token entries).

// userRow is one account in the table.
type userRow struct {
	User
	Index int
	// Base is the path of the account's forms, /usuarios/<name escaped>.
	Base   string
	Locked string
}

// shownToken is a token issued just now, shown once.
type shownToken struct{ User, Value string }

// usersBody is the Usuarios page's data.
type usersBody struct {
	Users []userRow
	Roles []option
	// Operators are the configured receptionists a recepcionista account
	// can be tied to.
	Operators []string
	Token     *shownToken
}

// userFlash are the messages after a change, by the code in ?hecho=
// (codes only: nothing the client sends is echoed).
func userFlash(code string) string {
	switch code {
	case "alta":
		return "Se agregó el usuario."
	case "rol":
		return "Se cambió el rol."
	case "habilitado":
		return "Se habilitó la cuenta."
	case "deshabilitado":
		return "Se deshabilitó la cuenta."
	case "clave":
		return "Se restableció la contraseña; el usuario deberá cambiarla al ingresar."
	}
	return ""
}

// users is GET /usuarios.
func (c *console) users(w http.ResponseWriter, r *http.Request, p Principal) {
	c.renderUsers(w, r, p, http.StatusOK, userFlash(r.URL.Query().Get("hecho")), "", nil)
}

// renderUsers shows the list with a message, an error or a new token.
func (c *console) renderUsers(w http.ResponseWriter, r *http.Request, p Principal, status int, flash, errMsg string, tok *shownToken) {
	list, err := c.s.cfg.Auth.Users(r.Context())
	if err != nil {
		c.fail(w, r, &p, fmt.Errorf("list users: %w", err))
		return
	}
	b := usersBody{Token: tok, Operators: c.s.cfg.Operators}
	for _, role := range accountRoles {
		b.Roles = append(b.Roles, option{Value: string(role), Label: roleLabel(role)})
	}
	now := c.s.now()
	for i, u := range list {
		row := userRow{User: u, Index: i, Base: "/usuarios/" + url.PathEscape(u.Name)}
		if u.LockedUntil != nil && u.LockedUntil.After(now) {
			row.Locked = c.f.clock(*u.LockedUntil)
		}
		b.Users = append(b.Users, row)
	}
	pg := c.newPage(&p, "Usuarios", "usuarios", b)
	pg.Flash, pg.Error = flash, errMsg
	c.render(w, r, status, "usuarios", pg)
}

// userChange runs one change and answers: 303 to the list with a message
// code, or the list again with the error.
func (c *console) userChange(w http.ResponseWriter, r *http.Request, p Principal, code string, do func() error) {
	err := do()
	if err == nil {
		http.Redirect(w, r, "/usuarios?hecho="+code, http.StatusSeeOther)
		return
	}
	status, msg := userError(err)
	if status == http.StatusInternalServerError {
		c.s.log.Error("console user change", "by", p.Name, "path", r.URL.Path, "err", err)
	}
	c.renderUsers(w, r, p, status, "", msg, nil)
}

// userError maps Auth's errors to a status and a Spanish message.
func userError(err error) (int, string) {
	switch {
	case errors.Is(err, ErrExists):
		return http.StatusConflict, "Ya existe un usuario con ese nombre."
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, "No existe ese usuario."
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, "Datos inválidos: " + detail(err, ErrInvalid, "revise el nombre, el rol y la contraseña") + "."
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, "Acción no permitida: " + detail(err, errForbidden, "acceso denegado") + "."
	}
	return http.StatusInternalServerError, "No se pudo hacer el cambio por un error interno."
}

// readForm parses the posted form; a body that cannot be read is ErrInvalid.
func readForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: formulario ilegible", ErrInvalid)
	}
	return nil
}

// accountRoles are the roles an account can be given.
var accountRoles = []Role{RoleTecnico, RoleJefe, RoleAdmin, RoleRecepcionista}

// parseRole reads a role value of the forms.
func parseRole(v string) (Role, error) {
	for _, r := range accountRoles {
		if string(r) == v {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: rol %q desconocido", ErrInvalid, clip(v))
}

// addUser is POST /usuarios (name, role, password).
func (c *console) addUser(w http.ResponseWriter, r *http.Request, p Principal) {
	c.userChange(w, r, p, "alta", func() error {
		if err := readForm(r); err != nil {
			return err
		}
		role, err := parseRole(r.PostForm.Get("role"))
		if err != nil {
			return err
		}
		name, pw := r.PostForm.Get("name"), r.PostForm.Get("password")
		if name == "" || pw == "" {
			return fmt.Errorf("%w: faltan el nombre o la contraseña", ErrInvalid)
		}
		operator := formOperator(r, role)
		if err := c.s.checkOperator(role, operator); err != nil {
			return err
		}
		if err := c.s.cfg.Auth.AddUser(r.Context(), p, name, role, pw); err != nil {
			return err
		}
		if operator == "" {
			return nil
		}
		return c.s.cfg.Auth.SetOperator(r.Context(), p, name, operator)
	})
}

// setRole is POST /usuarios/{name}/rol (role).
func (c *console) setRole(w http.ResponseWriter, r *http.Request, p Principal) {
	c.userChange(w, r, p, "rol", func() error {
		if err := readForm(r); err != nil {
			return err
		}
		role, err := parseRole(r.PostForm.Get("role"))
		if err != nil {
			return err
		}
		// The receptionist follows the role: required for a recepcionista,
		// removed from any other role.
		operator := formOperator(r, role)
		if err := c.s.checkOperator(role, operator); err != nil {
			return err
		}
		name := r.PathValue("name")
		if err := c.s.cfg.Auth.SetRole(r.Context(), p, name, role); err != nil {
			return err
		}
		return c.s.cfg.Auth.SetOperator(r.Context(), p, name, operator)
	})
}

// formOperator is the receptionist posted with a role: only a
// recepcionista has one.
func formOperator(r *http.Request, role Role) string {
	if role != RoleRecepcionista {
		return ""
	}
	return r.PostForm.Get("operator")
}

// setDisabled is POST /usuarios/{name}/estado (disabled=true|false).
func (c *console) setDisabled(w http.ResponseWriter, r *http.Request, p Principal) {
	if err := readForm(r); err != nil {
		c.userChange(w, r, p, "", func() error { return err })
		return
	}
	disabled, err := strconv.ParseBool(r.PostForm.Get("disabled"))
	code := "habilitado"
	if disabled {
		code = "deshabilitado"
	}
	c.userChange(w, r, p, code, func() error {
		if err != nil {
			return fmt.Errorf("%w: disabled debe ser true o false", ErrInvalid)
		}
		return c.s.cfg.Auth.SetDisabled(r.Context(), p, r.PathValue("name"), disabled)
	})
}

// resetPassword is POST /usuarios/{name}/clave (password).
func (c *console) resetPassword(w http.ResponseWriter, r *http.Request, p Principal) {
	c.userChange(w, r, p, "clave", func() error {
		if err := readForm(r); err != nil {
			return err
		}
		pw := r.PostForm.Get("password")
		if pw == "" {
			return fmt.Errorf("%w: falta la contraseña", ErrInvalid)
		}
		return c.s.cfg.Auth.SetPassword(r.Context(), p, r.PathValue("name"), pw)
	})
}

// issueToken is POST /usuarios/{name}/token (label): the token is shown on
// the answer page once and never again (only its hash is kept).
func (c *console) issueToken(w http.ResponseWriter, r *http.Request, p Principal) {
	name := r.PathValue("name")
	var tok string
	err := readForm(r)
	if err == nil {
		tok, err = c.s.cfg.Auth.IssueToken(r.Context(), p, name, r.PostForm.Get("label"))
	}
	if err != nil {
		c.userChange(w, r, p, "", func() error { return err })
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	c.renderUsers(w, r, p, http.StatusOK, "Token emitido.", "", &shownToken{User: name, Value: tok})
}
