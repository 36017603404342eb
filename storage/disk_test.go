package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"

	"github.com/switchtap/switchtap/internal/tmpfs"
	"github.com/switchtap/switchtap/sip"
)

// fakeSpace is a filesystem whose free space the test sets.
type fakeSpace struct{ free atomic.Uint64 }

func (f *fakeSpace) stat(string) (space, error) { return space{free: f.free.Load()}, nil }

func withStat(f func(string) (space, error)) Option { return func(c *config) { c.stat = f } }

// allocated returns the bytes of blocks a file holds (0 when absent).
func allocated(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Sys().(*syscall.Stat_t).Blocks * 512
}

// TestGuardAdmit walks the floor by free space (issue 9, item 1): writes
// are refused below the floor, a reserve not held counts against the free
// space, it is taken back when space returns and released at once on a
// nearly full disk.
func TestGuardAdmit(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name        string
		free        uint64
		held        bool // reserve held before the check
		wantErr     bool
		wantHeld    bool
		wantRefused uint64
	}{
		{"above floor", 100 * mib, true, false, true, 0},
		{"at floor", 64 * mib, true, false, true, 0},
		{"below floor", 63 * mib, true, true, true, 1},
		{"reserve missing counts against free", 80 * mib, false, true, false, 1},
		{"space back takes the reserve", 96 * mib, false, false, true, 0},
		{"nearly full releases the reserve", 10 * mib, true, true, false, 1},
		{"empty disk", 0, false, true, false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fs := &fakeSpace{}
			fs.free.Store(tc.free)
			cfg, err := newConfig([]Option{WithMinFree(64 * mib), WithReserve(32 * mib), withStat(fs.stat), WithLogger(discard())})
			if err != nil {
				t.Fatal(err)
			}
			g := newGuard(dir, cfg, discard(), false)
			if tc.held {
				if err := g.res.acquire(); err != nil {
					t.Fatal(err)
				}
			}
			err = g.admit()
			if got := err != nil; got != tc.wantErr {
				t.Fatalf("admit() = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrDiskFull) {
				t.Errorf("admit() = %v, want ErrDiskFull", err)
			}
			st := g.status()
			if st.Full != tc.wantErr || st.Refused != tc.wantRefused || st.FreeBytes != tc.free {
				t.Errorf("status = %+v, want full %v refused %d free %d", st, tc.wantErr, tc.wantRefused, tc.free)
			}
			if got := st.ReserveBytes == 32*mib; got != tc.wantHeld {
				t.Errorf("reserve held %d, want held %v", st.ReserveBytes, tc.wantHeld)
			}
			onDisk := allocated(t, filepath.Join(dir, ReserveFile))
			if tc.wantHeld && onDisk < 32*mib || !tc.wantHeld && onDisk != 0 {
				t.Errorf("reserve file holds %d bytes, want held %v", onDisk, tc.wantHeld)
			}
		})
	}
}

// TestStoreRefusesBelowFloor: every write path (records, buckets, GC) is
// refused with ErrDiskFull below the floor, reads go on, and writes resume
// when space returns.
func TestStoreRefusesBelowFloor(t *testing.T) {
	fs := &fakeSpace{}
	fs.free.Store(1 << 40)
	dir := t.TempDir()
	s, err := Open(dir, WithLogger(discard()), withStat(fs.stat))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	before := fullCall("before", march)
	if err := s.PutCall(ctx, before); err != nil {
		t.Fatal(err)
	}
	fs.free.Store(DefaultMinFree - 1)
	after := fullCall("after", march.Add(time.Minute))
	writes := map[string]func() error{
		"PutCall":   func() error { return s.PutCall(ctx, after) },
		"PutCalls":  func() error { return s.PutCalls(ctx, []sip.Call{after, before}) },
		"KV Set":    func() error { return s.KV("access").Set(ctx, []byte("k"), []byte("v")) },
		"SetKeep":   func() error { return s.SetKeep(ctx, "before", "evaluated") },
		"PutDelete": func() error { return s.PutDeletions(ctx, []Deletion{{RecordID: "before", At: march}}) },
	}
	for name, w := range writes {
		t.Run(name, func(t *testing.T) {
			if err := w(); !errors.Is(err, ErrDiskFull) {
				t.Errorf("%s = %v, want ErrDiskFull", name, err)
			}
		})
	}
	if err := s.db.RunValueLogGC(0.5); !errors.Is(err, ErrDiskFull) || !errors.Is(err, badger.ErrNoRewrite) {
		t.Errorf("gc = %v, want ErrDiskFull and ErrNoRewrite", err)
	}
	if _, err := s.Call(ctx, "before"); err != nil {
		t.Errorf("read on a full disk: %v", err)
	}
	// The floor is above criticalFree: the reserve stays held.
	if d := s.Disk(false); !d.Full || d.Refused != uint64(len(writes)+1) || d.ReserveBytes != DefaultReserve {
		t.Errorf("Disk() = %+v, want full with %d refused, reserve held", d, len(writes)+1)
	}
	if _, err := s.Call(ctx, "after"); !errors.Is(err, ErrNotFound) {
		t.Errorf("refused record stored: %v", err)
	}
	fs.free.Store(1 << 40)
	if err := s.PutCall(ctx, after); err != nil {
		t.Fatalf("write after space returned: %v", err)
	}
	if d := s.Disk(true); d.Full {
		t.Errorf("Disk() = %+v after space returned", d)
	}
}

// TestPreallocate: badger's mapped files have no holes once Open returned
// and after every write, the reserve file is whole.
func TestPreallocate(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	for i := range 50 {
		if err := s.PutCall(context.Background(), fullCall(fmt.Sprint("p", i), march.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	holes, err := s.db.guard.pre.sparse()
	if err != nil || holes != 0 {
		t.Errorf("holes in badger's files: %d bytes (%v)", holes, err)
	}
	n := 0
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if mapped(e.Name()) {
			n++
		}
	}
	if n < 3 {
		t.Errorf("%d mapped files seen, want .mem, .vlog and DISCARD", n)
	}
	if got := allocated(t, filepath.Join(dir, ReserveFile)); got < DefaultReserve {
		t.Errorf("reserve holds %d bytes, want %d", got, DefaultReserve)
	}
}

// TestOpenReadOnly: the read path opens a store without writing to it, and
// a directory with no store is an error, not an empty store made.
func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if err := s.PutCall(context.Background(), fullCall("ro", march)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir, WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Call(context.Background(), "ro"); err != nil {
		t.Errorf("read: %v", err)
	}
	if err := ro.PutCall(context.Background(), fullCall("x", march)); err == nil {
		t.Errorf("write to a read-only store succeeded")
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "typo")
	if _, err := OpenReadOnly(missing); !errors.Is(err, ErrNoStore) {
		t.Errorf("OpenReadOnly(missing) = %v, want ErrNoStore", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReadOnly created %s", missing)
	}
}

// fill runs dd until the filesystem is full, as another writer on the
// disk would (the "dd filling the disk during a run"). A store
// writing meanwhile may give back its reserve (32 MiB) just as dd stops
// on ENOSPC: dd then appends again, as that other writer would go on,
// until no block is free.
func fill(t *testing.T, path string) {
	t.Helper()
	var st unix.Statfs_t
	for range 5 {
		out, err := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=1M", "oflag=append", "conv=notrunc").CombinedOutput()
		if err == nil {
			t.Fatalf("dd did not fill the disk: %s", out)
		}
		if err := unix.Statfs(filepath.Dir(path), &st); err != nil {
			t.Fatal(err)
		}
		if st.Bavail == 0 {
			return
		}
	}
	t.Fatalf("disk not full after dd five times: %d blocks free", st.Bavail)
}

// TestDiskFullTmpfs is the reproduction on a real filesystem: a
// writer stores records while dd fills the tmpfs. Before the fix the
// process died of SIGBUS in badger's writeEntry; now writes fail with
// ErrDiskFull, the records kept by the writer are stored once the dd file
// is deleted, and the store closes and reopens.
func TestDiskFullTmpfs(t *testing.T) {
	root := tmpfs.Mount(t, 160<<20)
	dir := filepath.Join(root, "store")
	s, err := Open(dir, WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var (
		mu      sync.Mutex
		pending []sip.Call // what the writer holds, like tap's queue
		stored  = map[string]bool{}
		refused atomic.Uint64
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	halt := sync.OnceFunc(func() { close(stop); <-done })
	// A failing check ends the test early: the writer stops before it
	// ends, so that it never reports to a finished test.
	t.Cleanup(halt)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			pending = append(pending, fullCall(fmt.Sprintf("tmpfs-%06d", i), march.Add(time.Duration(i)*time.Millisecond)))
			batch := append([]sip.Call(nil), pending...)
			mu.Unlock()
			err := s.PutCalls(ctx, batch)
			switch {
			case err == nil:
				mu.Lock()
				for _, c := range batch {
					stored[c.ID] = true
				}
				pending = pending[len(batch):]
				mu.Unlock()
			case errors.Is(err, ErrDiskFull):
				refused.Add(1)
				time.Sleep(time.Millisecond)
			default:
				t.Errorf("PutCalls: %v", err)
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	filler := filepath.Join(root, "dd.fill")
	fill(t, filler)
	deadline := time.Now().Add(10 * time.Second)
	for refused.Load() < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if refused.Load() < 10 {
		t.Fatalf("writes not refused on a full disk (%d)", refused.Load())
	}
	if d := s.Disk(false); !d.Full {
		t.Errorf("Disk() = %+v on a full disk", d)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for s.Disk(false).Full && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	halt()
	mu.Lock()
	if len(pending) > 0 {
		if err := s.PutCalls(ctx, pending); err != nil {
			t.Fatalf("final PutCalls: %v", err)
		}
		for _, c := range pending {
			stored[c.ID] = true
		}
	}
	mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	n := 0
	err = s.Calls(ctx, march, march.Add(time.Hour), func(c sip.Call) error {
		if !stored[c.ID] {
			return fmt.Errorf("unexpected record %s", c.ID)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(stored) || n == 0 {
		t.Errorf("%d records read back, %d stored", n, len(stored))
	}
	t.Logf("%d records stored, %d writes refused while full", n, refused.Load())
}

// Environment of the full-disk helper child process.
const (
	envFullDir   = "SWITCHTAP_STORAGE_FULL_DIR"
	envFullClean = "SWITCHTAP_STORAGE_FULL_CLEAN"
)

// TestFullHelper is the child of TestOpenOnFullDisk: it stores records and
// exits, without closing unless told to (leaving a memtable to replay, as a
// crash would).
func TestFullHelper(t *testing.T) {
	dir := os.Getenv(envFullDir)
	if dir == "" {
		t.Skip("full-disk helper: only run by TestOpenOnFullDisk")
	}
	s, err := Open(dir, WithLogger(discard()))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for i := range 200 {
		if err := s.PutCall(context.Background(), fullCall(fmt.Sprintf("full-%03d", i), march.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatalf("PutCall: %v", err)
		}
	}
	if os.Getenv(envFullClean) != "" {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	os.Exit(0)
}

// TestOpenOnFullDisk: a store on a disk another writer then filled to the
// last block. Before the fix Open died of SIGBUS replaying the memtable (a
// crash loop under systemd) and `switchtap calls` too. Now the read open
// reads every record whenever badger can be opened at all, no open ever
// faults (a refusal wraps ErrDiskFull), and once space returns everything
// is there and writable.
func TestOpenOnFullDisk(t *testing.T) {
	cases := []struct {
		name string
		// clean: the helper closed the store; eaten: the reserve was
		// gone before the disk filled.
		clean, eaten bool
		// readable: the read open on the full disk must succeed.
		readable bool
	}{
		{"crash, reserve held", false, false, true},
		{"clean close, reserve eaten", true, true, true},
		{"crash, reserve eaten", false, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := tmpfs.Mount(t, 192<<20)
			dir := filepath.Join(root, "store")
			cmd := exec.Command(os.Args[0], "-test.run=^TestFullHelper$")
			cmd.Env = append(os.Environ(), envFullDir+"="+dir)
			if tc.clean {
				cmd.Env = append(cmd.Env, envFullClean+"=1")
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "*.mem")); len(m) == 0 != tc.clean {
				t.Fatalf("memtables left: %v, want some %v", m, !tc.clean)
			}
			if tc.eaten {
				if err := os.Remove(filepath.Join(dir, ReserveFile)); err != nil {
					t.Fatal(err)
				}
			}
			filler := filepath.Join(root, "dd.fill")
			fill(t, filler)
			ctx := context.Background()
			count := func(s *Store) int {
				n := 0
				if err := s.Calls(ctx, march, march.Add(time.Hour), func(sip.Call) error { n++; return nil }); err != nil {
					t.Fatal(err)
				}
				return n
			}

			ro, err := OpenReadOnly(dir, WithLogger(discard()))
			switch {
			case err == nil:
				if n := count(ro); n != 200 {
					t.Errorf("read open: %d records, want 200", n)
				}
				if err := ro.Close(); err != nil {
					t.Fatal(err)
				}
			case tc.readable || !errors.Is(err, ErrDiskFull):
				t.Fatalf("read open on a full disk: %v", err)
			default:
				t.Logf("read open refused: %v", err)
			}

			s, err := Open(dir, WithLogger(discard()))
			switch {
			case errors.Is(err, ErrDiskFull):
				t.Logf("read-write open refused: %v", err)
			case err != nil:
				t.Fatalf("Open on a full disk = %v, want ErrDiskFull or a degraded store", err)
			default:
				if err := s.PutCall(ctx, fullCall("more", march)); !errors.Is(err, ErrDiskFull) {
					t.Errorf("write on a full disk = %v, want ErrDiskFull", err)
				}
				if n := count(s); n != 200 {
					t.Errorf("degraded open: %d records, want 200", n)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}

			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			s = openStore(t, dir)
			if n := count(s); n != 200 {
				t.Errorf("after space returned: %d records, want 200", n)
			}
			if err := s.PutCall(ctx, fullCall("more", march.Add(time.Hour-time.Second))); err != nil {
				t.Errorf("write after space returned: %v", err)
			}
		})
	}
}

// BenchmarkGuardedPut measures the guard's cost on the write path: one
// statfs before and one directory read after each write.
func BenchmarkGuardedPut(b *testing.B) {
	s := openStore(b, b.TempDir())
	c := fullCall("bench", march)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.PutCall(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuard is the guard alone: admit plus the preallocation scan.
func BenchmarkGuard(b *testing.B) {
	s := openStore(b, b.TempDir())
	g := s.db.guard
	b.ReportAllocs()
	for b.Loop() {
		if err := g.admit(); err != nil {
			b.Fatal(err)
		}
		g.written()
	}
}
