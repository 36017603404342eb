package access

import "fmt"

// Role is what an account may do; the web layer decides which role may
// reach which page.
type Role string

// Roles of the procedure (seed document): the técnico UACT evaluates the
// sample, the jefe UACT reviews it and reads the audit, the admin manages
// the accounts, and a receptionist (one account per configured
// receptionist, User.Operator) sees their own calls, evaluations and
// actions (issue 10 §5).
const (
	RoleTecnico       Role = "tecnico"
	RoleJefe          Role = "jefe"
	RoleAdmin         Role = "admin"
	RoleRecepcionista Role = "recepcionista"
)

// ParseRole returns the role named s, or ErrRole.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleTecnico, RoleJefe, RoleAdmin, RoleRecepcionista:
		return r, nil
	}
	return "", fmt.Errorf("%w: %q", ErrRole, s)
}
