//go:build !linux

package recorder

import (
	"errors"
	"fmt"
	"os"
)

// diskSyncer is the Syncer of the real disk: without syncfs(2), one fsync
// per file.
type diskSyncer struct{}

func (diskSyncer) Sync(files []string) error {
	var errs []error
	for _, p := range files {
		if err := fsyncPath(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (diskSyncer) SyncDir(dir string) error { return fsyncPath(dir) }

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
