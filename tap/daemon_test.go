package tap_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

// fakeLive stands in for the live capture in unit tests: it serves the
// frames of a capture file, then blocks like an idle interface until
// closed.
type fakeLive struct {
	src      capture.Source
	done     chan struct{}
	once     sync.Once
	consumed chan struct{}
	eof      bool
}

func (f *fakeLive) ReadFrame() (capture.Frame, error) {
	if !f.eof {
		fr, err := f.src.ReadFrame()
		if err == nil {
			return fr, nil
		}
		if !errors.Is(err, io.EOF) {
			return capture.Frame{}, err
		}
		f.eof = true
		close(f.consumed)
	}
	<-f.done
	return capture.Frame{}, io.EOF
}

func (f *fakeLive) Close() error {
	f.once.Do(func() { close(f.done) })
	return f.src.Close()
}

func (f *fakeLive) Stats() (capture.LiveStats, error) { return capture.LiveStats{}, nil }

// wallClock is an injected wall clock the test moves by hand.
type wallClock struct {
	mu sync.Mutex
	t  time.Time
}

func (w *wallClock) Now() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.t }
func (w *wallClock) Add(d time.Duration) {
	w.mu.Lock()
	w.t = w.t.Add(d)
	w.mu.Unlock()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func storedCalls(t *testing.T, dir string) map[string]sip.Call {
	t.Helper()
	st, err := storage.Open(dir, storage.WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]sip.Call{}
	err = st.Calls(context.Background(), time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), func(c sip.Call) error {
		out[c.CallID] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDaemon runs the daemon over a fake interface with the real store:
// a finished call is stored while the daemon runs, the ticker carries the
// capture clock forward so an idle leg times out with no packet arriving,
// and shutdown stores the legs still open as unknown/shutdown.
func TestDaemon(t *testing.T) {
	dir := t.TempDir()
	answered, _ := pcapgen.Lookup("answered")
	noBye, _ := pcapgen.Lookup("no-bye")
	pathA, wantA := writeScenario(t, answered, dir)
	pathB, wantB := writeScenario(t, noBye, dir)

	cases := []struct {
		name       string
		path       string
		jump       time.Duration
		wantDetail string
	}{
		{"idle leg closed by the ticker", pathB, 5 * time.Hour, "timeout"},
		{"open leg stored at shutdown", pathB, 0, "shutdown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storeDir := t.TempDir()
			st, err := storage.Open(storeDir, storage.WithLogger(discard()))
			if err != nil {
				t.Fatal(err)
			}
			clock := &wallClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			merged, err := capture.OpenFiles([]string{pathA, tc.path})
			if err != nil {
				t.Fatal(err)
			}
			src := &fakeLive{src: merged, done: make(chan struct{}), consumed: make(chan struct{})}
			d := tap.NewDaemon(tap.DaemonConfig{Tracker: sip.DefaultTrackerConfig(), Tick: 5 * time.Millisecond, Now: clock.Now}, src, st, discard())
			ctx, cancel := context.WithCancel(context.Background())
			runErr := make(chan error, 1)
			go func() { runErr <- d.Run(ctx) }()

			<-src.consumed
			waitFor(t, "the pipeline", func() bool { return d.Backlog() == 0 })
			// The answered call ended with its BYE: stored without waiting
			// for shutdown.
			waitFor(t, "the finished call to be stored", func() bool { return d.Stored() >= 1 })
			if tc.jump > 0 {
				clock.Add(tc.jump)
				// The answered call's second record (its whole ladder, at
				// the close) and the idle leg's.
				waitFor(t, "the idle leg to time out", func() bool { return d.Stored() >= 3 })
			}
			cancel()
			if err := <-runErr; err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			got := storedCalls(t, storeDir)
			a, ok := got[wantA[0].CallID]
			if !ok || a.EndReason != sip.EndCompleted || !a.EndedAt.Equal(*wantA[0].EndedAt) {
				t.Errorf("answered call stored as %+v", a)
			}
			b, ok := got[wantB[0].CallID]
			if !ok || b.EndReason != sip.EndUnknown || b.EndDetail != tc.wantDetail || !b.AnsweredAt.Equal(*wantB[0].AnsweredAt) {
				t.Errorf("open call stored as %+v, want unknown/%s", b, tc.wantDetail)
			}
			if len(got) != 2 {
				t.Errorf("%d records stored, want 2", len(got))
			}
		})
	}
}

// failingStore refuses every write, or succeeds once healed.
type failingStore struct {
	mu     sync.Mutex
	healed bool
	calls  []sip.Call
	tries  int
}

func (s *failingStore) PutCalls(_ context.Context, cs []sip.Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if !s.healed {
		return errors.New("disk on fire")
	}
	s.calls = append(s.calls, cs...)
	return nil
}

func (s *failingStore) heal() { s.mu.Lock(); s.healed = true; s.mu.Unlock() }

func (s *failingStore) stored() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.calls) }

// TestDaemonFailingStoreDoesNotFreeze is the regression test of the freeze
// found in the front-door issue (#8): the capture loop sent to a full store
// queue while holding the pipeline lock, so once a failing store stopped
// draining it, capture, Stats, Health, the alarm panel and shutdown all
// blocked. With a queue of one and a store that always fails: capture reads
// every frame, the counters and the fault answer at once, the records past
// the bound are counted as dropped, and shutdown completes within the
// drain timeout, reporting the records it could not store.
func TestDaemonFailingStoreDoesNotFreeze(t *testing.T) {
	dir := t.TempDir()
	load := filepath.Join(dir, "load.pcap")
	var want []pcapgen.Expect
	if err := pcapgen.WriteFile(load, func(w *pcapgen.Writer) error {
		var err error
		want, _, err = pcapgen.Load(w, 20, time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Each call is emitted at its BYE and once more, with its whole
	// ladder, when it closes: replay counts the records the daemon emits.
	emits := 0
	{
		files, err := capture.OpenFiles([]string{load})
		if err != nil {
			t.Fatal(err)
		}
		p := tap.NewPipeline(sip.DefaultTrackerConfig(), func(sip.Call) { emits++ }, discard())
		if err := tap.Replay(context.Background(), files, p); err != nil {
			t.Fatal(err)
		}
		files.Close()
	}
	for _, tc := range []struct {
		name string
		heal bool
	}{
		{"store never recovers", false},
		{"store recovers before shutdown", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := capture.OpenFiles([]string{load})
			if err != nil {
				t.Fatal(err)
			}
			src := &fakeLive{src: files, done: make(chan struct{}), consumed: make(chan struct{})}
			st := &failingStore{}
			d := tap.NewDaemon(tap.DaemonConfig{
				Tracker: sip.DefaultTrackerConfig(), QueueSize: 1,
				RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond,
				DrainTimeout: 200 * time.Millisecond,
			}, src, st, discard())
			ctx, cancel := context.WithCancel(context.Background())
			runErr := make(chan error, 1)
			go func() { runErr <- d.Run(ctx) }()

			select {
			case <-src.consumed:
			case <-time.After(10 * time.Second):
				t.Fatal("capture blocked behind the failing store")
			}
			within(t, "Stats", func() { d.Stats() })
			within(t, "AlarmPanel", func() { d.AlarmPanel() })
			within(t, "Mute", d.Mute)
			waitFor(t, "the fault to show", func() bool { return d.Health().Fault != "" })
			waitFor(t, "the records past the bound to be dropped", func() bool {
				q := d.Queue()
				return q.Queued == 1 && q.Dropped >= uint64(len(want)-1) && q.WriteErrors > 0
			})
			if tc.heal {
				st.heal()
				waitFor(t, "the queued record to be stored", func() bool { return st.stored() == 1 })
				waitFor(t, "the fault to clear", func() bool { return d.Health().Fault == "" })
			}
			cancel()
			var err2 error
			select {
			case err2 = <-runErr:
			case <-time.After(10 * time.Second):
				t.Fatal("shutdown did not complete")
			}
			q := d.Queue()
			if tc.heal {
				if err2 != nil {
					t.Fatalf("Run: %v", err2)
				}
				if q.Queued != 0 || q.Dropped+d.Stored() != uint64(emits) || d.Stored() < 1 {
					t.Errorf("queue %+v, stored %d, emitted %d", q, d.Stored(), emits)
				}
				return
			}
			if err2 == nil || !strings.Contains(err2.Error(), "not stored at shutdown") {
				t.Fatalf("Run returned %v, want the records not stored", err2)
			}
			if q.Queued != 0 || q.Dropped != uint64(emits) || d.Stored() != 0 {
				t.Errorf("queue %+v, stored %d; want all %d dropped", q, d.Stored(), emits)
			}
		})
	}
}

// within fails the test if fn does not return within a second.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatalf("%s blocked", what)
	}
}

// cutLive serves the frames of a capture file captured up to cut, then
// blocks like an idle interface: the calls still open at cut are in
// progress for as long as the test wants.
type cutLive struct {
	fakeLive
	cut time.Time
}

func (c *cutLive) ReadFrame() (capture.Frame, error) {
	if !c.eof {
		fr, err := c.src.ReadFrame()
		if err == nil && !fr.Info.Timestamp.After(c.cut) {
			return fr, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return capture.Frame{}, err
		}
		c.eof = true
		close(c.consumed)
	}
	<-c.done
	return capture.Frame{}, io.EOF
}

func newCutLive(t *testing.T, path string, cut time.Time) *cutLive {
	t.Helper()
	files, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	return &cutLive{fakeLive: fakeLive{src: files, done: make(chan struct{}), consumed: make(chan struct{})}, cut: cut}
}

// TestDaemonProvisional is issue 9 §4's first half: a call that rings or
// is answered is in the store, marked in progress, before it ends; its
// final record replaces it (same id) and clears the mark. A leg that was
// only offered gets no provisional record (a flood of INVITEs must not
// become records), and neither does one that ended before it rang.
func TestDaemonProvisional(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		scenario string
		// cut is when the capture stops, from the INVITE; 0: never.
		cut          time.Duration
		wantProgress bool
		answered     bool
		wantDetail   string // of the final record
	}{
		{"abandoned", 5 * time.Second, true, false, "shutdown"},
		{"answered", 12 * time.Second, true, true, "shutdown"},
		{"no-bye", 0, true, true, "shutdown"},
		{"busy", 10 * time.Millisecond, false, false, "shutdown"},
		{"busy", 0, false, false, "486"},
		{"answered", 0, false, true, "bye"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s cut %v", tc.scenario, tc.cut), func(t *testing.T) {
			sc, err := pcapgen.Lookup(tc.scenario)
			if err != nil {
				t.Fatal(err)
			}
			path, want := writeScenario(t, sc, dir)
			cut := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
			if tc.cut > 0 {
				cut = want[0].InviteAt.Add(tc.cut)
			}
			st, err := storage.Open(t.TempDir(), storage.WithLogger(discard()))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			src := newCutLive(t, path, cut)
			d := tap.NewDaemon(tap.DaemonConfig{Tracker: sip.DefaultTrackerConfig(), Provisional: true}, src, st, discard())
			ctx, cancel := context.WithCancel(context.Background())
			runErr := make(chan error, 1)
			go func() { runErr <- d.Run(ctx) }()
			<-src.consumed
			waitFor(t, "the pipeline", func() bool { return d.Backlog() == 0 })
			waitFor(t, "the queues to empty", func() bool { q := d.Queue(); return q.Queued == 0 && q.InProgress == 0 })

			open, err := st.InProgress(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := len(open) == 1; got != tc.wantProgress {
				t.Fatalf("%d calls in progress in the store, want in progress %v", len(open), tc.wantProgress)
			}
			if tc.wantProgress {
				p := open[0]
				if p.CallID != want[0].CallID || p.EndReason != sip.EndUnknown || p.EndDetail != tap.DetailInProgress || p.EndedAt != nil {
					t.Errorf("provisional record %+v", p)
				}
				if (p.AnsweredAt != nil) != tc.answered || !p.RingingAt.Equal(*want[0].RingingAt) {
					t.Errorf("provisional answered_at %v ringing_at %v", p.AnsweredAt, p.RingingAt)
				}
			}
			cancel()
			if err := <-runErr; err != nil {
				t.Fatal(err)
			}
			if open, _ := st.InProgress(context.Background()); len(open) != 0 {
				t.Errorf("%d calls still marked in progress after shutdown", len(open))
			}
			var finals []sip.Call
			_ = st.Calls(context.Background(), time.Unix(0, 0), cut.Add(time.Hour), func(c sip.Call) error {
				finals = append(finals, c)
				return nil
			})
			if len(finals) != 1 {
				t.Fatalf("%d records, want 1", len(finals))
			}
			f := finals[0]
			if f.EndDetail != tc.wantDetail {
				t.Errorf("final end_detail %q, want %q", f.EndDetail, tc.wantDetail)
			}
			if tc.wantProgress && tc.answered {
				// Once answered, the ring figures are final: the
				// provisional record had them already.
				p := open[0]
				if p.ID != f.ID || p.RingSeconds != f.RingSeconds || p.Rings != f.Rings || p.WithinLimit != f.WithinLimit {
					t.Errorf("provisional %s ring %v/%d/%v, final %s %v/%d/%v", p.ID, p.RingSeconds, p.Rings, p.WithinLimit,
						f.ID, f.RingSeconds, f.Rings, f.WithinLimit)
				}
			}
		})
	}
}

// progressLog is a ProgressWriter that keeps every write, in order, and is
// slow enough for records to pile up between writes.
type progressLog struct {
	mu     sync.Mutex
	writes []progressWrite
	fail   bool
}

type progressWrite struct{ open, done []sip.Call }

func (s *progressLog) PutCalls(ctx context.Context, cs []sip.Call) error {
	return s.PutProgress(ctx, nil, cs)
}

func (s *progressLog) PutProgress(_ context.Context, open, done []sip.Call) error {
	time.Sleep(2 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("disk full")
	}
	s.writes = append(s.writes, progressWrite{slices.Clone(open), slices.Clone(done)})
	return nil
}

// TestDaemonProvisionalOrder: under load, with a slow store, a provisional
// record is never written after its call's final record (which would turn
// a finished call back into one in progress), every call ends with its
// final record, and waiting snapshots of a call are coalesced.
func TestDaemonProvisionalOrder(t *testing.T) {
	dir := t.TempDir()
	load := filepath.Join(dir, "load.pcap")
	var want []pcapgen.Expect
	if err := pcapgen.WriteFile(load, func(w *pcapgen.Writer) error {
		var err error
		want, _, err = pcapgen.Load(w, 300, time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st := &progressLog{}
	src := newCutLive(t, load, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	d := tap.NewDaemon(tap.DaemonConfig{Tracker: sip.DefaultTrackerConfig(), Provisional: true}, src, st, discard())
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	<-src.consumed
	waitFor(t, "the pipeline", func() bool { return d.Backlog() == 0 })
	waitFor(t, "the queues to empty", func() bool { q := d.Queue(); return q.Queued == 0 && q.InProgress == 0 })
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	final := map[string]bool{}
	last := map[string]sip.Call{}
	opens := 0
	for i, w := range st.writes {
		for _, c := range w.open {
			opens++
			if final[c.ID] {
				t.Fatalf("write %d: provisional record of %s after its final record", i, c.CallID)
			}
			if c.EndDetail != tap.DetailInProgress {
				t.Fatalf("provisional record with end_detail %q", c.EndDetail)
			}
			last[c.ID] = c
		}
		for _, c := range w.done {
			final[c.ID] = true
			last[c.ID] = c
		}
	}
	if len(last) != len(want) {
		t.Errorf("%d calls written, want %d", len(last), len(want))
	}
	for _, c := range last {
		if c.EndReason != sip.EndCompleted {
			t.Errorf("%s ends as %s/%s", c.CallID, c.EndReason, c.EndDetail)
		}
	}
	// Each call rings then is answered: at most two snapshots each, fewer
	// when the store is behind; at least one, as the store keeps up within
	// the 2 s of ringing.
	q := d.Queue()
	if opens == 0 || opens > 2*len(want) || q.InProgressStored != uint64(opens) || q.InProgressDropped != 0 {
		t.Errorf("%d provisional records written for %d calls, queue %+v", opens, len(want), q)
	}
	t.Logf("%d writes, %d provisional records for %d calls", len(st.writes), opens, len(want))
}

// TestDaemonProvisionalBounded: with a store that always fails, the
// provisional records are bounded like the final ones and counted when
// dropped; capture goes on. A store that cannot mark calls in progress
// turns them off.
func TestDaemonProvisionalBounded(t *testing.T) {
	dir := t.TempDir()
	load := filepath.Join(dir, "load.pcap")
	if err := pcapgen.WriteFile(load, func(w *pcapgen.Writer) error {
		_, _, err := pcapgen.Load(w, 20, time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Run("failing store", func(t *testing.T) {
		st := &progressLog{fail: true}
		src := newCutLive(t, load, time.Date(2030, 1, 1, 9, 0, 3, 0, time.UTC))
		d := tap.NewDaemon(tap.DaemonConfig{
			Tracker: sip.DefaultTrackerConfig(), Provisional: true, QueueSize: 2,
			RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond, DrainTimeout: 100 * time.Millisecond,
		}, src, st, discard())
		ctx, cancel := context.WithCancel(context.Background())
		runErr := make(chan error, 1)
		go func() { runErr <- d.Run(ctx) }()
		select {
		case <-src.consumed:
		case <-time.After(10 * time.Second):
			t.Fatal("capture blocked behind the failing store")
		}
		waitFor(t, "the pipeline", func() bool { return d.Backlog() == 0 })
		// 3 s into the load: its 20 calls (one each 100 ms) have rung,
		// the first ones were answered too (a second snapshot), none has
		// ended: 2 calls wait, the 18 others are dropped at least once.
		q := d.Queue()
		if q.InProgress != 2 || q.InProgressDropped < 18 || q.Queued != 0 {
			t.Errorf("queue %+v, want 2 waiting and the others dropped", q)
		}
		cancel()
		if err := <-runErr; err == nil {
			t.Error("shutdown with a failing store reported no loss")
		}
	})
	t.Run("store without marks", func(t *testing.T) {
		st := &failingStore{healed: true}
		src := newCutLive(t, load, time.Date(2030, 1, 1, 9, 0, 3, 0, time.UTC))
		d := tap.NewDaemon(tap.DaemonConfig{Tracker: sip.DefaultTrackerConfig(), Provisional: true}, src, st, discard())
		ctx, cancel := context.WithCancel(context.Background())
		runErr := make(chan error, 1)
		go func() { runErr <- d.Run(ctx) }()
		<-src.consumed
		waitFor(t, "the pipeline", func() bool { return d.Backlog() == 0 })
		cancel()
		if err := <-runErr; err != nil {
			t.Fatal(err)
		}
		q := d.Queue()
		if q.InProgressStored != 0 || st.stored() != 20 {
			t.Errorf("queue %+v, %d records stored; want no provisional record and 20 final ones", q, st.stored())
		}
		for _, c := range st.calls {
			if c.EndDetail != tap.FlushShutdown {
				t.Errorf("%s stored with end_detail %q", c.CallID, c.EndDetail)
			}
		}
	})
}

// TestDaemonCaptureLag: the pipeline reports how long frames waited from
// their capture timestamp to the pipeline, on the injected wall clock: the
// longest is the first frame's wait (the first batch starts with it), the
// last lies between the last frame's and the longest.
func TestDaemonCaptureLag(t *testing.T) {
	dir := t.TempDir()
	answered, _ := pcapgen.Lookup("answered")
	path, _ := writeScenario(t, answered, dir)
	first, last := frameSpan(t, path)
	st, err := storage.Open(t.TempDir(), storage.WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const wait = 250 * time.Millisecond
	clock := &wallClock{t: last.Add(wait)}
	merged, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeLive{src: merged, done: make(chan struct{}), consumed: make(chan struct{})}
	d := tap.NewDaemon(tap.DaemonConfig{Tracker: sip.DefaultTrackerConfig(), Tick: 5 * time.Millisecond, Now: clock.Now}, src, st, discard())
	if l, m := d.CaptureLag(); l != 0 || m != 0 {
		t.Fatalf("lag before any frame: %v, %v", l, m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	<-src.consumed
	waitFor(t, "the pipeline", func() bool { return d.Backlog() == 0 })
	lag, longest := d.CaptureLag()
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	if want := last.Add(wait).Sub(first); longest != want {
		t.Errorf("longest lag %v, want %v (the first frame's)", longest, want)
	}
	if lag < wait || lag > longest {
		t.Errorf("last lag %v, want between %v and %v", lag, wait, longest)
	}
}

// frameSpan returns the capture times of a file's first and last frames.
func frameSpan(t *testing.T, path string) (first, last time.Time) {
	t.Helper()
	src, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for {
		f, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			return first, last
		}
		if err != nil {
			t.Fatal(err)
		}
		if first.IsZero() {
			first = f.Info.Timestamp
		}
		last = f.Info.Timestamp
	}
}
