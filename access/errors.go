package access

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound is returned for a user that does not exist.
	ErrNotFound = errors.New("user not found")
	// ErrExists is returned by AddUser for a name already taken.
	ErrExists = errors.New("user already exists")
	// ErrName is returned for a user name that is not 1 to 32 characters of
	// [a-z0-9._-] starting with a letter.
	ErrName = errors.New("invalid user name")
	// ErrRole is returned for a role other than tecnico, jefe and admin.
	ErrRole = errors.New("invalid role")
	// ErrWeakPassword is returned for a new password that is too short, too
	// long, the user's name, or the same as the old one.
	ErrWeakPassword = errors.New("password too weak")
	// ErrBadLogin is a wrong name or password, never saying which; also a
	// disabled account.
	ErrBadLogin = errors.New("bad name or password")
	// ErrLocked is matched by a *LockedError: the account is locked after
	// repeated failed logins.
	ErrLocked = errors.New("account locked")
	// ErrNoSession is returned for a session or API token that is unknown,
	// expired, or whose user is disabled or gone.
	ErrNoSession = errors.New("no such session")
	// ErrLastAdmin is returned by SetRole and SetDisabled when the change
	// would leave no enabled admin to manage the accounts.
	ErrLastAdmin = errors.New("last enabled admin")
	// ErrLabel is returned by IssueToken for a label longer than 64
	// characters or holding control characters.
	ErrLabel = errors.New("invalid token label")
	// ErrEntry is returned by Audit for an entry without an action.
	ErrEntry = errors.New("invalid audit entry")
	// ErrConfig is returned by New for an invalid Config.
	ErrConfig = errors.New("invalid access config")
	// ErrHash is returned for a stored password hash that is not a PHC
	// argon2id string within the accepted bounds.
	ErrHash = errors.New("invalid password hash")
)

// Unexported sentinels: errStop ends a Scan early and never leaves the
// package; errUnreadable marks a stored entry that is not an Entry's JSON.
var (
	errStop       = errors.New("stop scan")
	errUnreadable = errors.New("unreadable audit entry")
)

// LockedError says until when an account is locked; errors.Is(err,
// ErrLocked) holds for it.
type LockedError struct {
	Until time.Time
}

// Error says until when, in UTC.
func (e *LockedError) Error() string {
	return fmt.Sprintf("account locked until %s", e.Until.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }
