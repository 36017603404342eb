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
//	outbox/<seq>, rev/<id>, uplink/{next,cursor,pruned} -> the uplink's outbox (outbox.go)
//	agg/…                                               -> legs stored as aggregates (aggregates.go)
//	open/<id>                                           -> calls in progress, for crash recovery (crash.go)
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
	"path/filepath"
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
	// db admits every write through the disk guard (disk.go).
	db  guardedDB
	dir string
	log *slog.Logger
	// codec packs records, ladders and calls in progress (codec.go).
	codec *valueCodec

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
//
// A full disk gives an error wrapping ErrDiskFull, never a fault: the
// reserve left by the last run is released first, the holes of badger's
// mapped files are filled (on tmpfs a read of one faults), and badger is
// opened only if the memtables it replays can be flushed. Once open, the
// store refuses writes below its floor (WithMinFree) until space returns.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	log := cfg.log.With("component", "storage")
	g := newGuard(dir, cfg, log, false)
	if err := g.res.release(); err != nil {
		return nil, err
	}
	if err := g.pre.run(); err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	if err := checkOpenRoom(dir, cfg.stat); err != nil {
		return nil, err
	}
	codec, err := newValueCodec()
	if err != nil {
		return nil, err
	}
	db, err := badger.Open(badgerOptions(dir, log))
	if err != nil {
		codec.close()
		return nil, fmt.Errorf("open badger in %s: %w", dir, err)
	}
	// The memtable and value log badger has just created are sparse.
	g.written()
	s := &Store{db: guardedDB{DB: db, guard: g}, dir: dir, log: log, codec: codec, gcInterval: cfg.gcInterval}
	if err := g.check(false); err != nil {
		// A degraded start: reads work, writes wait for space.
		log.Warn("store opened on a low disk", "err", err)
	}
	return s, nil
}

// OpenReadOnly opens the store in dir for reading (`switchtap calls` and
// the other read commands), also on a full disk. It fails with ErrNoStore
// when dir holds no store (a mistyped --data-dir is not a new store).
//
// badger v4 opens read-only only a store closed cleanly: a memtable log
// left by a crash needs a truncation that read-only mode refuses
// (ErrTruncateNeeded). Such a store is opened read-write instead, as Open
// does (it replays the log into a table, with the reserve's room), and
// stays read-only in use only by convention; on a disk too full even for
// that the error wraps ErrDiskFull. On tmpfs, where reading a hole of a
// mapped file faults, holes are filled first or the open refused.
func OpenReadOnly(dir string, opts ...Option) (*Store, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		return nil, fmt.Errorf("%w in %s: %w", ErrNoStore, dir, err)
	}
	log := cfg.log.With("component", "storage")
	g := newGuard(dir, cfg, log, true)
	if sp, err := cfg.stat(dir); err == nil && sp.tmpfs {
		if holes, _ := g.pre.sparse(); holes > 0 {
			if err := g.pre.run(); err != nil {
				return nil, fmt.Errorf("open store in %s read-only: %d bytes of badger's files unallocated: %w", dir, holes, err)
			}
		}
	}
	if mems, _ := filepath.Glob(filepath.Join(dir, "*.mem")); len(mems) > 0 {
		// A clean Close leaves no memtable log. badger's error for this
		// case is not wrapped (y.Wrap formats it), so it is not waited for.
		log.Warn("store left open by a crash: opening it read-write to replay its memtable", "dir", dir)
		return Open(dir, opts...)
	}
	codec, err := newValueCodec()
	if err != nil {
		return nil, err
	}
	db, err := badger.Open(badgerOptions(dir, log).WithReadOnly(true))
	if err != nil {
		codec.close()
		return nil, fmt.Errorf("open badger in %s read-only: %w", dir, err)
	}
	return &Store{db: guardedDB{DB: db, guard: g}, dir: dir, log: log, codec: codec, gcInterval: cfg.gcInterval}, nil
}

func newConfig(opts []Option) (config, error) {
	cfg := config{
		log:        slog.New(slog.DiscardHandler),
		gcInterval: defaultGCInterval,
		minFree:    DefaultMinFree,
		reserve:    DefaultReserve,
		stat:       statSpace,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.gcInterval <= 0 {
		return cfg, fmt.Errorf("%w: gc interval %v", ErrOption, cfg.gcInterval)
	}
	return cfg, nil
}

func newGuard(dir string, cfg config, log *slog.Logger, readOnly bool) *diskGuard {
	return &diskGuard{
		dir: dir, minFree: cfg.minFree, readOnly: readOnly, stat: cfg.stat, log: log,
		res: &reserve{path: filepath.Join(dir, ReserveFile), target: cfg.reserve},
		pre: &preallocator{dir: dir},
	}
}

// openRoom is what badger.Open writes besides the memtables it replays:
// manifest and key registry rewrites, headers of the new files.
const openRoom = 1 << 20

// checkOpenRoom refuses to open badger when the memtables left by the last
// run could not be flushed: each becomes an L0 table of at most its
// memtable's size, written through a mapping (a SIGBUS with no space).
func checkOpenRoom(dir string, stat func(string) (space, error)) error {
	sp, err := stat(dir)
	if err != nil {
		return nil //nolint:nilerr // unknown free space: let badger try
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read store dir: %w", err)
	}
	need := uint64(openRoom)
	for _, e := range ents {
		if filepath.Ext(e.Name()) == ".mem" {
			need += memTableSize
		}
	}
	if sp.free < need {
		return fmt.Errorf("open store in %s: %w: %d bytes free, %d needed to open it (replaying its memtables); free space on the disk (the store's own floor is %d)",
			dir, ErrDiskFull, sp.free, need, uint64(DefaultMinFree))
	}
	return nil
}

// memTableSize is badger's memtable size (badgerOptions). Each memtable is
// an arena of about 1.3× this on the Go heap, and its flush builds an L0
// table of that size in memory too. Measured with BenchmarkBoardMemory
// (answered calls with their ladders, ~1 KB record + 5.5 KB messages, at
// 1,000 ending a minute sped up 20×, 20,000 records): 8 MiB left 39.5 MiB
// of live Go heap and 57 MiB RssAnon, 4 MiB 18.3 MiB and 22.5–25.4 MiB;
// PutCalls with messages (49–59 vs 51–56 µs a record) and the month scan
// of BenchmarkCallsMonthScan (122–139 vs 124–136 ms) did not change, and
// durability does not depend on it (every write is synced to the
// memtable's log). Written as fast as badger takes them (a replay, a
// backlog) smaller memtables keep more flushes and compactions in flight:
// TestMemory50k's peak RSS was 152–154 MiB against 129–147 for 8 MiB
// (88–102 against 91–98 under GOMEMLIMIT=64MiB), and 2 MiB, which halved
// the live heap again at the calls' rate, reached 150–158 MiB RssAnon in
// BenchmarkBoardMemory at full speed against 118–151 for 8 MiB; the
// board's steady state is the calls' rate, so 4 MiB.
const memTableSize = 4 << 20

// valueThreshold is the largest value badger keeps in the LSM tree; larger
// ones go to the value log, whose pages, written through a mapping, stay
// resident. Packed (codec.go), a record and its ladder fit under it.
const valueThreshold = 1 << 10

// badgerOptions are badger's options measured for a 512 MB board
// (docs/libs.md, "badger"): the defaults peak near 400 MB RSS, these near
// 180 MB for 300 k records (with 8 MiB memtables; see memTableSize for
// the 4 MiB now used).
func badgerOptions(dir string, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		// A record must survive a power cut once PutCall has returned: a
		// process crash alone would be survived without it.
		WithSyncWrites(true).
		WithMemTableSize(memTableSize).
		WithNumMemtables(2).
		WithValueLogFileSize(16 << 20).
		WithValueThreshold(valueThreshold).
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
	if g := s.db.guard; !g.readOnly && g.status().Full {
		// badger flushes its memtable at Close: give it the reserve's room.
		g.release("close on a low disk")
	}
	err := s.db.Close()
	s.codec.close()
	if err != nil {
		return fmt.Errorf("close badger: %w", err)
	}
	return nil
}
