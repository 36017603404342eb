package central

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pgtest"
)

// TestPostgresRestart: PostgreSQL stops in the middle of a run and comes
// back. While it is down every batch gets 503 with Retry-After (never a
// 500); afterwards the box catches up with nothing lost or duplicated.
func TestPostgresRestart(t *testing.T) {
	t.Parallel()
	pgtest.Need(t, cluster)
	c := pgtest.New(t)
	e := newEnv(t, c, nil)
	b := e.addBox("caja-pg", "Oficina")
	b.writeN(1500)
	size := uint64(50)
	var acked uint64
	step := func() reply {
		last := min(acked+size, uint64(len(b.outbox)))
		r, err := b.post(b.body(acked+1, last), b.token)
		if err != nil {
			t.Fatalf("batch %d..%d: %v", acked+1, last, err)
		}
		if r.status == 200 || r.status == 409 {
			acked = r.acked
		}
		return r
	}
	for range 5 {
		if r := step(); r.status != 200 {
			t.Fatalf("before the stop: %+v", r)
		}
	}
	c.Stop()
	for i := range 3 {
		r := step()
		if r.status != http.StatusServiceUnavailable || r.retryAfter != "1" {
			t.Fatalf("attempt %d with PostgreSQL down: %+v, want 503 with Retry-After 1", i, r)
		}
	}
	if r := b.cursor(); r.status != http.StatusServiceUnavailable {
		t.Fatalf("cursor with PostgreSQL down: %d", r.status)
	}
	// A restart in the middle of a stream of batches, twice: pooled
	// connections die under the server; answers may be 503 meanwhile.
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted := false
	for acked < uint64(len(b.outbox)) {
		if acked > 700 && !restarted {
			if err := c.Restart(context.Background()); err != nil {
				t.Fatal(err)
			}
			restarted = true
		}
		switch r := step(); r.status {
		case 200, 409, http.StatusServiceUnavailable:
		default:
			t.Fatalf("after the restart: %+v", r)
		}
	}
	b.checkExactlyOnce()
}

// TestCommitThenDrop: the server commits a batch and its connection dies
// before the answer (the central process killed between the two). The box
// sees no answer and resends: a replay, applied nothing.
func TestCommitThenDrop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	var drops atomic.Int32
	e.s.afterCommit = func(w http.ResponseWriter) {
		if drops.Add(1) > 1 {
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_ = conn.Close()
	}
	b := e.addBox("caja-kill", "Oficina")
	b.writeN(30)
	if _, err := b.post(b.body(1, 20), b.token); err == nil {
		t.Fatal("the answer came through a dropped connection")
	}
	if r := b.send(1, 20); r.status != 200 || r.acked != 20 {
		t.Fatalf("resend: %+v", r)
	}
	if n := e.count("SELECT count(*) FROM ingest_log"); n != 1 {
		t.Fatalf("%d ledger rows after a resend, want 1", n)
	}
	b.drain(20)
	b.checkExactlyOnce()
}

// TestBusy: with every slot taken a batch gets 429 and Retry-After.
func TestBusy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(c *Config) { c.MaxInflight, c.BusyWait = 1, 20*time.Millisecond })
	hold, held := make(chan struct{}), make(chan struct{})
	e.s.afterCommit = func(http.ResponseWriter) {
		close(held)
		<-hold
	}
	b := e.addBox("caja-busy", "Oficina")
	b.writeN(4)
	done := make(chan reply)
	go func() {
		r, _ := b.post(b.body(1, 2), b.token)
		done <- r
	}()
	<-held
	e.s.afterCommit = nil
	r := b.send(3, 4)
	close(hold)
	if r.status != http.StatusTooManyRequests || r.retryAfter != "1" {
		t.Fatalf("second batch: %+v, want 429 with Retry-After 1", r)
	}
	if r := <-done; r.status != 200 || r.acked != 2 {
		t.Fatalf("first batch: %+v", r)
	}
	if r := b.send(3, 4); r.status != 200 || r.acked != 4 {
		t.Fatalf("after the rush: %+v", r)
	}
}

// TestPoolExhausted: with every pooled connection held (by long queries
// of people, say), a batch gets 429 and Retry-After, not a long wait.
func TestPoolExhausted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(c *Config) { c.MaxConns = 2 })
	b := e.addBox("caja-pool", "Oficina")
	b.writeN(2)
	ctx := context.Background()
	for range 2 {
		conn, err := e.s.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
	}
	start := time.Now()
	r, err := b.post(b.body(1, 2), b.token)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusTooManyRequests || r.retryAfter != "1" {
		t.Fatalf("%+v, want 429 with Retry-After 1", r)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("answered after %v", d)
	}
}

// TestLimits: bodies over the limits get 413, a gzip bomb included, and
// nothing is applied.
func TestLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(c *Config) { c.MaxBody, c.MaxDecoded, c.MaxEntries = 64<<10, 1<<20, 100 })
	b := e.addBox("caja-lim", "Oficina")
	b.writeN(200)
	bomb := func() []byte {
		// 16 MiB of spaces inside a valid batch: ~16 KiB compressed.
		var raw bytes.Buffer
		raw.WriteString(`{"first_seq":1,"last_seq":1,"entries":[{"seq":1,"record_id":"x","revision":1,"record":{"id":"x","pad":"`)
		raw.Write(bytes.Repeat([]byte{' '}, 16<<20))
		raw.WriteString(`"}}]}`)
		return gz(raw.Bytes())
	}()
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb of %d bytes is not under MaxBody", len(bomb))
	}
	// Random text does not compress: 200 KiB stays over 64 KiB.
	big := make([]byte, 200<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range big {
		big[i] = 'a' + byte(rng.IntN(26))
	}
	cases := []struct {
		name string
		body []byte
	}{
		{"gzip bomb", bomb},
		{"compressed body over max_body", gz(append([]byte(`{"pad":"`), big...))},
		{"too many entries", b.body(1, 101)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := b.post(tc.body, b.token)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", r.status)
			}
		})
	}
	if n := e.count("SELECT count(*) FROM calls"); n != 0 {
		t.Fatalf("%d records stored", n)
	}
	if r := b.send(1, 100); r.status != 200 {
		t.Fatalf("a batch at the limit: %d", r.status)
	}
}

// TestMalformed: bodies that break the protocol get 400 and apply nothing.
func TestMalformed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	b := e.addBox("caja-bad", "Oficina")
	rec := string(record("r1", 1, t0))
	batch := func(entries string, first, last int) []byte {
		return gz(fmt.Appendf(nil, `{"first_seq":%d,"last_seq":%d,"entries":[%s]}`, first, last, entries))
	}
	one := func(seq int, id string, rev int, record string) string {
		return fmt.Sprintf(`{"seq":%d,"record_id":%q,"revision":%d,"record":%s}`, seq, id, rev, record)
	}
	cases := []struct {
		name     string
		body     []byte
		ctype    string
		encoding string
	}{
		{"not json", gz([]byte("hola")), "", "gzip"},
		{"not gzip", []byte(`{"first_seq":1}`), "", "gzip"},
		{"truncated gzip", batch(one(1, "r1", 1, rec), 1, 1)[:30], "", "gzip"},
		{"unknown encoding", batch(one(1, "r1", 1, rec), 1, 1), "", "br"},
		{"wrong content type", batch(one(1, "r1", 1, rec), 1, 1), "text/plain", "gzip"},
		{"first_seq 0", batch(one(0, "r1", 1, rec), 0, 0), "", "gzip"},
		{"last before first", batch("", 2, 1), "", "gzip"},
		{"count mismatch", batch(one(1, "r1", 1, rec), 1, 2), "", "gzip"},
		{"seqs not contiguous", batch(one(1, "r1", 1, rec)+","+one(3, "r2", 1, rec), 1, 2), "", "gzip"},
		{"no record id", batch(one(1, "", 1, rec), 1, 1), "", "gzip"},
		{"revision 0", batch(one(1, "r1", 0, rec), 1, 1), "", "gzip"},
		{"record not an object", batch(one(1, "r1", 1, `[1]`), 1, 1), "", "gzip"},
		{"record id mismatch", batch(one(1, "other", 1, rec), 1, 1), "", "gzip"},
		{"bad time", batch(one(1, "r1", 1, `{"invite_at":"yesterday"}`), 1, 1), "", "gzip"},
		{"invalid UTF-8", batch(one(1, "r1", 1, "{\"from\":\"\xff\"}"), 1, 1), "", "gzip"},
		{"data after the batch", fmt.Appendf(nil, `{"first_seq":1,"last_seq":1,"entries":[%s]} {}`, one(1, "r1", 1, rec)), "", ""},
		{"seq beyond bigint", gz(fmt.Appendf(nil, `{"first_seq":%d,"last_seq":%[1]d,"entries":[{"seq":%[1]d,"record_id":"r1","revision":1,"record":{}}]}`, uint64(1)<<63)), "", "gzip"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.http.URL+PathBatches, bytes.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+b.token)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
		})
	}
	if n := e.count("SELECT count(*) FROM calls"); n != 0 {
		t.Fatalf("%d records stored", n)
	}
	if r := b.cursor(); r.acked != 0 {
		t.Fatalf("cursor moved to %d", r.acked)
	}
}

// TestNULInRecord: a NUL from a hostile SIP header cannot stall the
// outbox: the batch is taken, the NUL kept as U+FFFD.
func TestNULInRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	b := e.addBox("caja-nul", "Oficina")
	m := map[string]any{"id": "r1", "from_name": "a\x00b", "from": "x\x00", "invite_at": t0, "note": `c:\u0000`}
	raw, _ := json.Marshal(m)
	b.outbox = append(b.outbox, Entry{Seq: 1, RecordID: "r1", Revision: 1, Record: raw})
	if r := b.send(1, 1); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	var name, from, note string
	err := e.s.pool.QueryRow(context.Background(), "SELECT record->>'from_name', from_user, record->>'note' FROM calls").Scan(&name, &from, &note)
	if err != nil {
		t.Fatal(err)
	}
	if name != "a\uFFFDb" || from != "x\uFFFD" || note != `c:\u0000` {
		t.Fatalf("from_name %q from %q note %q", name, from, note)
	}
	if strings.Contains(name+from, "\x00") {
		t.Fatal("NUL stored")
	}
}
