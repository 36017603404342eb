package tap_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// slowDisk is the recorder's disk in these tests: every sync takes delay
// (or blocks until gate is closed), the failNth distinct file never syncs,
// and what was synced is remembered.
type slowDisk struct {
	delay   time.Duration
	gate    chan struct{}
	failNth int

	mu     sync.Mutex
	seen   map[string]int
	synced map[string]bool
	syncs  int
	dirs   int
}

func (s *slowDisk) Sync(files []string) error {
	if s.gate != nil {
		<-s.gate
	}
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen, s.synced = make(map[string]int), make(map[string]bool)
	}
	s.syncs++
	var errs []error
	for _, f := range files {
		if _, ok := s.seen[f]; !ok {
			s.seen[f] = len(s.seen) + 1
		}
		if s.seen[f] == s.failNth {
			errs = append(errs, fmt.Errorf("sync %s: input/output error", f))
			continue
		}
		s.synced[f] = true
	}
	return errors.Join(errs...)
}

func (s *slowDisk) SyncDir(string) error {
	s.mu.Lock()
	s.dirs++
	s.mu.Unlock()
	return nil
}

func (s *slowDisk) durable(part string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced[part]
}

// memLive serves frames from memory as fast as the daemon takes them and
// measures the capture loop: the time it spends on each frame (from one
// ReadFrame's return to the next call), the worst of them, and the time to
// go through them all.
type memLive struct {
	frames   []capture.Frame
	i        int
	done     chan struct{}
	once     sync.Once
	consumed chan struct{}

	last, first time.Time
	worst       time.Duration
	total       time.Duration
}

func newMemLive(frames []capture.Frame) *memLive {
	return &memLive{frames: frames, done: make(chan struct{}), consumed: make(chan struct{})}
}

func (m *memLive) ReadFrame() (capture.Frame, error) {
	now := time.Now()
	if !m.last.IsZero() {
		m.worst = max(m.worst, now.Sub(m.last))
	} else {
		m.first = now
	}
	if m.i < len(m.frames) {
		f := m.frames[m.i]
		m.i++
		m.last = time.Now()
		return f, nil
	}
	if m.i == len(m.frames) {
		m.i++
		m.total = now.Sub(m.first)
		close(m.consumed)
	}
	<-m.done
	return capture.Frame{}, io.EOF
}

func (m *memLive) Close() error {
	m.once.Do(func() { close(m.done) })
	return nil
}

func (m *memLive) Stats() (capture.LiveStats, error) { return capture.LiveStats{}, nil }

// durableStore is a ProgressWriter that checks the promise as each record
// is written: a final record that names a recording is stored only once
// the file is synced and in place. It keeps every final write in order.
type durableStore struct {
	disk *slowDisk
	dir  string

	mu         sync.Mutex
	finals     []sip.Call
	violations []string
}

func (s *durableStore) PutCalls(ctx context.Context, cs []sip.Call) error {
	return s.PutProgress(ctx, nil, cs)
}

func (s *durableStore) PutProgress(_ context.Context, _, done []sip.Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range done {
		if c.Recording != nil && c.Recording.File != "" {
			final := filepath.Join(s.dir, c.Recording.File)
			if !s.disk.durable(final + ".part") {
				s.violations = append(s.violations, c.ID+": stored before its recording was synced")
			}
			if _, err := os.Stat(final); err != nil {
				s.violations = append(s.violations, c.ID+": stored before its recording was in place: "+err.Error())
			}
		}
		c.Messages = slices.Clone(c.Messages)
		s.finals = append(s.finals, c)
	}
	return nil
}

// loadFrames writes n load calls and returns their frames.
func loadFrames(t testing.TB, n int) ([]capture.Frame, []pcapgen.Expect) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "load.pcap")
	var want []pcapgen.Expect
	if err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) (err error) {
		want, _, err = pcapgen.Load(w, n, time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return readFrames(t, path), want
}

// runDurable runs a daemon with a recorder on disk over frames and stops
// it as soon as they are consumed: the shutdown has to wait for the
// recordings still being committed.
func runDurable(t *testing.T, frames []capture.Frame, disk *slowDisk, cfg tap.DaemonConfig) (*memLive, *durableStore, *recorder.Recorder, error) {
	t.Helper()
	recDir := filepath.Join(t.TempDir(), "rec")
	rec, err := recorder.New(recorder.Config{Dir: recDir, Syncer: disk, CloseTimeout: 2 * time.Second}, discard())
	if err != nil {
		t.Fatal(err)
	}
	st := &durableStore{disk: disk, dir: recDir}
	src := newMemLive(frames)
	cfg.Tracker = sip.DefaultTrackerConfig()
	cfg.Provisional = true
	cfg.Pipeline = append([]tap.PipelineOption{tap.WithRecorder(rec)}, cfg.Pipeline...)
	d := tap.NewDaemon(cfg, src, st, discard())
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	select {
	case <-src.consumed:
	case <-time.After(60 * time.Second):
		t.Fatal("capture did not go through the frames")
	}
	cancel()
	var rerr error
	select {
	case rerr = <-runErr:
	case <-time.After(30 * time.Second):
		t.Fatal("shutdown hung")
	}
	if q := d.Queue(); rerr == nil && (q.Queued != 0 || q.Dropped != 0) {
		t.Errorf("queue after shutdown %+v", q)
	}
	return src, st, rec, rerr
}

// TestDaemonDurableRecordings: with a slow disk, every record is stored
// only after the recording it names is durable and in place, in the order
// emitted (the versions of a call never go back), and shutdown waits for
// the last recordings before it stores their records.
func TestDaemonDurableRecordings(t *testing.T) {
	const calls = 100
	frames, want := loadFrames(t, calls)
	for _, m := range recorderModes {
		t.Run(m.name, func(t *testing.T) { checkDurableRecordings(t, frames, want, m.opts) })
	}
}

// recorderModes are the recorder's two places: inline on the pipeline's
// goroutine, and on a goroutine of its own.
var recorderModes = []struct {
	name string
	opts []tap.PipelineOption
}{
	{"inline", nil},
	{"goroutine", []tap.PipelineOption{tap.WithRecorderGoroutine()}},
}

func checkDurableRecordings(t *testing.T, frames []capture.Frame, want []pcapgen.Expect, opts []tap.PipelineOption) {
	calls := uint64(len(want))
	disk := &slowDisk{delay: 20 * time.Millisecond}
	_, st, rec, err := runDurable(t, frames, disk, tap.DaemonConfig{Pipeline: opts})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, v := range st.violations {
		t.Error(v)
	}
	last := map[string]sip.Call{}
	for _, c := range st.finals {
		if prev, ok := last[c.ID]; ok && len(c.Messages) < len(prev.Messages) {
			t.Errorf("%s: a version with %d messages stored after one with %d", c.CallID, len(c.Messages), len(prev.Messages))
		}
		last[c.ID] = c
	}
	if len(last) != len(want) {
		t.Fatalf("%d calls stored, want %d", len(last), len(want))
	}
	for _, c := range last {
		if c.Recording == nil || c.Recording.File == "" {
			t.Errorf("%s stored without its recording: %+v", c.CallID, c.Recording)
		}
	}
	rs := rec.Stats()
	if rs.FilesWritten != calls || rs.Commit.Dropped != 0 || rs.Commit.Rounds >= calls {
		t.Errorf("recorder %+v: want %d files in fewer rounds", rs, calls)
	}
	disk.mu.Lock()
	t.Logf("%d recordings made durable in %d syncs (%d directory syncs)", calls, disk.syncs, disk.dirs)
	disk.mu.Unlock()
}

// TestDaemonSlowDiskDoesNotStallCapture: a disk that takes 500 ms a sync
// does not slow the capture loop: the time per call and the worst time
// spent on one frame are those of a disk that answers at once (with the
// fsync of each file in the loop, each ended call stalled it ≥ 500 ms),
// and nothing is dropped.
func TestDaemonSlowDiskDoesNotStallCapture(t *testing.T) {
	const calls = 60
	frames, _ := loadFrames(t, calls)
	for _, m := range recorderModes {
		t.Run(m.name, func(t *testing.T) { checkSlowDisk(t, frames, calls, m.opts) })
	}
}

func checkSlowDisk(t *testing.T, frames []capture.Frame, calls int, opts []tap.PipelineOption) {
	type figure struct {
		perCall, worst time.Duration
	}
	figures := map[time.Duration]figure{}
	for _, delay := range []time.Duration{0, 500 * time.Millisecond} {
		disk := &slowDisk{delay: delay}
		src, st, rec, err := runDurable(t, frames, disk, tap.DaemonConfig{Pipeline: opts})
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		perCall := src.total / time.Duration(calls)
		figures[delay] = figure{perCall, src.worst}
		t.Logf("sync %v: capture loop %v per call, worst frame %v, %d frames", delay, perCall, src.worst, len(frames))
		st.mu.Lock()
		ids := map[string]bool{}
		for _, c := range st.finals {
			if c.Recording != nil && c.Recording.File != "" {
				ids[c.ID] = true
			}
		}
		if len(ids) != calls || len(st.violations) != 0 {
			t.Errorf("sync %v: %d calls stored with recording, %v", delay, len(ids), st.violations)
		}
		st.mu.Unlock()
		if rs := rec.Stats(); rs.Commit.Dropped != 0 {
			t.Errorf("sync %v: %d recordings refused", delay, rs.Commit.Dropped)
		}
	}
	slow := figures[500*time.Millisecond]
	if slow.worst >= 250*time.Millisecond {
		t.Errorf("worst frame %v with a 500 ms sync: the loop waited for the disk", slow.worst)
	}
	if fast := figures[0]; slow.perCall > 3*fast.perCall+5*time.Millisecond {
		t.Errorf("%v per call with a slow disk, %v with a fast one", slow.perCall, fast.perCall)
	}
}

// TestDaemonRecordingNotDurable: a recording the disk could not sync is
// not named by the stored record (not_recordable "write error"); the other
// records keep theirs.
func TestDaemonRecordingNotDurable(t *testing.T) {
	const calls = 20
	frames, _ := loadFrames(t, calls)
	disk := &slowDisk{failNth: 5}
	_, st, rec, err := runDurable(t, frames, disk, tap.DaemonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_ = rec.Close()
	st.mu.Lock()
	defer st.mu.Unlock()
	last := map[string]sip.Call{}
	for _, c := range st.finals {
		last[c.ID] = c
	}
	failed := 0
	for _, c := range last {
		switch {
		case c.Recording != nil && c.Recording.NotRecordable == recorder.ReasonWriteError && c.Recording.File == "":
			failed++
		case c.Recording == nil || c.Recording.File == "":
			t.Errorf("%s: %+v", c.CallID, c.Recording)
		}
	}
	if failed != 1 || len(last) != calls || len(st.violations) != 0 {
		t.Errorf("%d of %d stored records lost their recording (want 1), %v", failed, len(last), st.violations)
	}
}

// TestDaemonDiskNeverAnswers: shutdown does not hang on a disk that never
// finishes a sync: after DrainTimeout the records still waiting for their
// recordings are counted as dropped and Run says so; none was stored
// naming a file that is not durable.
func TestDaemonDiskNeverAnswers(t *testing.T) {
	frames, _ := loadFrames(t, 10)
	disk := &slowDisk{gate: make(chan struct{})}
	start := time.Now()
	_, st, rec, err := runDurable(t, frames, disk, tap.DaemonConfig{DrainTimeout: 300 * time.Millisecond})
	defer func() {
		// The disk answers at last: let the committer finish its round
		// (renames into the test's directory) before the directory goes.
		close(disk.gate)
		deadline := time.Now().Add(10 * time.Second)
		for rec.Stats().Commit.Waiting > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}()
	if err == nil || !strings.Contains(err.Error(), "not durable") {
		t.Fatalf("Run: %v, want the records not stored", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("took %v", took)
	}
	st.mu.Lock()
	for _, c := range st.finals {
		if c.Recording != nil && c.Recording.File != "" {
			t.Errorf("%s stored naming a file never synced", c.CallID)
		}
	}
	st.mu.Unlock()
	if err := rec.Close(); err == nil {
		t.Error("recorder Close says the files are durable")
	}
}

// TestDaemonCommitStallFault: records waiting for a disk that makes no
// recording durable for CommitStall light the status lamp's fault; it
// clears once the disk answers, and the records are then stored.
func TestDaemonCommitStallFault(t *testing.T) {
	frames, want := loadFrames(t, 10)
	disk := &slowDisk{gate: make(chan struct{})}
	recDir := filepath.Join(t.TempDir(), "rec")
	rec, err := recorder.New(recorder.Config{Dir: recDir, Syncer: disk}, discard())
	if err != nil {
		t.Fatal(err)
	}
	st := &durableStore{disk: disk, dir: recDir}
	src := newMemLive(frames)
	d := tap.NewDaemon(tap.DaemonConfig{Tracker: sip.DefaultTrackerConfig(), CommitStall: 100 * time.Millisecond,
		Pipeline: []tap.PipelineOption{tap.WithRecorder(rec)}}, src, st, discard())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	<-src.consumed
	waitFor(t, "the pipeline", func() bool { return d.Backlog() == 0 })
	waitFor(t, "the fault", func() bool { return strings.HasPrefix(d.Health().Fault, "recordings:") })
	if d.Capturing() != true || d.Stored() != 0 {
		t.Fatalf("capturing %v, %d stored while the disk hangs", d.Capturing(), d.Stored())
	}
	close(disk.gate)
	waitFor(t, "the records stored", func() bool { return d.Stored() >= uint64(len(want)) })
	waitFor(t, "the fault cleared", func() bool { return d.Health().Fault == "" })
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, v := range st.violations {
		t.Error(v)
	}
}
