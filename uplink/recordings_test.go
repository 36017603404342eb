package uplink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

// storeRecs adapts the store's recordings queue as daemon/uplink.go does.
type storeRecs struct {
	s   *storage.Store
	dir string
	all bool
}

func (q storeRecs) Candidates(ctx context.Context, settled time.Time, max int) ([]RecordingFile, time.Time, error) {
	cs, mark, err := q.s.RecordingCandidates(ctx, q.all, settled, max)
	var fs []RecordingFile
	for _, c := range cs {
		fs = append(fs, RecordingFile{RecordID: c.RecordID, File: c.File})
	}
	return fs, mark, err
}

func (q storeRecs) Scanned(ctx context.Context, mark time.Time) error {
	if !q.all {
		return nil
	}
	return q.s.SetRecordingMark(ctx, mark)
}

func (q storeRecs) Queue(ctx context.Context, j RecordingJob) (bool, error) {
	return q.s.QueueRecording(ctx, storage.RecJob{RecordID: j.RecordID, File: j.File, SHA256: j.SHA256, Size: j.Size, QueuedAt: time.Now()})
}

func (q storeRecs) Jobs(ctx context.Context, max int) ([]RecordingJob, error) {
	js, err := q.s.RecordingJobs(ctx, max)
	var out []RecordingJob
	for _, j := range js {
		out = append(out, RecordingJob{RecordID: j.RecordID, File: j.File, SHA256: j.SHA256, Size: j.Size})
	}
	return out, err
}

func (q storeRecs) Done(ctx context.Context, j RecordingJob, dropped string) error {
	return q.s.RecordingDone(ctx, j.RecordID, storage.RecDone{SHA256: j.SHA256, At: time.Now(), Dropped: dropped})
}

func (q storeRecs) Path(file string) string { return filepath.Join(q.dir, file) }

func (q storeRecs) Stats(ctx context.Context) (int, int64, error) {
	st, err := q.s.RecQStats(ctx)
	return st.Depth, st.Bytes, err
}

// recServer is a fake of the server's recordings protocol over a map, in
// front of the batches' fake receiver.
type recServer struct {
	rcv *receiver

	mu      sync.Mutex
	partial map[string][]byte
	whole   map[string][]byte
	links   map[string]string // record id -> sha
	puts    []time.Time
	// headDelay slows every HEAD.
	headDelay time.Duration
}

func newRecServer(rcv *receiver) *recServer {
	return &recServer{rcv: rcv, partial: map[string][]byte{}, whole: map[string][]byte{}, links: map[string]string{}}
}

func (s *recServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, RecordingsPath+"/")
	if !ok {
		s.rcv.ServeHTTP(w, r)
		return
	}
	sha, link := strings.CutSuffix(rest, "/link")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodHead:
		time.Sleep(s.headDelay)
		if _, ok := s.whole[sha]; ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Upload-Offset", fmt.Sprint(len(s.partial[sha])))
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut:
		s.puts = append(s.puts, time.Now())
		var a, b, n int
		if _, err := fmt.Sscanf(r.Header.Get("Content-Range"), "bytes %d-%d/%d", &a, &b, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if a != len(s.partial[sha]) {
			w.Header().Set("Upload-Offset", fmt.Sprint(len(s.partial[sha])))
			w.WriteHeader(http.StatusConflict)
			return
		}
		body, _ := io.ReadAll(r.Body)
		p := append(s.partial[sha], body...)
		if len(p) < n {
			s.partial[sha] = p
			w.Header().Set("Upload-Offset", fmt.Sprint(len(p)))
			w.WriteHeader(http.StatusOK)
			return
		}
		delete(s.partial, sha)
		if sum := sha256.Sum256(p); hex.EncodeToString(sum[:]) != sha {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		s.whole[sha] = p
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && link:
		if _, ok := s.whole[sha]; !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		var id string
		body, _ := io.ReadAll(r.Body)
		if _, err := fmt.Sscanf(string(body), `{"record_id":%q}`, &id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.links[id] = sha
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// recHarness is the sender's harness with recordings: files in dir,
// records in the store.
type recHarness struct {
	*harness
	srv    *recServer
	recDir string
}

func newRecHarness(t *testing.T) *recHarness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), rcv: newReceiver("stb_test"), clk: &clock{t: time.Now()}, writes: map[string]int{}}
	rh := &recHarness{harness: h, srv: newRecServer(h.rcv), recDir: t.TempDir()}
	srv := httptestTLS(t, rh.srv)
	h.cfg = Config{URL: srv.url, BoxID: "box-1", Token: "stb_test", CA: srv.ca, BatchRecords: 40, Timeout: 5 * time.Second, ChunkBytes: 1000}
	h.open()
	t.Cleanup(func() { h.store.Close() })
	return rh
}

// recording writes a file and its ended record, sampled.
func (h *recHarness) recording(id string, data []byte) string {
	h.t.Helper()
	rel := id + ".wav"
	if err := os.WriteFile(filepath.Join(h.recDir, rel), data, 0o600); err != nil {
		h.t.Fatal(err)
	}
	end := t0.Add(time.Minute)
	c := sip.Call{ID: id, CallID: id, InviteAt: t0, EndedAt: &end, Recording: &sip.Recording{File: rel}}
	ctx := context.Background()
	if err := h.store.PutCall(ctx, c); err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.SetKeep(ctx, id, "sampled"); err != nil {
		h.t.Fatal(err)
	}
	return rel
}

func (h *recHarness) startRecs() (*Sender, func()) {
	return h.start(WithRecordings(storeRecs{s: h.store, dir: h.recDir}))
}

// waitDone waits (real time) until id is done in the store.
func (h *recHarness) waitDone(id string) *storage.RecDone {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, d, err := h.store.RecordingStatus(context.Background(), id)
		if err != nil {
			h.t.Fatal(err)
		}
		if d != nil {
			return d
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("%s never done", id)
	return nil
}

// TestRecordingsDrop: a recording whose file went missing or changed
// after it was queued (hashed) is dropped, said so, and never linked;
// the others still go up.
func TestRecordingsDrop(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(path string) error
		reason string
	}{
		{"missing", os.Remove, "file missing"},
		{"shorter", func(p string) error { return os.Truncate(p, 10) }, "file changed on disk since it was queued"},
		{"same size, other bytes", func(p string) error {
			return os.WriteFile(p, bytes.Repeat([]byte{'z'}, 4000), 0o600)
		}, "file changed on disk since it was queued"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRecHarness(t)
			ctx := context.Background()
			h.recording("bad", bytes.Repeat([]byte{'a'}, 4000))
			good := bytes.Repeat([]byte("good"), 900)
			h.recording("good", good)
			// Queue them as the sender would, then change one file.
			q := storeRecs{s: h.store, dir: h.recDir}
			for _, id := range []string{"bad", "good"} {
				data, _ := os.ReadFile(filepath.Join(h.recDir, id+".wav"))
				sum := sha256.Sum256(data)
				if _, err := q.Queue(ctx, RecordingJob{RecordID: id, File: id + ".wav", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.change(filepath.Join(h.recDir, "bad.wav")); err != nil {
				t.Fatal(err)
			}
			snd, stop := h.startRecs()
			defer stop()
			if d := h.waitDone("bad"); d.Dropped != tc.reason {
				t.Fatalf("dropped %q, want %q", d.Dropped, tc.reason)
			}
			if d := h.waitDone("good"); d.Dropped != "" {
				t.Fatalf("good dropped: %q", d.Dropped)
			}
			h.srv.mu.Lock()
			_, linked := h.srv.links["bad"]
			goodSHA := h.srv.links["good"]
			h.srv.mu.Unlock()
			sum := sha256.Sum256(good)
			if linked || goodSHA != hex.EncodeToString(sum[:]) {
				t.Fatalf("links: bad %v, good %q", linked, goodSHA)
			}
			// The counters follow the store's "done" by a moment: poll.
			deadline := time.Now().Add(5 * time.Second)
			for {
				rs, ok, err := snd.RecordingsStatus(ctx)
				if err == nil && ok && rs.Dropped == 1 && rs.Uploaded == 1 && rs.Queued == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("status %+v %v %v", rs, ok, err)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestRecordingsYieldToRecords: while a batch of records waits for the
// server's answer, no chunk of a recording is put; once the batch ends,
// the recording goes.
func TestRecordingsYieldToRecords(t *testing.T) {
	h := newRecHarness(t)
	h.put(ids("rec", 0, 5)...)
	h.recording("r-wav", bytes.Repeat([]byte("wave"), 1000))
	hold, held := make(chan struct{}), make(chan struct{}, 1)
	h.rcv.set(func(r *receiver) { r.hold, r.held = hold, held })
	// The recording's HEAD comes after the records' loop has its batch.
	h.srv.headDelay = 100 * time.Millisecond
	snd, stop := h.startRecs()
	defer stop()
	// Released before stop, even when the test fails: a held handler
	// would keep the server from closing.
	release := sync.OnceFunc(func() {
		h.rcv.set(func(r *receiver) { r.hold = nil })
		close(hold)
	})
	defer release()
	<-held
	time.Sleep(300 * time.Millisecond)
	h.srv.mu.Lock()
	n := len(h.srv.puts)
	h.srv.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d chunks put while a batch waited", n)
	}
	release()
	if d := h.waitDone("r-wav"); d.Dropped != "" {
		t.Fatalf("dropped %q", d.Dropped)
	}
	// Every record reaches the server, the recording's with its hash.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := snd.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		h.rcv.mu.Lock()
		rec, n := h.rcv.recs["r-wav"], len(h.rcv.recs)
		h.rcv.mu.Unlock()
		if st.Depth == 0 && n == 6 && bytes.Contains(rec.record, []byte(`"sha256":"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not synced: depth %d, server %d records, r-wav %s", st.Depth, n, rec.record)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGate(t *testing.T) {
	ctx := context.Background()
	var g gate
	start := time.Now()
	if err := g.wait(ctx, time.Hour); err != nil || time.Since(start) > time.Second {
		t.Fatalf("idle gate blocked: %v", err)
	}
	g.records(true)
	for _, tc := range []struct {
		name    string
		release func()
	}{
		{"batch ended", g.ended},
		{"outbox empty", func() { g.records(false) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.records(true)
			done := make(chan error, 1)
			go func() { done <- g.wait(ctx, time.Hour) }()
			select {
			case <-done:
				t.Fatal("gate open while a batch waits")
			case <-time.After(50 * time.Millisecond):
			}
			tc.release()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("gate stayed shut")
			}
		})
	}
	g.records(true)
	start = time.Now()
	if err := g.wait(ctx, 30*time.Millisecond); err != nil || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("limit: %v after %v", err, time.Since(start))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.wait(cctx, time.Hour); err == nil {
		t.Fatal("cancelled wait returned nil")
	}
}

func TestRecordingsConfig(t *testing.T) {
	base := Config{URL: "https://c.example", Token: "stb_x"}
	for _, tc := range []struct {
		rec  string
		mode string
		ok   bool
	}{
		{"", RecordingsSampled, true},
		{"sampled", RecordingsSampled, true},
		{"all", RecordingsAll, true},
		{"off", RecordingsOff, true},
		{"some", "", false},
	} {
		t.Run(tc.rec, func(t *testing.T) {
			c := base
			c.Recordings = tc.rec
			got, err := c.withDefaults()
			if (err == nil) != tc.ok {
				t.Fatalf("err %v", err)
			}
			if tc.ok && (got.RecordingsMode() != tc.mode || got.ChunkBytes != DefaultChunkBytes) {
				t.Fatalf("mode %q chunk %d", got.RecordingsMode(), got.ChunkBytes)
			}
		})
	}
	c := base
	c.Recordings = RecordingsOff
	s, err := New(c, nil, WithRecordings(storeRecs{}))
	if err != nil || s.rec != nil {
		t.Fatalf("off still uploads: %v", err)
	}
}

type tlsServer struct{ url, ca string }

// httptestTLS serves h behind TLS and writes its certificate to a CA
// file for Config.CA.
func httptestTLS(t *testing.T, h http.Handler) tlsServer {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tlsServer{srv.URL, ca}
}
