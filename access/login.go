package access

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Slow-down after a failed login: 250 ms, doubled with each consecutive
// failure, at most 4 s (OWASP Authentication Cheat Sheet, "account
// lockout" and throttling).
const (
	failBaseDelay = 250 * time.Millisecond
	failMaxDelay  = 4 * time.Second
)

// failDelay is the wait after the n-th consecutive failure (n >= 1).
func failDelay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 5 {
		return failMaxDelay
	}
	return min(failBaseDelay<<(n-1), failMaxDelay)
}

// locked reports whether u is locked at now.
func locked(u User, now time.Time) bool {
	return !u.LockedUntil.IsZero() && now.Before(u.LockedUntil)
}

// Login checks name and password and opens a session. A wrong password, an
// unknown name and a disabled account all give ErrBadLogin, in the same
// time: an unknown name's password is checked against a dummy hash, and its
// failures are counted in memory like a real account's. After a failure
// Login sleeps 250 ms·2^(n-1), at most 4 s, n being the consecutive
// failures; the MaxFailures-th locks the account for LockFor, and until
// then Login returns a *LockedError (errors.Is ErrLocked) even for the
// right password. Audited "login", "login_failed", "login_locked".
func (s *Service) Login(ctx context.Context, name, password, remote string) (Session, error) {
	u, found, err := s.getUser(ctx, name)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	now := s.now()
	if until, ok := s.lockedUntil(name, u, found, now); ok {
		err := s.commit(ctx, nil, Entry{Actor: clip(name, maxNameLen+8), Remote: remote, Action: "login_locked", Target: clip(name, maxNameLen+8),
			Detail: "attempt while locked until " + until.Format(time.RFC3339)})
		if err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
		}
		return Session{}, &LockedError{Until: until}
	}
	stored := u.PasswordHash
	if !found {
		stored = s.dummy
	}
	ok, err := s.checkPassword(ctx, stored, password)
	switch {
	case err != nil && ctx.Err() != nil:
		return Session{}, err
	case err != nil:
		// A hash that cannot be read is a failure to log in, and worth
		// an operator's look; the password stays out of the log.
		s.log.Error("stored password hash unreadable", "user", name, "err", err)
	}
	if !found || !ok || u.Disabled {
		detail := "bad password"
		switch {
		case !found:
			detail = "unknown user"
		case u.Disabled:
			detail = "disabled"
		}
		return Session{}, s.failLogin(ctx, name, remote, detail)
	}
	return s.openSession(ctx, u, password, remote)
}

// lockedUntil reports whether the account (or the unknown name) is locked.
func (s *Service) lockedUntil(name string, u User, found bool, now time.Time) (time.Time, bool) {
	if found {
		return u.LockedUntil, locked(u, now)
	}
	return s.ghosts.lockedUntil(name, now)
}

// failLogin counts a failed login of name, locking it at MaxFailures,
// writes its audit entries with the change, sleeps, and returns the error
// for the caller: ErrBadLogin, or a *LockedError when this failure locked
// the account.
func (s *Service) failLogin(ctx context.Context, name, remote, detail string) error {
	target := clip(name, maxNameLen+8)
	entries := []Entry{{Actor: target, Remote: remote, Action: "login_failed", Target: target, Detail: detail}}
	var n int
	var until time.Time
	err := func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.now()
		u, found, err := s.getUser(ctx, name)
		if err != nil {
			return err
		}
		var newLock bool
		if !found {
			n, until, newLock = s.ghosts.fail(name, now, s.cfg.MaxFailures, s.cfg.LockFor)
		} else {
			if !u.LockedUntil.IsZero() && !now.Before(u.LockedUntil) {
				// The lock ran out: counting starts again.
				u.Failures, u.LockedUntil = 0, time.Time{}
			}
			u.Failures++
			n = u.Failures
			if n >= s.cfg.MaxFailures && !locked(u, now) {
				u.LockedUntil, newLock = now.Add(s.cfg.LockFor), true
			}
			if locked(u, now) {
				// Locked now, or meanwhile by a concurrent failure.
				until = u.LockedUntil
			}
		}
		entries[0].Detail += ", failure " + strconv.Itoa(n)
		if newLock {
			entries = append(entries, Entry{Actor: SystemActor, Remote: remote, Action: "login_locked", Target: target,
				Detail: fmt.Sprintf("%d failures, locked until %s", n, until.Format(time.RFC3339))})
		}
		var b batch
		if found {
			if err := putUser(&b, u); err != nil {
				return err
			}
		}
		return s.commitLocked(ctx, &b, entries...)
	}()
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	s.cfg.Sleep(failDelay(n))
	if !until.IsZero() {
		return &LockedError{Until: until}
	}
	return ErrBadLogin
}

// openSession records a successful login of u: the failures are cleared, a
// hash made under older parameters is renewed, and the session is stored
// with the user and the audit entry in one transaction.
func (s *Service) openSession(ctx context.Context, u User, password, remote string) (Session, error) {
	var rehash string
	if h, err := parsePHC(u.PasswordHash); err == nil && h.params != s.cfg.Argon {
		// The parameters were raised (or lowered) since this hash was
		// made: store it anew while the password is at hand.
		if rehash, err = s.hashPassword(ctx, password, s.cfg.Argon); err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
		}
	}
	token, err := newToken(s.cfg.Rand, "")
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, found, err := s.getUser(ctx, u.Name)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	now := s.now()
	switch {
	case !found || cur.Disabled || cur.PasswordHash != u.PasswordHash:
		// Removed, disabled or given a new password since the check.
		return Session{}, ErrBadLogin
	case locked(cur, now):
		return Session{}, &LockedError{Until: cur.LockedUntil}
	}
	cur.Failures, cur.LockedUntil, cur.LastLogin = 0, time.Time{}, now
	if rehash != "" {
		cur.PasswordHash = rehash
	}
	h := tokenHash(token)
	rec := sessionRecord{User: cur.Name, Created: now, LastSeen: now, Expires: s.sessionExpiry(now, now), Remote: remote, Hash: h}
	v, err := json.Marshal(rec)
	if err != nil {
		return Session{}, fmt.Errorf("login: encode session: %w", err)
	}
	var b batch
	if err := putUser(&b, cur); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	b.put(sessionKey(h), v)
	if err := s.commitLocked(ctx, &b, Entry{Actor: cur.Name, Remote: remote, Action: "login", Target: cur.Name}); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	return Session{Token: token, User: cur.public(), Expires: rec.Expires}, nil
}
