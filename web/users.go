package web

import (
	"fmt"
	"net/http"
)

// Account management (admin only; guard and need enforce it). Package
// access audits every change; the handlers check the shape of a request
// and leave the rules (name syntax, password strength) to it.

// validRole reports whether r is a role an account may have.
func validRole(r Role) bool { return r == RoleTecnico || r == RoleJefe || r == RoleAdmin }

// handleUsers is GET /api/v1/users.
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.cfg.Auth.Users(r.Context())
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list users: %w", err))
		return
	}
	if users == nil {
		users = []User{}
	}
	writeJSON(w, http.StatusOK, users)
}

// addUserRequest is the body of POST /api/v1/users.
type addUserRequest struct {
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Password string `json:"password"`
}

// handleAddUser is POST /api/v1/users: 201 with the new account.
func (s *Server) handleAddUser(w http.ResponseWriter, r *http.Request) {
	var req addUserRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case req.Name == "":
		s.writeError(w, r, fmt.Errorf("%w: falta el nombre", ErrInvalid))
		return
	case !validRole(req.Role):
		s.writeError(w, r, fmt.Errorf("%w: rol %q desconocido (tecnico, jefe, admin)", ErrInvalid, clip(string(req.Role))))
		return
	case req.Password == "":
		s.writeError(w, r, fmt.Errorf("%w: falta la contraseña", ErrInvalid))
		return
	}
	p, _ := principalFrom(r.Context())
	if err := s.cfg.Auth.AddUser(r.Context(), p, req.Name, req.Role, req.Password); err != nil {
		s.writeError(w, r, fmt.Errorf("add user: %w", err))
		return
	}
	s.writeUser(w, r, http.StatusCreated, req.Name)
}

// patchUserRequest is the body of PATCH /api/v1/users/{name}: only the
// fields given change.
type patchUserRequest struct {
	Role     *Role   `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

// handlePatchUser is PATCH /api/v1/users/{name}: 200 with the account.
// The changes are applied in the order role, password, disabled; the first
// that fails stops the others.
func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var req patchUserRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Role == nil && req.Disabled == nil && req.Password == nil {
		s.writeError(w, r, fmt.Errorf("%w: nada que cambiar (role, disabled, password)", ErrInvalid))
		return
	}
	if req.Role != nil && !validRole(*req.Role) {
		s.writeError(w, r, fmt.Errorf("%w: rol %q desconocido (tecnico, jefe, admin)", ErrInvalid, clip(string(*req.Role))))
		return
	}
	if req.Password != nil && *req.Password == "" {
		s.writeError(w, r, fmt.Errorf("%w: contraseña vacía", ErrInvalid))
		return
	}
	ctx := r.Context()
	p, _ := principalFrom(ctx)
	if req.Role != nil {
		if err := s.cfg.Auth.SetRole(ctx, p, name, *req.Role); err != nil {
			s.writeError(w, r, fmt.Errorf("set role of %q: %w", clip(name), err))
			return
		}
	}
	if req.Password != nil {
		if err := s.cfg.Auth.SetPassword(ctx, p, name, *req.Password); err != nil {
			s.writeError(w, r, fmt.Errorf("set password of %q: %w", clip(name), err))
			return
		}
	}
	if req.Disabled != nil {
		if err := s.cfg.Auth.SetDisabled(ctx, p, name, *req.Disabled); err != nil {
			s.writeError(w, r, fmt.Errorf("set disabled of %q: %w", clip(name), err))
			return
		}
	}
	s.writeUser(w, r, http.StatusOK, name)
}

// tokenRequest is the body of POST /api/v1/users/{name}/token.
type tokenRequest struct {
	Label string `json:"label"`
}

// tokenResponse carries a new token, shown this once.
type tokenResponse struct {
	Token string `json:"token"`
}

// handleToken is POST /api/v1/users/{name}/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.Label) > maxFilterLen {
		s.writeError(w, r, fmt.Errorf("%w: etiqueta demasiado larga", ErrInvalid))
		return
	}
	p, _ := principalFrom(r.Context())
	tok, err := s.cfg.Auth.IssueToken(r.Context(), p, r.PathValue("name"), req.Label)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("issue token: %w", err))
		return
	}
	writeJSON(w, http.StatusCreated, tokenResponse{Token: tok})
}

// writeUser answers the account name as listed.
func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, code int, name string) {
	users, err := s.cfg.Auth.Users(r.Context())
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list users: %w", err))
		return
	}
	for _, u := range users {
		if u.Name == name {
			writeJSON(w, code, u)
			return
		}
	}
	s.writeError(w, r, fmt.Errorf("user %q: %w", clip(name), ErrNotFound))
}
