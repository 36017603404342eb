package storage

import (
	"log/slog"
	"time"
)

// Option configures Open.
type Option func(*config)

type config struct {
	log        *slog.Logger
	gcInterval time.Duration
}

// WithLogger sets the logger. badger's own messages go to it too: its errors
// and warnings at their level, its (chatty) info and debug lines at Debug.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithGCInterval sets how often Run collects the value log (default 5 min).
func WithGCInterval(d time.Duration) Option {
	return func(c *config) { c.gcInterval = d }
}
