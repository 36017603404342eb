// Package storage keeps call records in an embedded badger store sized for a
// 512 MB board, durably: a record whose PutCall returned survives a kill -9
// and a power cut.
//
// Layout of the keys:
//
//	call/<invite_at as big-endian uint64 UnixNano>/<id>  -> record (JSON of sip.Call)
//	callid/<id>                                         -> primary key above
//	msgs/<id>                                           -> the leg's SIP messages (messages.go)
//	cid/<call_id>/<invite_at ns>/<id>                   -> nothing: records by Call-ID
//	keep/<id>, deleted/<ns>/<id>                        -> recordings' bookkeeping
//	kv/<namespace>/<key>                                -> buckets of other packages (kv.go)
//
// The primary key sorts by capture time, so a month is one range scan; the
// index makes a record addressable by id and makes PutCall idempotent when the
// same id comes back with a different invite_at.
//
// invite_at must lie in [1970-01-01, 2262-04-11] UTC (the range of a uint64 of
// nanoseconds that fits time.UnixNano): it is the capture time of a packet we
// saw, so anything earlier is a broken clock or a zero time, and PutCall
// rejects it with ErrInviteAt instead of storing it at a wrong place in the
// order.
package storage

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// defaultGCInterval is how often Run collects the value log by default.
const defaultGCInterval = 5 * time.Minute

// Store is the call record store. Its methods are safe for concurrent use.
type Store struct {
	db  *badger.DB
	dir string
	log *slog.Logger

	gcInterval time.Duration

	// wmu serialises writers: conflict detection is off (it costs memory),
	// so two concurrent puts of one id could both miss the other's primary
	// key and leave two records. Every write is fsynced anyway, so this
	// costs little.
	wmu sync.Mutex

	// gcMu keeps Close from closing the DB under a running GC pass.
	gcMu   sync.Mutex
	closed bool

	written    atomic.Uint64
	gcRuns     atomic.Uint64
	gcRewrites atomic.Uint64
}

// Open opens (creating it with mode 0700 if needed) the store in dir.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg := config{
		log:        slog.New(slog.DiscardHandler),
		gcInterval: defaultGCInterval,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.gcInterval <= 0 {
		return nil, fmt.Errorf("%w: gc interval %v", ErrOption, cfg.gcInterval)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	log := cfg.log.With("component", "storage")
	db, err := badger.Open(badgerOptions(dir, log))
	if err != nil {
		return nil, fmt.Errorf("open badger in %s: %w", dir, err)
	}
	return &Store{db: db, dir: dir, log: log, gcInterval: cfg.gcInterval}, nil
}

// badgerOptions are badger's options measured for a 512 MB board
// (docs/libs.md, "badger"): the defaults peak near 400 MB RSS, these near
// 180 MB for 300 k records.
func badgerOptions(dir string, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		// A record must survive a power cut once PutCall has returned: a
		// process crash alone would be survived without it.
		WithSyncWrites(true).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithValueLogFileSize(16 << 20).
		WithValueThreshold(1 << 10).
		// Open panics if compression is on and BlockCacheSize is 0.
		WithCompression(options.Snappy).
		WithBlockCacheSize(4 << 20).
		WithIndexCacheSize(2 << 20).
		// NumCompactors=1 is rejected by badger.
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithLogger(badgerLogger{log: log})
}

// Close closes the store. It waits for a GC pass in progress; it is safe to
// call more than once.
func (s *Store) Close() error {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close badger: %w", err)
	}
	return nil
}
