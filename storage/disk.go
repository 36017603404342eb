package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"
)

// Defaults of the store's own disk floor (issue 9, item 1).
const (
	// DefaultMinFree is the free space below which the store refuses
	// writes before badger sees them. It covers what badger may still
	// write unasked once a write is in: a memtable flushed to an L0 table
	// (MemTableSize, 4 MiB), the compaction it triggers (a few tables),
	// the new memtable (2×MemTableSize) and value log (2×ValueLogFileSize)
	// it preallocates, with room to spare.
	DefaultMinFree = 64 << 20
	// DefaultReserve is the size of the ballast file kept in the data
	// directory and released when the disk is nearly full, at Close on a
	// full disk and at Open, so that badger can replay, flush and close
	// cleanly: more than one memtable flush plus a new memtable.
	DefaultReserve = 32 << 20
	// criticalFree is the free space below which the reserve is released
	// at once: badger's flush of a full memtable needs about this much.
	criticalFree = 16 << 20
)

// DiskStatus is the store's view of its disk.
type DiskStatus struct {
	// Full says writes are refused (ErrDiskFull): the free space, less a
	// reserve not yet taken back, is below MinFreeBytes.
	Full bool
	// FreeBytes is the free space at the last check (every write checks).
	FreeBytes uint64
	// MinFreeBytes is the store's floor; ReserveBytes the ballast held now
	// (0 when released), out of ReserveTarget.
	MinFreeBytes  uint64
	ReserveBytes  uint64
	ReserveTarget uint64
	// Refused counts writes refused for lack of space since Open.
	Refused uint64
}

// space is what statfs says of a filesystem.
type space struct {
	// free is the space an unprivileged writer may still use.
	free uint64
	// tmpfs says a read of a hole in a shared mapping allocates a page, so
	// even reading a sparse badger file faults with SIGBUS on a full disk.
	tmpfs bool
}

// statSpace reads the filesystem holding dir.
func statSpace(dir string) (space, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return space{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return space{
		free:  st.Bavail * uint64(st.Bsize), //nolint:gosec // G115: block size is positive.
		tmpfs: st.Type == unix.TMPFS_MAGIC,
	}, nil
}

// diskGuard keeps badger from ever writing past the free space. badger
// writes its memtable log and value log through shared mappings of sparse
// files: a store into a page whose block cannot be allocated raises
// SIGBUS, a fatal runtime fault in badger's goroutines that no recover
// catches. So every write is admitted first (statfs: one syscall, cheap
// beside the fsync each write costs), and is refused below the floor;
// after a write the files badger created are preallocated, so that what
// it writes into them later never needs a new block.
type diskGuard struct {
	dir      string
	minFree  uint64
	readOnly bool
	stat     func(dir string) (space, error)
	log      *slog.Logger
	res      *reserve
	pre      *preallocator

	mu      sync.Mutex
	full    bool
	free    uint64
	refused atomic.Uint64
}

// admit says whether a write may go to badger now. The free space counted
// is what statfs reports less the reserve when it is not held: the reserve
// is taken back before writes resume.
func (g *diskGuard) admit() error { return g.check(true) }

// check is admit; count says a refusal is a refused write.
func (g *diskGuard) check(count bool) error {
	if g.readOnly {
		return nil // badger refuses the write itself (ErrReadOnlyTxn)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	sp, err := g.stat(g.dir)
	if err != nil {
		// Unknown free space must not stop the store: badger's own
		// error, if any, comes back from the write.
		g.log.Warn("free space unknown", "dir", g.dir, "err", err)
		return nil
	}
	g.free = sp.free
	if sp.free < criticalFree && g.res.held() > 0 {
		g.releaseLocked("disk nearly full")
	}
	effective := sp.free
	missing := g.res.target - g.res.held()
	effective = sub(effective, missing)
	if effective < g.minFree {
		if count {
			g.refused.Add(1)
		}
		g.setFullLocked(true, sp.free)
		return fmt.Errorf("%w: %d bytes free in %s, store floor %d (+%d reserve to take back)",
			ErrDiskFull, sp.free, g.dir, g.minFree, missing)
	}
	if missing > 0 {
		if err := g.res.acquire(); err != nil {
			if count {
				g.refused.Add(1)
			}
			g.setFullLocked(true, sp.free)
			return fmt.Errorf("%w: take back the reserve: %w", ErrDiskFull, err)
		}
		level := slog.LevelDebug // the first time, at Open
		if g.full {
			level = slog.LevelInfo
		}
		g.log.Log(context.Background(), level, "disk reserve taken back", "bytes", g.res.held())
	}
	g.setFullLocked(false, sp.free)
	return nil
}

// written preallocates what the last write made badger create.
func (g *diskGuard) written() {
	if g.readOnly {
		return
	}
	if err := g.pre.run(); err != nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		// A file left sparse is a fault waiting for a full disk: stop
		// writing until space is back and the file is whole.
		g.setFullLocked(true, g.free)
		g.log.Error("store file not preallocated", "err", err)
	}
}

func (g *diskGuard) setFullLocked(full bool, free uint64) {
	if full == g.full {
		return
	}
	g.full = full
	if full {
		g.log.Error("store disk floor reached: writes refused, records wait in memory",
			"dir", g.dir, "free_bytes", free, "min_free_bytes", g.minFree, "reserve_bytes", g.res.held())
		return
	}
	g.log.Info("store disk floor left: writes resume", "dir", g.dir, "free_bytes", free)
}

// release gives the reserve back to the filesystem.
func (g *diskGuard) release(why string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseLocked(why)
}

func (g *diskGuard) releaseLocked(why string) {
	n := g.res.held()
	if n == 0 {
		return
	}
	if err := g.res.release(); err != nil {
		g.log.Error("disk reserve not released", "err", err)
		return
	}
	g.log.Warn("disk reserve released", "reason", why, "bytes", n)
}

func (g *diskGuard) status() DiskStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	return DiskStatus{
		Full:          g.full,
		FreeBytes:     g.free,
		MinFreeBytes:  g.minFree,
		ReserveBytes:  g.res.held(),
		ReserveTarget: g.res.target,
		Refused:       g.refused.Load(),
	}
}

// sub is a-b, 0 when b > a.
func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// Disk returns the store's view of its disk. With check it reads the free
// space first (and takes the reserve back, lifting the refusal, when space
// has returned), as a write would.
func (s *Store) Disk(check bool) DiskStatus {
	if check {
		_ = s.db.guard.check(false)
	}
	return s.db.guard.status()
}

// guardedDB is the badger handle every method of Store uses: Update, the
// only write path of the store (calls, messages, buckets, recordings'
// bookkeeping), and value-log GC, which rewrites files, are admitted by
// the guard first; everything else is badger's.
type guardedDB struct {
	*badger.DB
	guard *diskGuard
}

// Update runs fn in a read-write transaction once the guard admits it.
func (g guardedDB) Update(fn func(txn *badger.Txn) error) error {
	if err := g.guard.admit(); err != nil {
		return err
	}
	err := g.DB.Update(fn)
	g.guard.written()
	return err
}

// RunValueLogGC rewrites a value-log file unless the disk is low: the
// rewrite is written before the old file is removed. Refused, it reports
// badger.ErrNoRewrite (nothing done) as well as ErrDiskFull.
func (g guardedDB) RunValueLogGC(discardRatio float64) error {
	if err := g.guard.admit(); err != nil {
		return fmt.Errorf("%w: %w", badger.ErrNoRewrite, err)
	}
	err := g.DB.RunValueLogGC(discardRatio)
	g.guard.written()
	return err
}

// isNoSpace reports whether err is the filesystem saying it is full.
func isNoSpace(err error) bool {
	return errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT)
}
