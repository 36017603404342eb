package tap_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
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
