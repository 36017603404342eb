// Package tmpfs mounts small tmpfs filesystems for tests that need a disk
// they can fill (root only).
package tmpfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/switchtap/switchtap/internal/testenv"
)

// Mount mounts a tmpfs of size bytes in a directory under t.TempDir() and
// unmounts it (lazily) when the test ends. It skips the test, or fails it
// when skipping is forbidden, if not root or if the mount fails.
func Mount(t testing.TB, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.SkipOrFail(t, "mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "fs")
	// The mount point's own mode is hidden by the mounted root (tmpfs
	// default mode 1777).
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		testenv.SkipOrFail(t, "mount tmpfs: "+err.Error())
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
