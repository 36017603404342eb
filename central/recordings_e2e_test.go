package central

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/uplink"
)

// The box's store as the daemon adapts it (daemon/uplink.go); repeated
// here because the daemon's adapters are not exported.
type e2eOutbox struct{ s *storage.Store }

func (o e2eOutbox) OutboxAfter(ctx context.Context, after uint64, max int, fn func(uplink.Entry) error) error {
	return o.s.OutboxAfter(ctx, after, max, func(e storage.OutboxEntry) error {
		return fn(uplink.Entry{Seq: e.Seq, RecordID: e.RecordID, Revision: e.Current, Record: e.Record})
	})
}

func (o e2eOutbox) AckOutbox(ctx context.Context, seq uint64) error { return o.s.AckOutbox(ctx, seq) }

func (o e2eOutbox) OutboxStats(ctx context.Context) (uplink.OutboxStats, error) {
	st, err := o.s.OutboxStats(ctx)
	return uplink.OutboxStats{Depth: st.Depth, Oldest: st.Oldest, Acked: st.Acked, Next: st.Next}, err
}

type e2eRecordings struct {
	s   *storage.Store
	dir string
	all bool
}

func (q e2eRecordings) Candidates(ctx context.Context, settled time.Time, max int) ([]uplink.RecordingFile, time.Time, error) {
	cs, mark, err := q.s.RecordingCandidates(ctx, q.all, settled, max)
	var fs []uplink.RecordingFile
	for _, c := range cs {
		fs = append(fs, uplink.RecordingFile{RecordID: c.RecordID, File: c.File})
	}
	return fs, mark, err
}

func (q e2eRecordings) Scanned(ctx context.Context, mark time.Time) error {
	if !q.all {
		return nil
	}
	return q.s.SetRecordingMark(ctx, mark)
}

func (q e2eRecordings) Queue(ctx context.Context, j uplink.RecordingJob) (bool, error) {
	return q.s.QueueRecording(ctx, storage.RecJob{RecordID: j.RecordID, File: j.File, SHA256: j.SHA256, Size: j.Size, QueuedAt: time.Now()})
}

func (q e2eRecordings) Jobs(ctx context.Context, max int) ([]uplink.RecordingJob, error) {
	js, err := q.s.RecordingJobs(ctx, max)
	var out []uplink.RecordingJob
	for _, j := range js {
		out = append(out, uplink.RecordingJob{RecordID: j.RecordID, File: j.File, SHA256: j.SHA256, Size: j.Size})
	}
	return out, err
}

func (q e2eRecordings) Done(ctx context.Context, j uplink.RecordingJob, dropped string) error {
	return q.s.RecordingDone(ctx, j.RecordID, storage.RecDone{SHA256: j.SHA256, At: time.Now(), Dropped: dropped})
}

func (q e2eRecordings) Path(file string) string { return filepath.Join(q.dir, file) }

func (q e2eRecordings) Stats(ctx context.Context) (int, int64, error) {
	st, err := q.s.RecQStats(ctx)
	return st.Depth, st.Bytes, err
}

// fault rewrites the PUTs of recordings on their way to the server.
type fault struct {
	mu   sync.Mutex
	puts int
	// cut: at this PUT, the body ends after cutAt bytes (a cut
	// connection); flip: at this PUT, one byte of the body is flipped.
	cut, cutAt, flip int
	next             http.Handler
	// ranges are the Content-Range of every PUT, in order.
	ranges []string
}

func (f *fault) seen(rng string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.ranges {
		if r == rng {
			return true
		}
	}
	return false
}

func (f *fault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		f.mu.Lock()
		f.puts++
		n := f.puts
		f.ranges = append(f.ranges, r.Header.Get("Content-Range"))
		f.mu.Unlock()
		switch n {
		case f.cut:
			r.Body = io.NopCloser(io.MultiReader(io.LimitReader(r.Body, int64(f.cutAt)), errReader{}))
		case f.flip:
			r.Body = io.NopCloser(&flipper{r: r.Body, at: 100})
		}
	}
	f.next.ServeHTTP(w, r)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

type flipper struct {
	r   io.Reader
	n   int
	at  int
	hit bool
}

func (f *flipper) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if !f.hit && f.at >= f.n && f.at < f.n+n {
		p[f.at-f.n] ^= 0x5a
		f.hit = true
	}
	f.n += n
	return n, err
}

// TestRecordingsEndToEnd: a box's store, its uplink sender and the
// central server over TLS, with real WAVs: the recordings go up by their
// hash, verified, linked to their records, the records carry the hash;
// sampled-only vs all; a cut connection and corrupted bytes in flight
// are survived.
func TestRecordingsEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mode       string
		cut, flip  int
		wantUpload []string
		// wantRange is a PUT that must have been made.
		wantRange string
	}{
		{name: "sampled", mode: "", wantUpload: []string{"r-kept"}},
		{name: "all", mode: uplink.RecordingsAll, wantUpload: []string{"r-kept", "r-plain"}},
		// The second chunk (8192..) is cut after 3000 bytes: the box
		// resumes where the server is, not at the chunk's start.
		{name: "cut", mode: "", cut: 2, wantUpload: []string{"r-kept"}, wantRange: "bytes 11192-19383/96044"},
		// The fourth chunk's bytes are corrupted in flight: the server's
		// hash refuses the file and the box sends it again from 0.
		{name: "corrupted", mode: "", flip: 4, wantUpload: []string{"r-kept"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, b := recEnv(t)
			f := &fault{cut: tc.cut, cutAt: 3000, flip: tc.flip, next: e.s.Handler()}
			srv := httptest.NewTLSServer(f)
			t.Cleanup(srv.Close)
			ca := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			st, err := storage.Open(t.TempDir(), storage.WithLogger(discard()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			recDir := t.TempDir()
			wavs := map[string][]byte{"r-kept": testWAV(t, 3), "r-plain": testWAV(t, 2)}
			for i, id := range []string{"r-kept", "r-plain"} {
				rel := filepath.Join("2026", "12", "01", id+".wav")
				if err := os.MkdirAll(filepath.Join(recDir, filepath.Dir(rel)), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(recDir, rel), wavs[id], 0o600); err != nil {
					t.Fatal(err)
				}
				inv := t0.Add(time.Duration(i) * time.Minute)
				end := inv.Add(30 * time.Second)
				c := sip.Call{ID: id, CallID: id + "@pbx", InviteAt: inv, EndedAt: &end, Recording: &sip.Recording{File: rel, DurationSeconds: 3}}
				if err := st.PutCall(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.SetKeep(ctx, "r-kept", "sampled 2026-12"); err != nil {
				t.Fatal(err)
			}
			cfg := uplink.Config{URL: srv.URL, BoxID: "box-1", Token: b.token, CA: ca, Recordings: tc.mode,
				ChunkBytes: 8 << 10, Poll: 5 * time.Millisecond, BackoffMin: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Timeout: 5 * time.Second}
			snd, err := uplink.New(cfg, e2eOutbox{st}, uplink.WithLogger(discard()),
				uplink.WithRecordings(e2eRecordings{s: st, dir: recDir, all: tc.mode == uplink.RecordingsAll}))
			if err != nil {
				t.Fatal(err)
			}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- snd.Run(rctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()

			deadline := time.Now().Add(20 * time.Second)
			for {
				rs, _, err := snd.RecordingsStatus(ctx)
				if err != nil {
					t.Fatal(err)
				}
				ust, err := snd.Status(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if rs.Uploaded == uint64(len(tc.wantUpload)) && rs.Queued == 0 && ust.Depth == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not synced: recordings %+v, records %+v", rs, ust)
				}
				time.Sleep(10 * time.Millisecond)
			}
			// Let a few more rounds run: nothing else may go up.
			time.Sleep(50 * time.Millisecond)
			for id, wav := range wavs {
				want := false
				for _, w := range tc.wantUpload {
					want = want || w == id
				}
				rec, err := e.s.Recording(ctx, "box-1", id)
				if !want {
					if err == nil {
						t.Errorf("%s went up in mode %q", id, tc.mode)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				if rec.SHA256 != hexSHA(wav) || rec.Size != int64(len(wav)) {
					t.Errorf("%s: server has %s/%d, want %s/%d", id, rec.SHA256, rec.Size, hexSHA(wav), len(wav))
				}
				got, err := os.ReadFile(rec.Path)
				if err != nil || string(got) != string(wav) {
					t.Errorf("%s: server's file differs (err %v)", id, err)
				}
				// The record on both sides names the hash.
				c, err := st.Call(ctx, id)
				if err != nil || c.Recording == nil || c.Recording.SHA256 != rec.SHA256 {
					t.Errorf("%s: box's record recording %+v (err %v)", id, c.Recording, err)
				}
				if n := e.count("SELECT count(*) FROM calls WHERE box_id = 'box-1' AND record_id = $1 AND record->'recording'->>'sha256' = $2", id, rec.SHA256); n != 1 {
					t.Errorf("%s: central's record lacks the hash", id)
				}
				q, d, err := st.RecordingStatus(ctx, id)
				if err != nil || q || d == nil || d.Dropped != "" {
					t.Errorf("%s: box's queue: queued %v done %+v err %v", id, q, d, err)
				}
			}
			rs, _, _ := snd.RecordingsStatus(ctx)
			var total uint64
			for _, id := range tc.wantUpload {
				total += uint64(len(wavs[id]))
			}
			switch {
			case tc.cut != 0 && rs.Sent != total-uint64(f.cutAt):
				// Sent counts the bytes the server acknowledged: the
				// cut chunk's 3000 that landed were never acknowledged,
				// nor sent again.
				t.Errorf("sent %d bytes, want %d", rs.Sent, total-uint64(f.cutAt))
			case tc.flip == 0 && tc.cut == 0 && rs.Sent != total:
				t.Errorf("sent %d bytes, want exactly %d", rs.Sent, total)
			case tc.flip != 0 && rs.Sent < total+uint64(4*cfg.ChunkBytes):
				t.Errorf("sent %d bytes after a refused file, want the %d sent before it again", rs.Sent, 4*cfg.ChunkBytes)
			}
			if tc.wantRange != "" && !f.seen(tc.wantRange) {
				t.Errorf("no PUT of %s; PUTs: %v", tc.wantRange, f.ranges)
			}
			// The refusal comes with the last chunk (12 PUTs of 8 KiB);
			// the next PUT starts again at 0.
			if tc.flip != 0 && (len(f.ranges) < 13 || f.ranges[11] != "bytes 90112-96043/96044" || f.ranges[12] != "bytes 0-8191/96044") {
				t.Errorf("after the refusal the upload did not restart at 0: %v", f.ranges)
			}
			if rs.Dropped != 0 {
				t.Errorf("dropped %d", rs.Dropped)
			}
		})
	}
}
