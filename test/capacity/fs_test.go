package capacity_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// freshExt4 mounts a new journaled ext4 of size bytes (a sparse loop
// image beside it) on dir, as the board's card holds the daemon's data,
// and returns what unmounts it. Measured on a folder of the test's own
// file system instead, a step would also measure that file system: the
// CI machine's ext4 has no journal, and with none ext4 checks each free
// inode for a recent deletion when it makes a file (recently_deleted),
// so after a step's 1,000 recordings are deleted the next step's files
// cost the daemon seconds of kernel time. Where no loop device can be
// mounted the step uses the folder and says so.
func freshExt4(t *testing.T, dir string, size int64) func() {
	t.Helper()
	img := dir + ".img"
	fail := func(what string, err error, out []byte) func() {
		t.Logf("data on the test's file system, not a fresh ext4: %s: %v %s", what, err, out)
		_ = os.Remove(img)
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail("image", err, nil)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		return fail("mkfs.ext4", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, dir).CombinedOutput(); err != nil {
		return fail("mount", err, out)
	}
	return func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// The daemon of a failed step may still hold it: detach now,
			// freed when it exits.
			t.Logf("umount %s: %v %s; detaching", dir, err, out)
			if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
				t.Errorf("umount -l %s: %v %s", dir, err, out)
			}
		}
		if err := os.Remove(img); err != nil {
			t.Errorf("remove %s: %v", filepath.Base(img), err)
		}
	}
}

// dataSize is the file system a step's data needs: the capture's audio
// (its G.711 stereo is under its RTP) twice over, and room for the store.
func dataSize(captureBytes int64) int64 {
	return 2*captureBytes + 512<<20
}
