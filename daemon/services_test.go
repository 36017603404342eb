package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
	"github.com/switchtap/switchtap/web"
)

// runService starts svc and returns a function that cancels it and
// returns its error, failing the test if it does not stop in time.
func runService(t *testing.T, svc Service) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("service did not stop")
			return nil
		}
	}
}

// TestRetentionService: the sweep runs at start and every sweep_every,
// deletes what is too old but never a protected recording, logs every
// deletion in the store, and stops with ctx.
func TestRetentionService(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Recording.SweepEvery = 20 * time.Millisecond
	recDir := cfg.RecordingDir()
	old := time.Now().Add(-100 * 24 * time.Hour)
	for _, id := range []string{"kept", "gone", "fresh"} {
		p := filepath.Join(recDir, "2026", "01", "01", id+".wav")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, 100), 0o600); err != nil {
			t.Fatal(err)
		}
		if id != "fresh" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := storage.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SetKeep(context.Background(), "kept", "sampled 2026-01"); err != nil {
		t.Fatal(err)
	}
	rec, err := recorder.New(recorder.Config{Dir: recDir, MaxAge: 90 * 24 * time.Hour}, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	s := &state{store: st, rec: rec, cfg: cfg}
	stop := runService(t, &retention{st: s, log: discard(), now: time.Now})
	waitUntil(t, "the old recording to go", func() bool {
		_, err := os.Stat(filepath.Join(recDir, "2026", "01", "01", "gone.wav"))
		return errors.Is(err, os.ErrNotExist)
	})
	waitUntil(t, "the size measured", func() bool { return s.recFiles.Load() == 2 })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, id := range []string{"kept", "fresh"} {
		if _, err := os.Stat(filepath.Join(recDir, "2026", "01", "01", id+".wav")); err != nil {
			t.Errorf("%s deleted: %v", id, err)
		}
	}
	var logged []storage.Deletion
	if err := st.Deletions(context.Background(), func(d storage.Deletion) error { logged = append(logged, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || logged[0].RecordID != "gone" || logged[0].Reason != "age" {
		t.Fatalf("deletions logged: %+v", logged)
	}
}

// TestHTTPService: it serves until ctx is done, then shuts down even with
// an event stream still open (cut after the shutdown timeout).
func TestHTTPService(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	streaming := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(streaming)
		<-r.Context().Done() // an SSE client that never leaves
	})
	stop := runService(t, newHTTPService("test", ln, mux, nil, nil, discard()))
	resp, err := http.Get("http://" + ln.Addr().String() + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("got %q", b)
	}
	sresp, err := http.Get("http://" + ln.Addr().String() + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	<-streaming
	began := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(began); d > shutdownTimeout+2*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/ok"); err == nil {
		t.Error("still serving after shutdown")
	}
}

// TestSocketPeer: the local socket is 0660, a stale socket file is
// replaced, a live one refused, and the peer's uid reaches the handler.
func TestSocketPeer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := listenSocket(path, discard())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode %v %v", fi.Mode(), err)
	}
	if _, err := listenSocket(path, discard()); err == nil {
		t.Fatal("a second listener took a live socket")
	}
	// The peer's uid, read from the accepted connection (SO_PEERCRED).
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	cc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	sc, ok := <-accepted
	if !ok {
		t.Fatal("no connection accepted")
	}
	uid, err := peerUID(sc.(*net.UnixConn))
	sc.Close()
	if err != nil || uid != os.Getuid() {
		t.Errorf("peer uid %d %v, want %d", uid, err, os.Getuid())
	}
	if ctx := peerContext(context.Background(), &net.TCPConn{}); ctx != context.Background() {
		t.Error("a non-unix connection got a peer")
	}
	ln.Close()
	// Closing unlinks it; a stale file left by a crash is replaced.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	ln2, err := listenSocket(path, discard())
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln2.Close()
}

// TestFileSourceRealtime: with realtime the frames come at the pace they
// were captured; without, at once; Close interrupts a wait.
func TestFileSourceRealtime(t *testing.T) {
	s, err := pcapgen.Lookup("answered")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "a.pcap")
	if _, err := s.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	fast, err := openFiles([]string{p}, false, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var first, last time.Time
	n := 0
	for {
		f, err := fast.ReadFrame()
		if err != nil {
			break
		}
		if first.IsZero() {
			first = f.Info.Timestamp
		}
		last = f.Info.Timestamp
		n++
	}
	fast.Close()
	span := last.Sub(first)

	rt, err := openFiles([]string{p}, true, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	f0, err := rt.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	// The 180 is 100 ms into the capture: as much wall time must pass.
	for {
		f, err := rt.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if c := f.Info.Timestamp.Sub(f0.Info.Timestamp); c >= 90*time.Millisecond {
			if w := time.Since(began); w < c-5*time.Millisecond {
				t.Errorf("%v of capture read in %v: not paced", c, w)
			}
			break
		}
	}
	// Close interrupts the wait for a frame seconds away.
	go func() { time.Sleep(50 * time.Millisecond); rt.Close() }()
	for {
		if _, err := rt.ReadFrame(); err != nil {
			if !errors.Is(err, errClosed) {
				t.Fatalf("read after close: %v", err)
			}
			break
		}
	}
	if d := time.Since(began); d > span/2 {
		t.Errorf("close took %v of a %v capture", d, span)
	}
	if n < 10 {
		t.Fatalf("%d frames", n)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recPanel records the lamps the driver sets.
type recPanel struct {
	mu   sync.Mutex
	last device.Lamps
	sets int
}

func (p *recPanel) Set(l device.Lamps) error {
	p.mu.Lock()
	p.last, p.sets = l, p.sets+1
	p.mu.Unlock()
	return nil
}
func (p *recPanel) Close() error { return nil }

type fakeButton struct{ ch chan time.Time }

func (b *fakeButton) Events() <-chan time.Time { return b.ch }
func (b *fakeButton) Close() error             { return nil }

// idleSource is a capture that never delivers a frame.
type idleSource struct{ done chan struct{} }

func (s *idleSource) ReadFrame() (capture.Frame, error) { <-s.done; return capture.Frame{}, io.EOF }
func (s *idleSource) Close() error                      { close(s.done); return nil }
func (s *idleSource) Stats() (capture.LiveStats, error) { return capture.LiveStats{}, nil }

// TestPanelWatchService: the status lamp and the console's copy of it are
// set at start; a button press is taken (the mute itself is tap's test);
// it stops with ctx, and the driver then switches the lamps off.
func TestPanelWatchService(t *testing.T) {
	cfg := config.Default()
	td := tap.NewDaemon(tap.DaemonConfig{Tracker: cfg.TrackerConfig()}, &idleSource{done: make(chan struct{})}, nil, discard())
	st := &state{tap: td, cfg: cfg}
	panel := &recPanel{}
	driver := device.NewDriver(panel)
	stopDriver := runService(t, driver)
	hub := web.NewHub(cfg.RingPolicy(), time.Now)
	lamp := &atomic.Value{}
	lamp.Store("")
	btn := &fakeButton{ch: make(chan time.Time, 1)}
	stop := runService(t, &panelWatch{st: st, driver: driver, button: btn, hub: hub, lamp: lamp})
	// The lamp shown on the panel's console copy is the one the health
	// rule computes.
	want := lampName(st.status())
	waitUntil(t, "the lamp to be shown", func() bool {
		return lamp.Load() == want && hub.Snapshot().Lamp == want
	})
	if a := hub.Snapshot().Alarm; a != "off" {
		t.Errorf("alarm %q, want off", a)
	}
	btn.ch <- time.Now() // a press with nothing ringing: harmless
	waitUntil(t, "the press to be taken", func() bool { return len(btn.ch) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := stopDriver(); err != nil {
		t.Fatal(err)
	}
	panel.mu.Lock()
	defer panel.mu.Unlock()
	if l := panel.last; panel.sets == 0 || l.Amber || l.Red || l.Buzzer || l.Status {
		t.Errorf("panel set %d times, last %+v: want lamps off at the end", panel.sets, panel.last)
	}
}

// TestStoreFault: only the store's own failures count as records not
// stored (/healthz, write_failing); the recording floor or a lost central
// server light the lamp but lose no record.
func TestStoreFault(t *testing.T) {
	st := &state{}
	for _, tc := range []struct{ tap, want string }{
		{"", ""},
		{"store: disk on fire", "store: disk on fire"},
	} {
		if got := st.storeFault(tc.tap); got != tc.want {
			t.Errorf("storeFault(%q) = %q, want %q", tc.tap, got, tc.want)
		}
	}
	cfg := config.Default()
	td := tap.NewDaemon(tap.DaemonConfig{Tracker: cfg.TrackerConfig()}, &idleSource{done: make(chan struct{})}, nil, discard())
	dir := t.TempDir()
	store, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st = &state{tap: td, store: store, cfg: cfg, errs: &errorRing{}}
	if si := st.info(); si.Store.WriteFailing || si.Fault != "" {
		t.Errorf("healthy store: write_failing %v, fault %q", si.Store.WriteFailing, si.Fault)
	}
	// A floor no disk can meet: the recorder stops, the store still takes
	// records.
	rec, err := recorder.New(recorder.Config{Dir: filepath.Join(dir, "rec"), MinFreeBytes: 1 << 62}, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	st.rec = rec
	rec.Advance(time.Now())
	if !rec.Stats().FloorReached {
		t.Fatal("the recorder did not report its floor")
	}
	if si := st.info(); si.Store.WriteFailing || si.Fault != "disk floor reached" {
		t.Errorf("floor reached: write_failing %v, fault %q; want false and the floor", si.Store.WriteFailing, si.Fault)
	}
}

// fakeReleaser counts the rounds of keepRelease and answers each with the
// next of errs (nil past them), releasing one recording a round.
type fakeReleaser struct {
	mu      sync.Mutex
	rounds  int
	errs    []error
	samples report.SampleSource
	keep    report.Keeper
}

func (f *fakeReleaser) ReleaseExpired(_ context.Context, samples report.SampleSource, keep report.Keeper) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rounds++
	f.samples, f.keep = samples, keep
	if f.rounds <= len(f.errs) && f.errs[f.rounds-1] != nil {
		return 0, f.errs[f.rounds-1]
	}
	return 1, nil
}

func (f *fakeReleaser) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rounds
}

// fakeSamples and fakeKeeper are what keepRelease passes on, untouched.
type fakeSamples struct{ report.SampleSource }
type fakeKeeper struct{ report.Keeper }

// TestKeepReleaseService: the first release runs at start, not one
// interval later; a failed round is logged and the next one runs; the
// service stops with ctx, with no error.
func TestKeepReleaseService(t *testing.T) {
	t.Run("first round at start", func(t *testing.T) {
		rel := &fakeReleaser{}
		samples, keep := &fakeSamples{}, &fakeKeeper{}
		stop := runService(t, &keepRelease{review: rel, samples: samples, keep: keep, every: time.Hour, log: discard()})
		waitUntil(t, "the first release", func() bool { return rel.count() == 1 })
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		rel.mu.Lock()
		defer rel.mu.Unlock()
		if rel.rounds != 1 || rel.samples != samples || rel.keep != keep {
			t.Errorf("%d rounds with samples %v keep %v, want 1 with the service's own", rel.rounds, rel.samples, rel.keep)
		}
	})
	t.Run("a failed round is retried", func(t *testing.T) {
		rel := &fakeReleaser{errs: []error{errors.New("store busy")}}
		h := &lines{}
		stop := runService(t, &keepRelease{review: rel, every: 5 * time.Millisecond, log: slog.New(h)})
		waitUntil(t, "rounds after the failure", func() bool { return rel.count() >= 3 })
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.got) < 2 || h.got[0] != "ERROR release sampled recordings" ||
			h.got[1] != "INFO sampled recordings released from retention protection" {
			t.Errorf("logged %q", h.got)
		}
	})
}

// syncDisk is a disk that is full or not as told, counting the checks.
type syncDisk struct {
	mu     sync.Mutex
	full   bool
	checks int
}

func (d *syncDisk) Disk(check bool) storage.DiskStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	if check {
		d.checks++
	}
	return storage.DiskStatus{Full: d.full}
}

func (d *syncDisk) set(full bool) {
	d.mu.Lock()
	d.full = full
	d.mu.Unlock()
}

func (d *syncDisk) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.checks
}

// TestDiskWatchService: the disk is checked at start, not one interval
// later, then every interval (a disk that fills is logged at once); the
// watch stops with ctx, with no error.
func TestDiskWatchService(t *testing.T) {
	t.Run("first check at start", func(t *testing.T) {
		disk := &syncDisk{full: true}
		h := &lines{}
		stop := runService(t, &diskWatch{store: disk, queue: fakeQueue{}, log: slog.New(h), every: time.Hour})
		waitUntil(t, "the first check", func() bool { return disk.count() == 1 })
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if disk.count() != 1 || len(h.got) != 1 || !strings.HasPrefix(h.got[0], "ERROR disk full") {
			t.Errorf("%d checks, logged %q; want 1 and the full disk", disk.count(), h.got)
		}
	})
	t.Run("checks every interval", func(t *testing.T) {
		disk := &syncDisk{}
		h := &lines{}
		stop := runService(t, &diskWatch{store: disk, queue: fakeQueue{}, log: slog.New(h), every: 5 * time.Millisecond})
		waitUntil(t, "a few checks", func() bool { return disk.count() >= 3 })
		disk.set(true)
		waitUntil(t, "the full disk logged", func() bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			return len(h.got) == 1
		})
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}
