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
	minFree    uint64
	reserve    uint64
	// stat reads the free space (a fake in unit tests).
	stat func(dir string) (space, error)
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

// WithMinFree sets the store's own disk floor (default DefaultMinFree):
// below it writes are refused with ErrDiskFull before badger gets them.
// It should stay above what badger writes unasked (see DefaultMinFree).
func WithMinFree(n uint64) Option {
	return func(c *config) { c.minFree = n }
}

// WithReserve sets the size of the ballast file kept in the store's
// directory (default DefaultReserve; 0: none).
func WithReserve(n uint64) Option {
	return func(c *config) { c.reserve = n }
}
