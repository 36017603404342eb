package central

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/internal/pgtest"
)

// cluster is the package's PostgreSQL, shared by the tests (each gets its
// own database); nil when PostgreSQL is not installed.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, func(c *pgtest.Cluster) { cluster = c })) }

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// t0 is the fixture's epoch.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one server on a fresh database, served over HTTP.
type env struct {
	t     testing.TB
	s     *Server
	http  *httptest.Server
	clock *clock
	url   string // database URL
}

// newEnv starts a server on a fresh database of c (the shared cluster
// when nil).
func newEnv(t testing.TB, c *pgtest.Cluster, mod func(*Config)) *env {
	t.Helper()
	if c == nil {
		c = pgtest.Need(t, cluster)
	}
	u := c.DB(t)
	clk := &clock{t: t0}
	cfg := Config{Database: u, Now: clk.Now, RetryAfter: time.Second}
	cfg.Access.Argon = access.ArgonParams{Time: 1, MemoryKiB: 8, Threads: 1, KeyLen: 16, SaltLen: 8}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(context.Background(), cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	return &env{t: t, s: s, http: hs, clock: clk, url: u}
}

// box is a simulated box: its outbox (seq i+1 at index i) and the newest
// revision of each record it wrote.
type box struct {
	e      *env
	id     string
	token  string
	outbox []Entry
	latest map[string]int64
	client *http.Client
}

func (e *env) addBox(id, office string) *box {
	e.t.Helper()
	tok, err := e.s.AddBox(context.Background(), id, office)
	if err != nil {
		e.t.Fatal(err)
	}
	return &box{e: e, id: id, token: tok, latest: map[string]int64{}, client: &http.Client{Timeout: 30 * time.Second}}
}

// record is the JSON of a call record as the box writes it.
func record(id string, rev int64, invite time.Time) json.RawMessage {
	end := invite.Add(time.Duration(30+rev) * time.Second)
	b, _ := json.Marshal(map[string]any{
		"id": id, "call_id": id + "@pbx", "from": "5551000", "to": "200", "direction": "inbound",
		"operator": "200", "invite_at": invite, "ringing_at": invite, "answered_at": nil, "ended_at": end,
		"end_reason": "answered", "hangup_by": "caller", "ring_seconds": 3.5, "rings": 2,
		"within_limit": true, "transport": "udp", "note": fmt.Sprintf("rev %d", rev),
	})
	return b
}

// write appends an outbox entry writing record id again (next revision).
func (b *box) write(id string, invite time.Time) {
	rev := b.latest[id] + 1
	b.latest[id] = rev
	b.outbox = append(b.outbox, Entry{Seq: uint64(len(b.outbox) + 1), RecordID: id, Revision: rev, Record: record(id, rev, invite)})
}

// writeN writes n new records and, every third one, an update of an
// earlier one (the transfer's trailing NOTIFY).
func (b *box) writeN(n int) {
	for i := 0; i < n; i++ {
		k := len(b.latest)
		id := fmt.Sprintf("%s-leg-%06d", b.id, k)
		b.write(id, t0.Add(time.Duration(k)*time.Second))
		if i%3 == 2 {
			old := fmt.Sprintf("%s-leg-%06d", b.id, k/2)
			b.write(old, t0.Add(time.Duration(k/2)*time.Second))
		}
	}
}

// body is the gzipped batch first..last of the outbox.
func (b *box) body(first, last uint64) []byte {
	batch := Batch{FirstSeq: first, LastSeq: last, Entries: b.outbox[first-1 : last]}
	raw, err := json.Marshal(batch)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return gz(raw)
}

func gz(raw []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return buf.Bytes()
}

// reply is one answer of the server.
type reply struct {
	status     int
	acked      uint64
	retryAfter string
}

// post sends a body as a box would; err is a transport error.
func (b *box) post(body []byte, token string) (reply, error) {
	req, _ := http.NewRequest("POST", b.e.http.URL+PathBatches, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := b.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	var a Ack
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &a)
	return reply{status: resp.StatusCode, acked: a.Acked, retryAfter: resp.Header.Get("Retry-After")}, nil
}

// send posts the batch first..last with the box's token.
func (b *box) send(first, last uint64) reply {
	b.e.t.Helper()
	r, err := b.post(b.body(first, last), b.token)
	if err != nil {
		b.e.t.Fatalf("box %s: send %d..%d: %v", b.id, first, last, err)
	}
	return r
}

// cursor asks the server for the box's cursor.
func (b *box) cursor() reply {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.http.URL+PathCursor, nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var a Ack
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return reply{status: resp.StatusCode, acked: a.Acked}
}

// drain sends the whole outbox as the uplink does: from the server's
// cursor, batches of size, following 409 answers. It fails the test on
// any answer but 200 and 409.
func (b *box) drain(size uint64) {
	b.e.t.Helper()
	acked := b.cursor().acked
	for acked < uint64(len(b.outbox)) {
		last := min(acked+size, uint64(len(b.outbox)))
		r := b.send(acked+1, last)
		switch r.status {
		case http.StatusOK, http.StatusConflict:
			acked = r.acked
		default:
			b.e.t.Fatalf("box %s: batch %d..%d: status %d", b.id, acked+1, last, r.status)
		}
	}
}

// sum is a count and a checksum over record ids and revisions.
type sum struct {
	n    int
	hash string
}

func checksum(m map[string]int64) sum {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, fmt.Sprintf("%s:%d", k, v))
	}
	slices.Sort(keys)
	h := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return sum{n: len(keys), hash: hex.EncodeToString(h[:8])}
}

// serverSum is the checksum of the box's records on the server; it also
// checks that each stored record's JSON is the one of its revision.
func (b *box) serverSum() sum {
	b.e.t.Helper()
	ctx := context.Background()
	rows, err := b.e.s.pool.Query(ctx, "SELECT record_id, revision, record->>'note' FROM calls WHERE box_id = $1", b.id)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var (
			id   string
			rev  int64
			note string
		)
		if err := rows.Scan(&id, &rev, &note); err != nil {
			b.e.t.Fatal(err)
		}
		if note != fmt.Sprintf("rev %d", rev) {
			b.e.t.Errorf("record %s: revision %d has the content of %q", id, rev, note)
		}
		m[id] = rev
	}
	if err := rows.Err(); err != nil {
		b.e.t.Fatal(err)
	}
	return checksum(m)
}

// checkExactlyOnce compares both sides and the ledger: every outbox entry
// applied exactly once, the cursor at the end of the outbox.
func (b *box) checkExactlyOnce() {
	b.e.t.Helper()
	if got, want := b.serverSum(), checksum(b.latest); got != want {
		b.e.t.Errorf("box %s: server has %+v, box %+v", b.id, got, want)
	}
	var applied, acked int64
	err := b.e.s.pool.QueryRow(context.Background(),
		"SELECT (SELECT coalesce(sum(applied), 0) FROM ingest_log WHERE box_id = $1), acked_seq FROM boxes WHERE box_id = $1",
		b.id).Scan(&applied, &acked)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if applied != int64(len(b.outbox)) || acked != int64(len(b.outbox)) {
		b.e.t.Errorf("box %s: ledger applied %d entries, cursor %d; outbox has %d", b.id, applied, acked, len(b.outbox))
	}
}

// count runs a counting query on the env's database.
func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.s.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}
