package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// ReserveFile is the ballast file the store keeps in its directory.
const ReserveFile = "switchtap.reserve"

// reserve is a ballast file of allocated blocks: deleting it gives the
// filesystem back room that no other writer took meanwhile, so badger can
// replay at Open and flush at Close on a disk that another writer filled.
type reserve struct {
	path   string
	target uint64
	size   uint64
}

func (r *reserve) held() uint64 { return r.size }

// acquire allocates the ballast (fallocate: real blocks, not a sparse
// file). On failure nothing is left behind.
func (r *reserve) acquire() error {
	if r.target == 0 || r.size == r.target {
		return nil
	}
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("create reserve: %w", err)
	}
	err = unix.Fallocate(int(f.Fd()), 0, 0, int64(r.target)) //nolint:gosec // G115: target is a configured size.
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(r.path)
		return fmt.Errorf("allocate reserve of %d bytes: %w", r.target, err)
	}
	r.size = r.target
	return nil
}

// release deletes the ballast, also one left by an earlier run, and
// reports how many bytes it held.
func (r *reserve) release() error {
	r.size = 0
	if err := os.Remove(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release reserve: %w", err)
	}
	return nil
}
