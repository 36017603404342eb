package tap_test

import (
	"context"
	"errors"
	"io"
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
				waitFor(t, "the idle leg to time out", func() bool { return d.Stored() >= 2 })
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
