package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

const (
	// tokenBytes is the randomness of a session or API token: 256 bits.
	tokenBytes = 32
	// slideEvery is how often a session in use has its expiry pushed:
	// at most one write a minute per session, not one per request.
	slideEvery = time.Minute
	// purgeBatch bounds the deletions of one purge transaction.
	purgeBatch = 512
)

// Session is a login. Token is the raw value for the cookie: it is
// returned only here and stored only as its SHA-256.
type Session struct {
	Token   string
	User    User
	Expires time.Time
}

// sessionRecord is a session as stored under "session/<sha256 of token>".
type sessionRecord struct {
	User     string    `json:"user"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	Expires  time.Time `json:"expires"`
	Remote   string    `json:"remote,omitempty"`
	// Hash repeats the key, to be compared in constant time.
	Hash string `json:"hash"`
}

// newToken returns prefix and base64url (no padding) of tokenBytes from r.
func newToken(r io.Reader, prefix string) (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenHash is the hex SHA-256 of a raw token: its key in the store. A
// token is 256 random bits, so a fast hash is enough (no argon2): nobody
// can search that space.
func tokenHash(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

// wellFormed reports whether raw looks like a token made by newToken with
// prefix, before any store read.
func wellFormed(raw, prefix string) bool {
	body, ok := strings.CutPrefix(raw, prefix)
	if !ok || len(body) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(body)
	return err == nil
}

// sessionExpiry is when a session created at created and last used at seen
// ends: SessionIdle after its last use, and never past SessionMax after its
// login.
func (s *Service) sessionExpiry(created, seen time.Time) time.Time {
	idle, abs := seen.Add(s.cfg.SessionIdle), created.Add(s.cfg.SessionMax)
	if idle.After(abs) {
		return abs
	}
	return idle
}

// getSession reads the session of hash h; ok is false when there is none.
func (s *Service) getSession(ctx context.Context, h string) (sessionRecord, bool, error) {
	v, ok, err := s.kv.Get(ctx, sessionKey(h))
	if err != nil || !ok {
		return sessionRecord{}, false, err
	}
	var r sessionRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return sessionRecord{}, false, fmt.Errorf("decode session: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(r.Hash), []byte(h)) != 1 {
		return sessionRecord{}, false, nil
	}
	return r, true, nil
}

// SessionUser returns the user of the session token (without its hash),
// or ErrNoSession when the token is unknown or expired or its user is
// disabled or gone. Each use pushes the idle expiry, writing at most once a
// minute.
func (s *Service) SessionUser(ctx context.Context, token string) (User, error) {
	if !wellFormed(token, "") {
		return User{}, ErrNoSession
	}
	h := tokenHash(token)
	r, ok, err := s.getSession(ctx, h)
	if err != nil {
		return User{}, fmt.Errorf("session: %w", err)
	}
	if !ok {
		return User{}, ErrNoSession
	}
	now := s.now()
	if !now.Before(r.Expires) {
		s.dropSession(ctx, h)
		return User{}, ErrNoSession
	}
	u, found, err := s.getUser(ctx, r.User)
	if err != nil {
		return User{}, fmt.Errorf("session: %w", err)
	}
	if !found || u.Disabled {
		return User{}, ErrNoSession
	}
	if now.Sub(r.LastSeen) >= slideEvery {
		if err := s.slideSession(ctx, h, now); err != nil {
			// The session stays valid until its stored expiry; a failed
			// push only shortens it.
			s.log.Warn("session expiry not extended", "user", r.User, "err", err)
		}
	}
	return u.public(), nil
}

// slideSession stores the session's new last use and expiry, if it still
// exists: under the write lock, so it cannot bring back a session that a
// logout or a disable removed meanwhile.
func (s *Service) slideSession(ctx context.Context, h string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok, err := s.getSession(ctx, h)
	if err != nil || !ok || now.Sub(r.LastSeen) < slideEvery {
		return err
	}
	r.LastSeen, r.Expires = now, s.sessionExpiry(r.Created, now)
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	return s.kv.Set(ctx, sessionKey(h), v)
}

// dropSession removes an expired session found on the way; failing that,
// Run's purge will.
func (s *Service) dropSession(ctx context.Context, h string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.kv.Delete(ctx, sessionKey(h)); err != nil {
		s.log.Warn("expired session not removed", "err", err)
	}
}

// Logout ends the session of token; ErrNoSession when there is none.
// Audited "logout".
func (s *Service) Logout(ctx context.Context, token, remote string) error {
	if !wellFormed(token, "") {
		return ErrNoSession
	}
	h := tokenHash(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok, err := s.getSession(ctx, h)
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if !ok {
		return ErrNoSession
	}
	var b batch
	b.remove(sessionKey(h))
	if err := s.commitLocked(ctx, &b, Entry{Actor: r.User, Remote: remote, Action: "logout", Target: r.User}); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// endSessionsLocked adds to b the removal of every session of name, and of
// its API tokens too when tokens is set; it returns how many.
func (s *Service) endSessionsLocked(ctx context.Context, b *batch, name string, tokens bool) (int, error) {
	prefixes := []string{prefixSession}
	if tokens {
		prefixes = append(prefixes, prefixToken)
	}
	n := 0
	for _, p := range prefixes {
		err := s.kv.Scan(ctx, []byte(p), func(k, v []byte) error {
			var r struct {
				User string `json:"user"`
			}
			// One that cannot be read belongs to nobody: it cannot log
			// in (SessionUser and TokenUser fail on it) and the purge
			// removes it.
			if json.Unmarshal(v, &r) == nil && r.User == name {
				b.remove(append([]byte(nil), k...))
				n++
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("end sessions of %s: %w", name, err)
		}
	}
	return n, nil
}

// purgeSessions removes the expired sessions, and those that cannot be
// read; it returns how many.
func (s *Service) purgeSessions(ctx context.Context) (int, error) {
	now := s.now()
	var dead [][]byte
	err := s.kv.Scan(ctx, []byte(prefixSession), func(k, v []byte) error {
		var r sessionRecord
		if err := json.Unmarshal(v, &r); err != nil || !now.Before(r.Expires) {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("scan sessions: %w", err)
	}
	n := 0
	for len(dead) > 0 {
		chunk := dead[:min(len(dead), purgeBatch)]
		dead = dead[len(chunk):]
		s.mu.Lock()
		err := s.kv.Batch(ctx, nil, chunk)
		s.mu.Unlock()
		if err != nil {
			return n, fmt.Errorf("remove %d sessions: %w", len(chunk), err)
		}
		n += len(chunk)
	}
	return n, nil
}
