package recorder

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// fakeSyncer stands for the disk: it can be slow, block until released,
// or fail for some files; it records what it made durable.
type fakeSyncer struct {
	delay time.Duration
	// gate, when set, holds every Sync until it is closed.
	gate chan struct{}
	// fail lists base names whose sync fails.
	fail map[string]bool

	mu     sync.Mutex
	groups [][]string
	synced map[string]bool
	// dirs lists the directories synced, with the files in place in each
	// at that moment (what a crash after it keeps under the final name).
	dirs []string
}

func (s *fakeSyncer) Sync(files []string) error {
	if s.gate != nil {
		<-s.gate
	}
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups = append(s.groups, append([]string(nil), files...))
	if s.synced == nil {
		s.synced = make(map[string]bool)
	}
	var errs []error
	for _, f := range files {
		if s.fail[filepath.Base(f)] {
			errs = append(errs, fmt.Errorf("sync %s: %w", f, errors.New("input/output error")))
			continue
		}
		s.synced[f] = true
	}
	return errors.Join(errs...)
}

func (s *fakeSyncer) SyncDir(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirs = append(s.dirs, dir)
	return nil
}

func (s *fakeSyncer) durable(part string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced[part]
}

func (s *fakeSyncer) rounds() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.groups)
}

// recordLeg answers leg i (record id "rec-<i>"), sends it a second of
// G.711 both ways and ends it; it returns the recording and how long End
// took on the caller's goroutine.
func recordLeg(t testing.TB, r *Recorder, i int) (*sip.Recording, time.Duration) {
	t.Helper()
	id := fmt.Sprintf("call-%d@192.0.2.10", i)
	// Ports repeat after 5,000 legs: only legs still open must differ.
	caller := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.10"), uint16(20000+2*(i%5000)))
	callee := netip.AddrPortFrom(netip.MustParseAddr("198.51.100.20"), uint16(20000+2*(i%5000)))
	r.Media(id, t0.Add(-time.Second), true, false, sdpBody(caller, "RTP/AVP", "0", ""))
	r.Media(id, t0, false, false, sdpBody(callee, "RTP/AVP", "0", ""))
	r.Answered(id, fmt.Sprintf("rec-%d", i), t0)
	a := &talker{src: caller, dst: callee, ssrc: 1}
	b := &talker{src: callee, dst: caller, ssrc: 2}
	for k := range 50 {
		at := t0.Add(time.Duration(k) * 20 * time.Millisecond)
		a.send(t, r, at, 0x11)
		b.send(t, r, at, 0x22)
	}
	start := time.Now()
	rec := r.End(id, t0.Add(time.Second))
	took := time.Since(start)
	if rec == nil || rec.File == "" {
		t.Fatalf("leg %d: recording %+v", i, rec)
	}
	return rec, took
}

// TestCommitDoesNotStall: with a disk that takes 200 ms a sync, ending a
// leg does not wait for it (the 20 ends take less than one sync, as with a
// disk that answers at once); the files are made durable in groups (fewer
// syncs than files), and only then counted and put in place.
func TestCommitDoesNotStall(t *testing.T) {
	const legs = 20
	const slow = 200 * time.Millisecond
	run := func(s *fakeSyncer) (*Recorder, string, []*sip.Recording, time.Duration, time.Duration) {
		dir := filepath.Join(t.TempDir(), "rec")
		r := newRecorder(t, Config{Dir: dir, Syncer: s})
		var worst, total time.Duration
		var recs []*sip.Recording
		for i := range legs {
			rec, took := recordLeg(t, r, i)
			worst, total = max(worst, took), total+took
			recs = append(recs, rec)
		}
		return r, dir, recs, worst, total
	}
	fast, _, _, fastWorst, fastTotal := run(&fakeSyncer{})
	if err := fast.Close(); err != nil {
		t.Fatal(err)
	}
	s := &fakeSyncer{delay: slow}
	r, dir, recs, worst, total := run(s)
	t.Logf("End per leg: worst %v, total %v for %d legs with a %v sync; worst %v, total %v with an instant one",
		worst, total, legs, slow, fastWorst, fastTotal)
	if total >= slow {
		t.Errorf("%d ends took %v: they waited for the disk", legs, total)
	}
	syncRec(t, r)
	if n := s.rounds(); n >= legs || n < 1 {
		t.Errorf("%d syncs for %d files, want fewer (grouped)", n, legs)
	}
	for _, rec := range recs {
		if _, err := os.Stat(filepath.Join(dir, rec.File)); err != nil {
			t.Errorf("not in place: %v", err)
		}
		if !s.durable(filepath.Join(dir, rec.File) + partSuffix) {
			t.Errorf("%s in place without a sync", rec.File)
		}
	}
	if st := r.Stats(); st.FilesWritten != legs || st.Commit.Waiting != 0 || st.Commit.Rounds != uint64(s.rounds()) {
		t.Errorf("stats %+v", st)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*", "*"+partSuffix)); len(m) != 0 {
		t.Errorf("left as .part: %v", m)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCommitPromise: until its sync returns, a file is not reported
// durable, not counted, and not under its final name (a crash then leaves
// a ".part" that Repair fixes and the provisional record names); the
// directory is synced after the rename, before it is reported.
func TestCommitPromise(t *testing.T) {
	s := &fakeSyncer{gate: make(chan struct{})}
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir, Syncer: s})
	rec, _ := recordLeg(t, r, 1)
	mark := r.Mark()
	done, changed := r.Durable()
	if mark == 0 || done >= mark {
		t.Fatalf("mark %d, durable %d before any sync", mark, done)
	}
	final := filepath.Join(dir, rec.File)
	if _, err := os.Stat(final); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("final name before the sync: %v", err)
	}
	writeOut(t, r)
	if _, err := os.Stat(final + partSuffix); err != nil {
		t.Fatalf("no .part: %v", err)
	}
	if st := r.Stats(); st.FilesWritten != 0 || st.Commit.Waiting != 1 {
		t.Fatalf("counted before durable: %+v", st)
	}
	close(s.gate)
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("never durable")
	}
	if done, _ := r.Durable(); done < mark {
		t.Fatalf("durable %d < mark %d", done, mark)
	}
	if _, err := os.Stat(final); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	dirs := s.dirs
	s.mu.Unlock()
	if len(dirs) != 1 || dirs[0] != filepath.Dir(final) {
		t.Errorf("directories synced %v, want [%s]", dirs, filepath.Dir(final))
	}
	if got := r.Settle(rec); got != rec {
		t.Errorf("settled %+v, want it unchanged", got)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCommitFailure: a file the disk could not sync is not promised: the
// record to store loses it (write error), so does a second End, and the
// others of the same group are kept.
func TestCommitFailure(t *testing.T) {
	s := &fakeSyncer{gate: make(chan struct{}), fail: map[string]bool{"rec-2.wav" + partSuffix: true}}
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir, Syncer: s})
	var recs []*sip.Recording
	for i := range 3 {
		rec, _ := recordLeg(t, r, i)
		recs = append(recs, rec)
	}
	close(s.gate)
	syncRec(t, r)
	for i, rec := range recs {
		got := r.Settle(rec)
		if i == 2 {
			if got.File != "" || got.DurationSeconds != 0 || got.NotRecordable != ReasonWriteError || rec.File == "" {
				t.Errorf("failed file settled as %+v (given %+v)", got, rec)
			}
			again := r.End(fmt.Sprintf("call-%d@192.0.2.10", i), t0.Add(time.Minute))
			if again.File != "" || again.NotRecordable != ReasonWriteError {
				t.Errorf("second End %+v", again)
			}
			continue
		}
		if got != rec {
			t.Errorf("leg %d settled as %+v", i, got)
		}
		if _, err := os.Stat(filepath.Join(dir, rec.File)); err != nil {
			t.Error(err)
		}
	}
	if st := r.Stats(); st.FilesWritten != 2 || st.WriteErrors != 1 {
		t.Errorf("stats %+v", st)
	}
	// Already reported (Settle, WriteErrors): Close has nothing left.
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestCommitFull: past CommitQueue files waiting for a disk that does not
// answer, a leg's file is refused at once (never waited for), counted and
// said in its record; the file stays as ".part" for Repair.
func TestCommitFull(t *testing.T) {
	s := &fakeSyncer{gate: make(chan struct{})}
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir, Syncer: s, CommitQueue: 2})
	recordLeg(t, r, 0)
	// The committer takes the first file into its (blocked) round.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.com.mu.Lock()
		queued := len(r.com.queue)
		r.com.mu.Unlock()
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the committer did not start its round")
		}
		time.Sleep(time.Millisecond)
	}
	recordLeg(t, r, 1)
	recordLeg(t, r, 2)
	id := "call-3@192.0.2.10"
	r.Media(id, t0.Add(-time.Second), true, false, sdpBody(netip.MustParseAddrPort("192.0.2.10:21000"), "RTP/AVP", "0", ""))
	r.Media(id, t0, false, false, sdpBody(netip.MustParseAddrPort("198.51.100.20:31000"), "RTP/AVP", "0", ""))
	r.Answered(id, "rec-3", t0)
	start := time.Now()
	rec := r.End(id, t0.Add(time.Second))
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("End took %v with the queue full", took)
	}
	if rec.File != "" || rec.NotRecordable != ReasonCommitFull {
		t.Errorf("recording %+v, want %q", rec, ReasonCommitFull)
	}
	if st := r.Stats(); st.Commit.Dropped != 1 {
		t.Errorf("dropped %d, want 1", st.Commit.Dropped)
	}
	writeOut(t, r)
	if _, err := os.Stat(filepath.Join(dir, "2026", "03", "04", "rec-3.wav"+partSuffix)); err != nil {
		t.Errorf("refused file not left for Repair: %v", err)
	}
	close(s.gate)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := os.Stat(filepath.Join(dir, "2026", "03", "04", fmt.Sprintf("rec-%d.wav", i))); err != nil {
			t.Errorf("leg %d: %v", i, err)
		}
	}
}

// TestSyncOnClose: replay's mode syncs once, at Close, every file.
func TestSyncOnClose(t *testing.T) {
	s := &fakeSyncer{}
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir, Syncer: s, SyncOnClose: true})
	var recs []*sip.Recording
	for i := range 10 {
		rec, _ := recordLeg(t, r, i)
		recs = append(recs, rec)
	}
	time.Sleep(20 * time.Millisecond)
	if n := s.rounds(); n != 0 {
		t.Fatalf("%d syncs before Close", n)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := s.rounds(); n != 1 || len(s.groups[0]) != 10 {
		t.Fatalf("syncs %v, want one of 10 files", s.groups)
	}
	for _, rec := range recs {
		if _, err := os.Stat(filepath.Join(dir, rec.File)); err != nil {
			t.Error(err)
		}
	}
}

// TestCloseTimeout: a disk that never answers does not hang Close.
func TestCloseTimeout(t *testing.T) {
	s := &fakeSyncer{gate: make(chan struct{})}
	defer close(s.gate)
	r := newRecorder(t, Config{Syncer: s, CloseTimeout: 100 * time.Millisecond})
	recordLeg(t, r, 0)
	start := time.Now()
	err := r.Close()
	if err == nil {
		t.Fatal("Close reported the files durable")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	if err := r.Sync(canceled()); err == nil {
		t.Error("Sync says durable")
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestDiskSyncer: the real disk's syncer syncs a group and a directory.
func TestDiskSyncer(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	var s diskSyncer
	if err := s.Sync(files); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(files[:1]); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync([]string{filepath.Join(dir, "missing"), files[0]}); err == nil {
		t.Error("a missing file synced")
	}
}

// BenchmarkEndLeg measures a leg of one second recorded and ended on the
// pipeline's side (the files are committed apart, on the real disk), and
// the committer's rounds per leg.
func BenchmarkEndLeg(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"committer", Config{}}, {"sync-on-close", Config{SyncOnClose: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := tc.cfg
			cfg.Dir = filepath.Join(b.TempDir(), "rec")
			r, err := New(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				recordLeg(b, r, i)
				i++
			}
			b.StopTimer()
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			st := r.Stats()
			if st.FilesWritten != uint64(i) {
				b.Fatalf("%d files written, want %d", st.FilesWritten, i)
			}
			b.ReportMetric(float64(st.Commit.Rounds)/float64(i), "rounds/leg")
		})
	}
}
