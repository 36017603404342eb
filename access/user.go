package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxNameLen is the longest user name.
const maxNameLen = 32

// SystemActor is the actor of the entries the service writes on its own
// (the first admin).
const SystemActor = "system"

// User is an account, stored as JSON under "user/<name>". Zero times mean
// never. PasswordHash is never logged, and every method that returns a
// User clears it.
type User struct {
	Name            string    `json:"name"`
	Role            Role      `json:"role"`
	Disabled        bool      `json:"disabled"`
	MustChange      bool      `json:"must_change"`
	Created         time.Time `json:"created"`
	PasswordChanged time.Time `json:"password_changed,omitzero"`
	LastLogin       time.Time `json:"last_login,omitzero"`
	LockedUntil     time.Time `json:"locked_until,omitzero"`
	// Failures counts the consecutive failed logins.
	Failures int `json:"failures,omitempty"`
	// Operator is, for RoleRecepcionista, the configured receptionist the
	// account belongs to ("" for the other roles); the web layer shows such
	// an account only that receptionist's calls.
	Operator string `json:"operator,omitempty"`
	// PasswordHash is the PHC string "$argon2id$v=19$m=…,t=…,p=…$salt$hash".
	PasswordHash string `json:"password_hash,omitempty"`
}

// LogValue keeps the hash out of any log line that prints a User.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", u.Name), slog.String("role", string(u.Role)), slog.Bool("disabled", u.Disabled))
}

// public is u as returned to callers: without its hash.
func (u User) public() User {
	u.PasswordHash = ""
	return u
}

// Actor is who makes a change, for its audit entry.
type Actor struct {
	Name   string
	Remote string
}

// CheckName validates a user name: 1 to 32 characters of [a-z0-9._-],
// starting with a letter; else ErrName.
func CheckName(name string) error {
	if name == "" || len(name) > maxNameLen || name[0] < 'a' || name[0] > 'z' {
		return fmt.Errorf("%w: %q", ErrName, clip(name, maxNameLen+8))
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%w: %q", ErrName, clip(name, maxNameLen+8))
		}
	}
	return nil
}

// getUser reads a user; ok is false when there is none (or the name is not
// valid, so it cannot exist).
func (s *Service) getUser(ctx context.Context, name string) (User, bool, error) {
	if CheckName(name) != nil {
		return User{}, false, nil
	}
	v, ok, err := s.kv.Get(ctx, userKey(name))
	if err != nil || !ok {
		return User{}, false, err
	}
	var u User
	if err := json.Unmarshal(v, &u); err != nil {
		return User{}, false, fmt.Errorf("decode user %s: %w", name, err)
	}
	return u, true, nil
}

// mustUser reads a user or returns ErrNotFound.
func (s *Service) mustUser(ctx context.Context, name string) (User, error) {
	if err := CheckName(name); err != nil {
		return User{}, err
	}
	u, ok, err := s.getUser(ctx, name)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return u, nil
}

// putUser adds the write of u to b.
func putUser(b *batch, u User) error {
	v, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode user %s: %w", u.Name, err)
	}
	b.put(userKey(u.Name), v)
	return nil
}

// saveUserLocked adds the write of u to b and commits b with the audit
// entry of action on u by by. The caller holds s.mu.
func (s *Service) saveUserLocked(ctx context.Context, b *batch, by Actor, u User, action, detail string) error {
	if err := putUser(b, u); err != nil {
		return err
	}
	return s.commitLocked(ctx, b, Entry{Actor: by.Name, Remote: by.Remote, Action: action, Target: u.Name, Detail: detail})
}

// userErr prefixes a failed op on the account name with both; nil stays nil.
func userErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", op, clip(name, maxNameLen+8), err)
}

// User returns the account name, without its hash, or ErrNotFound.
func (s *Service) User(ctx context.Context, name string) (User, error) {
	u, err := s.mustUser(ctx, name)
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", clip(name, maxNameLen+8), err)
	}
	return u.public(), nil
}

// Users returns every account sorted by name, without their hashes.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	var us []User
	err := s.kv.Scan(ctx, []byte(prefixUser), func(k, v []byte) error {
		var u User
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		us = append(us, u.public())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	slices.SortFunc(us, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return us, nil
}

// AddUser creates an account: ErrName, ErrRole, ErrWeakPassword, or
// ErrExists when the name is taken. Audited "user_added".
func (s *Service) AddUser(ctx context.Context, by Actor, name string, role Role, password string) error {
	return userErr("add user", name, s.addUser(ctx, by, name, role, password, false))
}

func (s *Service) addUser(ctx context.Context, by Actor, name string, role Role, password string, mustChange bool) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if err := s.checkStrength(name, password); err != nil {
		return err
	}
	// Hash before taking the write lock: argon2 is the slow part.
	h, err := s.hashPassword(ctx, password, s.cfg.Argon)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok, err := s.getUser(ctx, name); err != nil {
		return err
	} else if ok {
		return ErrExists
	}
	now := s.now()
	u := User{Name: name, Role: role, MustChange: mustChange, Created: now, PasswordChanged: now, PasswordHash: h}
	detail := "role " + string(role)
	if mustChange {
		detail += ", must change password"
	}
	return s.saveUserLocked(ctx, &batch{}, by, u, "user_added", detail)
}

// EnsureAdmin creates the account "admin" (RoleAdmin, to be changed at
// first login) with a random 20-character password when there is no
// account at all, and returns that password, to be shown once. With any
// account present it does nothing. Audited "user_added" by SystemActor.
func (s *Service) EnsureAdmin(ctx context.Context) (password string, created bool, err error) {
	exists, err := s.anyUser(ctx)
	if err != nil || exists {
		return "", false, err
	}
	pw, err := randomPassword(s.cfg.Rand, generatedLen)
	if err != nil {
		return "", false, err
	}
	err = s.addUser(ctx, Actor{Name: SystemActor}, "admin", RoleAdmin, pw, true)
	if errors.Is(err, ErrExists) {
		// Another caller created it meanwhile.
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("create first admin: %w", err)
	}
	s.log.Info("first admin created", "user", "admin")
	return pw, true, nil
}

// anyUser reports whether one account exists.
func (s *Service) anyUser(ctx context.Context) (bool, error) {
	found := false
	err := s.kv.Scan(ctx, []byte(prefixUser), func(k, v []byte) error {
		found = true
		return errStop
	})
	if err != nil && err != errStop { //nolint:errorlint // Scan returns fn's error as is
		return false, fmt.Errorf("look for users: %w", err)
	}
	return found, nil
}

// SetPassword sets name's password as an admin reset: the account is
// unlocked, its sessions end (unless by is name itself), and mustChange
// asks for a new password at the next login. Audited "password_set".
func (s *Service) SetPassword(ctx context.Context, by Actor, name, password string, mustChange bool) error {
	return userErr("set password of", name, s.setPassword(ctx, by, name, password, mustChange))
}

func (s *Service) setPassword(ctx context.Context, by Actor, name, password string, mustChange bool) error {
	if _, err := s.mustUser(ctx, name); err != nil {
		return err
	}
	if err := s.checkStrength(name, password); err != nil {
		return err
	}
	h, err := s.hashPassword(ctx, password, s.cfg.Argon)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.mustUser(ctx, name)
	if err != nil {
		return err
	}
	u.PasswordHash, u.PasswordChanged, u.MustChange = h, s.now(), mustChange
	u.Failures, u.LockedUntil = 0, time.Time{}
	var b batch
	n := 0
	if by.Name != name {
		// Someone else knew the password, or the user forgot it: the
		// sessions opened with the old one end. Resetting one's own keeps
		// the session one is using.
		var err error
		if n, err = s.endSessionsLocked(ctx, &b, name, false); err != nil {
			return err
		}
	}
	detail := fmt.Sprintf("%d sessions ended", n)
	if mustChange {
		detail = "must change password, " + detail
	}
	return s.saveUserLocked(ctx, &b, by, u, "password_set", detail)
}

// ChangePassword changes the user's own password: the old one must match
// (else ErrBadLogin, counted as a failed login, so it can lock the
// account), the new one must be strong and differ from it. It clears
// MustChange and keeps the sessions. Audited "password_change".
func (s *Service) ChangePassword(ctx context.Context, by Actor, name, oldPassword, newPassword string) error {
	return userErr("change password of", name, s.changePassword(ctx, by, name, oldPassword, newPassword))
}

func (s *Service) changePassword(ctx context.Context, by Actor, name, oldPassword, newPassword string) error {
	u, err := s.mustUser(ctx, name)
	if err != nil {
		return err
	}
	now := s.now()
	if locked(u, now) {
		return &LockedError{Until: u.LockedUntil}
	}
	ok, err := s.checkPassword(ctx, u.PasswordHash, oldPassword)
	if err != nil && ctx.Err() != nil {
		return err
	}
	if err != nil {
		s.log.Error("stored password hash unreadable", "user", name, "err", err)
	}
	if !ok || u.Disabled {
		return s.failLogin(ctx, name, by.Remote, "change password")
	}
	if err := s.checkStrength(name, newPassword); err != nil {
		return err
	}
	if newPassword == oldPassword {
		return fmt.Errorf("%w: same as the old one", ErrWeakPassword)
	}
	h, err := s.hashPassword(ctx, newPassword, s.cfg.Argon)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.mustUser(ctx, name)
	if err != nil {
		return err
	}
	if cur.PasswordHash != u.PasswordHash {
		// Changed meanwhile (an admin reset): the old password checked
		// is no longer the password.
		return ErrBadLogin
	}
	cur.PasswordHash, cur.PasswordChanged, cur.MustChange = h, s.now(), false
	cur.Failures = 0
	return s.saveUserLocked(ctx, &batch{}, by, cur, "password_change", "")
}

// SetRole changes name's role; ErrLastAdmin when it would leave no enabled
// admin. Setting the role it has writes nothing. Audited "role_changed".
func (s *Service) SetRole(ctx context.Context, by Actor, name string, role Role) error {
	return userErr("set role of", name, s.setRole(ctx, by, name, role))
}

func (s *Service) setRole(ctx context.Context, by Actor, name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.mustUser(ctx, name)
	if err != nil {
		return err
	}
	if u.Role == role {
		return nil
	}
	if u.Role == RoleAdmin && !u.Disabled {
		if err := s.otherAdminLocked(ctx, name); err != nil {
			return err
		}
	}
	old := u.Role
	u.Role = role
	return s.saveUserLocked(ctx, &batch{}, by, u, "role_changed", string(old)+" -> "+string(role))
}

// SetOperator sets the receptionist an account belongs to ("" clears it);
// the caller checks the name against the configured receptionists. Setting
// the operator it has writes nothing. Audited "user_operator".
func (s *Service) SetOperator(ctx context.Context, by Actor, name, operator string) error {
	return userErr("set operator of", name, s.setOperator(ctx, by, name, operator))
}

func (s *Service) setOperator(ctx context.Context, by Actor, name, operator string) error {
	if len(operator) > maxOperatorLen || strings.ContainsFunc(operator, unicode.IsControl) {
		return fmt.Errorf("%w: operator %q", ErrName, operator)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.mustUser(ctx, name)
	if err != nil {
		return err
	}
	if u.Operator == operator {
		return nil
	}
	old := u.Operator
	u.Operator = operator
	return s.saveUserLocked(ctx, &batch{}, by, u, "user_operator", strconv.Quote(old)+" -> "+strconv.Quote(operator))
}

// maxOperatorLen bounds a receptionist's name as an account stores it.
const maxOperatorLen = 100

// SetDisabled disables or enables name. Disabling ends its sessions and
// removes its API tokens in the same transaction (enabling again does not
// bring them back); ErrLastAdmin when it would leave no enabled admin.
// Audited "user_disabled" or "user_enabled"; no change writes nothing.
func (s *Service) SetDisabled(ctx context.Context, by Actor, name string, disabled bool) error {
	return userErr("set disabled of", name, s.setDisabled(ctx, by, name, disabled))
}

func (s *Service) setDisabled(ctx context.Context, by Actor, name string, disabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.mustUser(ctx, name)
	if err != nil {
		return err
	}
	if u.Disabled == disabled {
		return nil
	}
	if disabled && u.Role == RoleAdmin {
		if err := s.otherAdminLocked(ctx, name); err != nil {
			return err
		}
	}
	u.Disabled = disabled
	if !disabled {
		return s.saveUserLocked(ctx, &batch{}, by, u, "user_enabled", "")
	}
	var b batch
	n, err := s.endSessionsLocked(ctx, &b, name, true)
	if err != nil {
		return err
	}
	return s.saveUserLocked(ctx, &b, by, u, "user_disabled", fmt.Sprintf("%d sessions and tokens ended", n))
}

// otherAdminLocked returns ErrLastAdmin unless an enabled admin other than
// name exists.
func (s *Service) otherAdminLocked(ctx context.Context, name string) error {
	found := false
	err := s.kv.Scan(ctx, []byte(prefixUser), func(k, v []byte) error {
		var u User
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		if u.Name != name && u.Role == RoleAdmin && !u.Disabled {
			found = true
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop { //nolint:errorlint // Scan returns fn's error as is
		return fmt.Errorf("look for admins: %w", err)
	}
	if !found {
		return ErrLastAdmin
	}
	return nil
}

// clip cuts s to at most n bytes, for names echoed in errors and audit
// entries that came from a request.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
