package web

import (
	"fmt"
	"net/http"
	"slices"
)

// Account management (admin only; guard and need enforce it). Package
// access audits every change; the handlers check the shape of a request
// and leave the rules (name syntax, password strength) to it.

// validRole reports whether r is a role an account may have.
func validRole(r Role) bool {
	return r == RoleTecnico || r == RoleJefe || r == RoleAdmin || r == RoleRecepcionista
}

// roleList names the roles in a refusal.
const roleList = "tecnico, jefe, admin, recepcionista"

// checkOperator checks the receptionist a recepcionista account belongs
// to: required for that role, refused for the others (an office account
// sees every call), and one of the configured receptionists when they are
// configured (package access checks it again).
func (s *Server) checkOperator(role Role, operator string) error {
	switch {
	case role == RoleRecepcionista && operator == "":
		return fmt.Errorf("%w: una cuenta recepcionista necesita operator (la recepcionista configurada)", ErrInvalid)
	case role != RoleRecepcionista && operator != "":
		return fmt.Errorf("%w: operator solo en cuentas recepcionista", ErrInvalid)
	case operator != "" && len(s.cfg.Operators) > 0 && !slices.Contains(s.cfg.Operators, operator):
		return fmt.Errorf("%w: operator %q no es una recepcionista configurada", ErrInvalid, clip(operator))
	}
	return nil
}

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
	// Operator is the receptionist of a recepcionista account.
	Operator string `json:"operator"`
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
		s.writeError(w, r, fmt.Errorf("%w: rol %q desconocido (%s)", ErrInvalid, clip(string(req.Role)), roleList))
		return
	case req.Password == "":
		s.writeError(w, r, fmt.Errorf("%w: falta la contraseña", ErrInvalid))
		return
	}
	if err := s.checkOperator(req.Role, req.Operator); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, _ := principalFrom(r.Context())
	if err := s.cfg.Auth.AddUser(r.Context(), p, req.Name, req.Role, req.Password); err != nil {
		s.writeError(w, r, fmt.Errorf("add user: %w", err))
		return
	}
	if req.Operator != "" {
		// The account exists already: a failure here leaves it tied to
		// no receptionist, which sees nothing until an admin ties it.
		if err := s.cfg.Auth.SetOperator(r.Context(), p, req.Name, req.Operator); err != nil {
			s.writeError(w, r, fmt.Errorf("set operator of %q: %w", clip(req.Name), err))
			return
		}
	}
	s.writeUser(w, r, http.StatusCreated, req.Name)
}

// patchUserRequest is the body of PATCH /api/v1/users/{name}: only the
// fields given change.
type patchUserRequest struct {
	Role     *Role   `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
	Operator *string `json:"operator"`
}

// handlePatchUser is PATCH /api/v1/users/{name}: 200 with the account.
// The changes are applied in the order role, operator, password, disabled;
// the first that fails stops the others. The operator follows the role: an
// account made recepcionista needs one (given or kept), one given to an
// office account is refused, and an account leaving the recepcionista role
// is untied from its receptionist.
func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var req patchUserRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Role == nil && req.Disabled == nil && req.Password == nil && req.Operator == nil {
		s.writeError(w, r, fmt.Errorf("%w: nada que cambiar (role, operator, disabled, password)", ErrInvalid))
		return
	}
	if req.Role != nil && !validRole(*req.Role) {
		s.writeError(w, r, fmt.Errorf("%w: rol %q desconocido (%s)", ErrInvalid, clip(string(*req.Role)), roleList))
		return
	}
	if req.Password != nil && *req.Password == "" {
		s.writeError(w, r, fmt.Errorf("%w: contraseña vacía", ErrInvalid))
		return
	}
	ctx := r.Context()
	p, _ := principalFrom(ctx)
	setOperator, operator, err := s.patchOperator(r, name, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Role != nil {
		if err := s.cfg.Auth.SetRole(ctx, p, name, *req.Role); err != nil {
			s.writeError(w, r, fmt.Errorf("set role of %q: %w", clip(name), err))
			return
		}
	}
	if setOperator {
		if err := s.cfg.Auth.SetOperator(ctx, p, name, operator); err != nil {
			s.writeError(w, r, fmt.Errorf("set operator of %q: %w", clip(name), err))
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

// patchOperator decides the operator change of a PATCH from the account's
// role and operator after it: whether to set one, and which.
func (s *Server) patchOperator(r *http.Request, name string, req patchUserRequest) (bool, string, error) {
	if req.Role == nil && req.Operator == nil {
		return false, "", nil
	}
	users, err := s.cfg.Auth.Users(r.Context())
	if err != nil {
		return false, "", fmt.Errorf("list users: %w", err)
	}
	i := slices.IndexFunc(users, func(u User) bool { return u.Name == name })
	if i < 0 {
		return false, "", fmt.Errorf("user %q: %w", clip(name), ErrNotFound)
	}
	cur := users[i]
	role, operator := cur.Role, cur.Operator
	if req.Role != nil {
		role = *req.Role
	}
	if req.Operator != nil {
		operator = *req.Operator
	} else if role != RoleRecepcionista {
		operator = "" // leaving the role unties the account
	}
	if err := s.checkOperator(role, operator); err != nil {
		return false, "", err
	}
	return operator != cur.Operator, operator, nil
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
