package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

const (
	// gcDiscardRatio rewrites a value-log file when half of it is garbage,
	// badger's recommendation (write amplification 2 over a file's life).
	gcDiscardRatio = 0.5
	// gcMaxRewrites bounds one pass, so Close never waits long for it.
	gcMaxRewrites = 8
)

// Run collects the value log every GC interval until ctx is done, then
// returns nil. Cancel Run before calling Close.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(s.gcInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.gcPass(ctx); err != nil {
			return err
		}
	}
}

// gcPass rewrites value-log files until badger finds none worth it.
func (s *Store) gcPass(ctx context.Context) error {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	if s.closed {
		return fmt.Errorf("value log gc: %w", badger.ErrDBClosed)
	}
	s.gcRuns.Add(1)
	for range gcMaxRewrites {
		if ctx.Err() != nil {
			return nil
		}
		err := s.db.RunValueLogGC(gcDiscardRatio)
		switch {
		case err == nil:
			s.gcRewrites.Add(1)
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			// Nothing worth rewriting, or another GC is running.
		default:
			// A failed GC leaves the data intact: log it, try next time.
			s.log.Warn("value log gc failed", "err", err)
		}
		return nil
	}
	return nil
}
