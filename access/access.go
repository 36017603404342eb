// Package access keeps switchtap's accounts, their roles, login sessions,
// API tokens and the hash-chained audit log, over a small key/value store
// (KV, which *storage.Bucket satisfies). It holds no HTTP: package web asks
// it who a request is and writes to the audit through it.
//
// Passwords are stored as argon2id PHC strings, sessions and tokens by the
// SHA-256 of their value only: nothing in the store lets a reader log in.
// Which role may do what is decided by the caller; this package records who
// did it.
//
// Every write of the service (accounts, sessions, tokens, audit entries) is
// serialised by one mutex, and a change to an account is written in the
// same transaction as its audit entry: there is no change without its
// entry, and no entry without its change.
package access

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultSessionIdle = 12 * time.Hour
	DefaultSessionMax  = 7 * 24 * time.Hour
	DefaultMaxFailures = 5
	DefaultLockFor     = 15 * time.Minute
	DefaultMinPassword = 10
)

// purgeInterval is how often Run removes expired sessions.
const purgeInterval = time.Hour

// Config tunes the service; every zero field takes its default.
type Config struct {
	// Now is the clock (time.Now).
	Now func() time.Time
	// Rand is the source of salts, tokens and passwords (crypto/rand).
	Rand io.Reader
	// Sleep waits after a failed login (time.Sleep).
	Sleep func(time.Duration)
	// SessionIdle ends a session not used for this long (12 h); each use
	// pushes the end further, up to SessionMax.
	SessionIdle time.Duration
	// SessionMax ends a session this long after its login, used or not
	// (7 days).
	SessionMax time.Duration
	// MaxFailures consecutive failed logins lock the account (5).
	MaxFailures int
	// LockFor is how long a locked account stays locked (15 min).
	LockFor time.Duration
	// Argon are the parameters of new password hashes (DefaultArgon).
	Argon ArgonParams
	// MinPassword is the least number of characters of a password (10).
	MinPassword int
}

// withDefaults fills the zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Sleep == nil {
		c.Sleep = time.Sleep
	}
	if c.SessionIdle == 0 {
		c.SessionIdle = DefaultSessionIdle
	}
	if c.SessionMax == 0 {
		c.SessionMax = DefaultSessionMax
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	if c.LockFor == 0 {
		c.LockFor = DefaultLockFor
	}
	if c.Argon == (ArgonParams{}) {
		c.Argon = DefaultArgon()
	}
	if c.MinPassword == 0 {
		c.MinPassword = DefaultMinPassword
	}
	switch {
	case c.SessionIdle < 0 || c.SessionMax < 0 || c.LockFor < 0:
		return c, fmt.Errorf("%w: negative duration", ErrConfig)
	case c.SessionIdle > c.SessionMax:
		return c, fmt.Errorf("%w: session idle %v > max %v", ErrConfig, c.SessionIdle, c.SessionMax)
	case c.MaxFailures < 0:
		return c, fmt.Errorf("%w: max failures %d", ErrConfig, c.MaxFailures)
	case c.MinPassword < 0:
		return c, fmt.Errorf("%w: min password %d", ErrConfig, c.MinPassword)
	}
	if err := c.Argon.check(); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// Service is accounts, sessions, tokens and the audit log. Its methods are
// safe for concurrent use.
type Service struct {
	kv  KV
	cfg Config
	log *slog.Logger

	// mu serialises every write, and guards head.
	mu   sync.Mutex
	head chainHead

	// hashers bounds the argon2 runs in flight (maxHashers).
	hashers chan struct{}
	// hashes counts argon2 runs; tests read it to see that an unknown name
	// costs one, as a known one does.
	hashes atomic.Uint64

	// dummy is checked against for unknown names (dummyHash).
	dummy string

	ghosts ghosts

	purgeEvery time.Duration
}

// New returns the service over kv; it reads the audit chain's head, and
// fails only when kv does. A chain found inconsistent (its head or last
// entry removed) is logged and appended to after its highest seq, never
// over it; Verify tells what is wrong.
func New(kv KV, cfg Config, log *slog.Logger) (*Service, error) {
	if kv == nil {
		return nil, fmt.Errorf("%w: no store", ErrConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		kv:         kv,
		cfg:        cfg,
		log:        log.With("component", "access"),
		hashers:    make(chan struct{}, maxHashers),
		ghosts:     ghosts{m: make(map[string]*ghost)},
		purgeEvery: purgeInterval,
	}
	if s.dummy, err = dummyHash(cfg.Rand, cfg.Argon); err != nil {
		return nil, err
	}
	if err := s.loadHead(context.Background()); err != nil {
		return nil, fmt.Errorf("load audit head: %w", err)
	}
	return s, nil
}

// Run removes expired sessions (and forgets stale failed logins of unknown
// names) now and then hourly, until ctx is done; it returns nil then. A
// failed pass is logged and retried at the next tick.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.purgeEvery)
	defer t.Stop()
	for {
		if n, err := s.purgeSessions(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("purge sessions failed", "err", err)
		} else if n > 0 {
			s.log.Debug("sessions purged", "n", n)
		}
		s.ghosts.prune(s.now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// now is the configured clock in UTC, without its monotonic reading.
func (s *Service) now() time.Time { return s.cfg.Now().UTC() }
