package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Free is statfs's space for an unprivileged writer, as the store and the
// recorder measure it.
func (statfsSpace) Free(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil //nolint:gosec // G115: block size is positive.
}
