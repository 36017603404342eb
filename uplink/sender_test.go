package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// storeOutbox adapts the store as daemon/uplink.go does.
type storeOutbox struct{ s *storage.Store }

func (o storeOutbox) OutboxAfter(ctx context.Context, after uint64, max int, fn func(Entry) error) error {
	return o.s.OutboxAfter(ctx, after, max, func(e storage.OutboxEntry) error {
		return fn(Entry{Seq: e.Seq, RecordID: e.RecordID, Revision: e.Current, Record: e.Record})
	})
}

func (o storeOutbox) AckOutbox(ctx context.Context, seq uint64) error { return o.s.AckOutbox(ctx, seq) }

func (o storeOutbox) OutboxStats(ctx context.Context) (OutboxStats, error) {
	st, err := o.s.OutboxStats(ctx)
	return OutboxStats{Depth: st.Depth, Oldest: st.Oldest, Acked: st.Acked, Next: st.Next}, err
}

// clock is a fake wall clock; its sleep advances it at once.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
	// onSleep runs after each sleep (records flowing during an outage).
	onSleep func(now time.Time)
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	now, hook := c.t, c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(now)
	}
	// Let the test's goroutine run: the fake sleep takes no real time.
	runtime.Gosched()
	time.Sleep(50 * time.Microsecond)
	return ctx.Err()
}

func (c *clock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

type harness struct {
	t     *testing.T
	dir   string
	store *storage.Store
	rcv   *receiver
	clk   *clock
	cfg   Config

	mu     sync.Mutex
	writes map[string]int // id -> writes made (its revision)

	// preSync, when set, has the receiver hold seqs 1..preSync before
	// the sender starts.
	preSync uint64
}

// encodeRange returns the JSON (before gzip) of the batch first..last.
func (h *harness) encodeRange(first, last uint64) []byte {
	h.t.Helper()
	var es []Entry
	err := storeOutbox{h.store}.OutboxAfter(context.Background(), first-1, int(last-first+1), func(e Entry) error {
		es = append(es, e)
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	enc := newEncoder()
	if _, err := enc.encode(es); err != nil {
		h.t.Fatal(err)
	}
	return enc.json.Bytes()
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	// The clock starts at the real time: the store stamps outbox entries
	// with it.
	h := &harness{t: t, dir: t.TempDir(), rcv: newReceiver("stb_test"), clk: &clock{t: time.Now()}, writes: map[string]int{}}
	url, ca := h.rcv.serve(t)
	h.cfg = Config{URL: url, BoxID: "box-1", Token: "stb_test", CA: ca, BatchRecords: 40, Timeout: 5 * time.Second}
	h.open()
	t.Cleanup(func() {
		if h.store != nil {
			h.store.Close()
		}
	})
	return h
}

func (h *harness) open() {
	h.t.Helper()
	s, err := storage.Open(h.dir, storage.WithLogger(discard()))
	if err != nil {
		h.t.Fatal(err)
	}
	h.store = s
}

// put writes the records i..i+n-1 (new or again: EndDetail says which
// write it is, so a stale record is seen).
func (h *harness) put(ids ...string) {
	h.t.Helper()
	h.mu.Lock()
	cs := make([]sip.Call, len(ids))
	for i, id := range ids {
		h.writes[id]++
		cs[i] = sip.Call{ID: id, CallID: id + "@pbx", InviteAt: t0.Add(time.Duration(i) * time.Second), EndDetail: fmt.Sprintf("write %d", h.writes[id])}
	}
	h.mu.Unlock()
	if err := h.store.PutCalls(context.Background(), cs); err != nil {
		h.t.Error(err)
	}
}

func ids(prefix string, from, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s-%05d", prefix, from+i)
	}
	return s
}

// start runs a sender until the returned stop is called.
func (h *harness) start(opts ...Option) (*Sender, func()) {
	h.t.Helper()
	opts = append([]Option{WithLogger(discard()), WithClock(h.clk.now), WithSleep(h.clk.sleep), WithRand(func() float64 { return 0.5 })}, opts...)
	s, err := New(h.cfg, storeOutbox{h.store}, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return s, func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run: %v", err)
		}
	}
}

// boxChecksum is over the store's (id, revision) pairs.
func (h *harness) boxChecksum() (string, int) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	m := map[string]uint64{}
	for id, n := range h.writes {
		rev, err := h.store.Revision(context.Background(), id)
		if err != nil {
			h.t.Fatal(err)
		}
		if rev != uint64(n) {
			h.t.Fatalf("store revision of %s = %d, %d writes", id, rev, n)
		}
		m[id] = rev
	}
	return checksum(m), len(m)
}

// waitSynced waits (real time) until the receiver holds what the box
// holds, then checks exactly once: every seq applied once, every record
// at its latest write, and the box's outbox freed.
func (h *harness) waitSynced() {
	h.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := h.store.OutboxStats(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		box, n := h.boxChecksum()
		got, m := h.rcv.checksum()
		h.rcv.mu.Lock()
		cursor := h.rcv.cursor
		h.rcv.mu.Unlock()
		// Entries are freed in the transactions after the ack's.
		left := 0
		_ = h.store.OutboxAfter(ctx, 0, 1000, func(storage.OutboxEntry) error { left++; return nil })
		if box == got && cursor == st.Next-1 && st.Depth == 0 && left == 0 {
			if n != m {
				h.t.Fatalf("%d records on the box, %d on the server", n, m)
			}
			break
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("not synced: box %d records (next seq %d, acked %d), server %d records at cursor %d", n, st.Next, st.Acked, m, cursor)
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.rcv.mu.Lock()
	defer h.rcv.mu.Unlock()
	for seq := uint64(1); seq <= h.rcv.cursor; seq++ {
		if n := h.rcv.applied[seq]; n != 1 {
			h.t.Errorf("seq %d applied %d times", seq, n)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, n := range h.writes {
		var c sip.Call
		if err := json.Unmarshal(h.rcv.recs[id].record, &c); err != nil {
			h.t.Fatalf("server record %s: %v", id, err)
		}
		if want := fmt.Sprintf("write %d", n); c.EndDetail != want || c.ID != id {
			h.t.Errorf("server holds %s as %q, want %q", id, c.EndDetail, want)
		}
	}
}

func TestSync(t *testing.T) {
	h := newHarness(t)
	h.put(ids("a", 0, 100)...)
	h.put(ids("a", 0, 10)...) // updates before the first send
	s, stop := h.start()
	defer stop()
	h.waitSynced()
	// Updated after they were sent: the newer revision reaches the server.
	h.put(ids("a", 5, 10)...)
	h.put(ids("a", 5, 3)...)
	h.waitSynced()
	st := waitAcked(t, s, 123)
	if st.Depth != 0 || st.Acked != 123 || st.Records != 123 || st.LastAck.IsZero() || st.Batches.OK < 4 || st.Batches.Error != 0 || st.Offline {
		t.Fatalf("status %+v", st)
	}
}

// TestOutage24h: the server is unreachable for 24 h of the fake clock
// while records flow, then comes back: everything arrives once, the
// backoff stayed within its cap, and the box said it was offline.
func TestOutage24h(t *testing.T) {
	h := newHarness(t)
	h.put(ids("pre", 0, 20)...)
	s, stop := h.start()
	defer stop()
	h.waitSynced()
	// The server goes away with the sender in full flow.
	h.rcv.set(func(r *receiver) { r.down = true })
	h.put(ids("pre", 20, 5)...)
	var (
		mu       sync.Mutex
		written  int
		lastCall = h.clk.now()
	)
	end := lastCall.Add(24 * time.Hour)
	h.clk.onSleep = func(now time.Time) {
		mu.Lock()
		defer mu.Unlock()
		// A record every 10 minutes of the outage.
		for now.Before(end) && now.Sub(lastCall) >= 10*time.Minute {
			lastCall = lastCall.Add(10 * time.Minute)
			h.put(fmt.Sprintf("out-%05d", written))
			if written%5 == 0 {
				h.put("pre-00001") // trailing updates of one record
			}
			written++
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.clk.now().Before(end) {
		if time.Now().After(deadline) {
			t.Fatal("fake clock did not reach 24 h")
		}
		time.Sleep(time.Millisecond)
	}
	st, err := s.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Offline || !s.Unreachable(23*time.Hour) || st.Depth < 100 || st.OldestAge < 23*time.Hour || st.LastError == "" || st.Batches.Error < 200 || st.Acked != 20 {
		t.Fatalf("during the outage: %+v", st)
	}
	for _, d := range h.clk.slept() {
		if d > DefaultBackoffMax || d < DefaultBackoffMin/2 {
			t.Fatalf("slept %v, outside the backoff's bounds", d)
		}
	}
	if n := len(h.clk.slept()); n > 400 {
		t.Fatalf("%d attempts in 24 h: backoff not capped at 5 min", n)
	}
	h.rcv.set(func(r *receiver) { r.down = false })
	h.waitSynced()
	if s.Unreachable(time.Hour) {
		t.Fatal("still unreachable after the server came back")
	}
}

// TestFaults: each fault ends with both sides holding the same records,
// each seq applied once.
func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness)
		check func(t *testing.T, h *harness, st Status)
	}{
		{
			name:  "commit then connection dropped",
			setup: func(h *harness) { h.rcv.dropCommits = 3 },
			check: func(t *testing.T, h *harness, st Status) {
				if h.rcv.replays < 3 {
					t.Errorf("%d replays answered, want 3", h.rcv.replays)
				}
				// The resends were the same bytes.
				for first, bs := range h.rcv.bodies {
					for _, b := range bs[1:] {
						if string(b) != string(bs[0]) {
							t.Errorf("batch %d resent with other bytes", first)
						}
					}
				}
			},
		},
		{
			name: "commit then no answer before the timeout",
			setup: func(h *harness) {
				h.cfg.Timeout = 200 * time.Millisecond
				h.rcv.slowCommits, h.rcv.stall = 2, time.Second
			},
			check: func(t *testing.T, h *harness, st Status) {
				if h.rcv.replays < 2 || st.Batches.Error < 2 {
					t.Errorf("replays %d, errors %d", h.rcv.replays, st.Batches.Error)
				}
			},
		},
		{
			// Before, a batch that always timed out was resent as it was
			// for ever; now two timeouts halve it.
			name: "link too slow for a large batch",
			setup: func(h *harness) {
				h.cfg.Timeout = 200 * time.Millisecond
				h.rcv.slowOver, h.rcv.stall = 10, 400*time.Millisecond
			},
			check: func(t *testing.T, h *harness, st Status) {
				if st.Batches.Error < 2 {
					t.Errorf("errors %d, want the timeouts counted", st.Batches.Error)
				}
				for first, bs := range h.rcv.bodies {
					var b wireBatch
					if err := json.Unmarshal(bs[0], &b); err != nil || len(b.Entries) > 10 {
						t.Errorf("batch %d applied with %d entries, over the link's 10", first, len(b.Entries))
					}
				}
			},
		},
		{
			name:  "duplicated and reordered batches",
			setup: func(h *harness) { h.rcv.staleReplay = true },
			check: func(t *testing.T, h *harness, st Status) {
				if h.rcv.replays < 3 {
					t.Errorf("%d stale copies seen", h.rcv.replays)
				}
			},
		},
		{
			name: "5xx",
			setup: func(h *harness) {
				h.rcv.answers = []fault{{status: 500}, {status: 502}}
			},
			check: func(t *testing.T, h *harness, st Status) {
				if st.Batches.Error != 2 {
					t.Errorf("errors %d", st.Batches.Error)
				}
			},
		},
		{
			name: "answers outside the protocol",
			setup: func(h *harness) {
				// Not JSON; no acked; a 200 that does not cover the
				// batch (the box asks the cursor again); a 404.
				h.rcv.answers = []fault{{status: 200}, {status: 200, body: `{}`}, {status: 200, body: `{"acked":1}`}, {status: 404}}
			},
			check: func(t *testing.T, h *harness, st Status) {
				if st.Batches.Error != 4 || st.Batches.OK == 0 {
					t.Errorf("batches %+v", st.Batches)
				}
			},
		},
		{
			name: "busy with Retry-After",
			setup: func(h *harness) {
				h.rcv.answers = []fault{{status: 429, retryAfter: "7"}, {status: 503, retryAfter: "120"}, {status: 503}, {status: 429, retryAfter: "99999"}}
			},
			check: func(t *testing.T, h *harness, st Status) {
				got := h.clk.slept()
				want := []time.Duration{7 * time.Second, 120 * time.Second, DefaultBackoffMin * 3 / 4, maxRetryAfter}
				if len(got) < len(want) {
					t.Fatalf("slept %v", got)
				}
				for i, w := range want {
					if got[i] != w {
						t.Errorf("sleep %d = %v, want %v (all %v)", i, got[i], w, got)
					}
				}
				if st.Batches.Busy != 4 {
					t.Errorf("busy %d", st.Batches.Busy)
				}
			},
		},
		{
			name: "gap after a stale cursor",
			// The first GET answers a cursor above the truth (a stale
			// read): the box sends from there, gets 409 and the real
			// cursor, and resends from it. Nothing was freed on the stale
			// word alone.
			setup: func(h *harness) { h.rcv.cursorLie = []uint64{50} },
			check: func(t *testing.T, h *harness, st Status) {
				if st.Batches.Gap != 1 {
					t.Errorf("gaps %d", st.Batches.Gap)
				}
			},
		},
		{
			name: "replay after a stale low cursor",
			setup: func(h *harness) {
				// The server has 1..60 already; its first GET says 10.
				h.rcv.cursorLie = []uint64{10}
				h.preSync = 60
			},
			check: func(t *testing.T, h *harness, st Status) {
				if st.Batches.Replay == 0 {
					t.Errorf("no replay counted: %+v", st.Batches)
				}
			},
		},
		{
			name: "413 halves the batch",
			setup: func(h *harness) {
				h.rcv.maxBody = 10 * 1024
			},
			check: func(t *testing.T, h *harness, st Status) {
				if st.Batches.Error == 0 {
					t.Error("no 413 seen: the case tests nothing")
				}
				for _, b := range h.rcv.history {
					if len(b) > 10*1024 {
						t.Errorf("a batch of %d bytes was applied", len(b))
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.put(ids("f", 0, 150)...)
			h.put(ids("f", 20, 30)...)
			h.rcv.mu.Lock()
			tt.setup(h)
			if h.preSync > 0 {
				if _, _, err := h.rcv.apply(h.encodeRange(1, h.preSync)); err != nil {
					t.Fatal(err)
				}
			}
			h.rcv.mu.Unlock()
			s, stop := h.start()
			h.put(ids("f", 140, 30)...) // records keep coming
			h.waitSynced()
			st, err := s.Status(context.Background())
			stop()
			if err != nil {
				t.Fatal(err)
			}
			h.rcv.mu.Lock()
			defer h.rcv.mu.Unlock()
			tt.check(t, h, st)
		})
	}
}

// TestKillMidBatch stops the box (sender cancelled, store closed) while a
// batch is in flight, before or after the server committed it, and starts
// it again on the reopened store: no seq is reused, nothing is lost or
// applied twice.
func TestKillMidBatch(t *testing.T) {
	for _, after := range []bool{false, true} {
		t.Run(fmt.Sprintf("committed=%v", after), func(t *testing.T) {
			h := newHarness(t)
			h.put(ids("k", 0, 100)...)
			hold, held := make(chan struct{}), make(chan struct{}, 1)
			h.rcv.set(func(r *receiver) {
				if after {
					r.hold, r.held, r.holdAfter = hold, held, true
				} else {
					// Before the commit: answer nothing, apply nothing.
					r.answers = nil
					r.down = true
				}
			})
			_, stop := h.start()
			if after {
				<-held
			} else {
				for len(h.clk.slept()) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			stop()
			if err := h.store.Close(); err != nil {
				t.Fatal(err)
			}
			h.rcv.set(func(r *receiver) { r.hold, r.down = nil, false })
			if after {
				close(hold)
			}
			h.open()
			st, err := h.store.OutboxStats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.Next != 101 {
				t.Fatalf("after reopen next seq %d, want 101", st.Next)
			}
			h.put(ids("k", 90, 20)...) // new seqs 101..120
			_, stop = h.start()
			defer stop()
			h.waitSynced()
			h.rcv.mu.Lock()
			defer h.rcv.mu.Unlock()
			if h.rcv.cursor != 120 {
				t.Fatalf("server cursor %d, want 120", h.rcv.cursor)
			}
		})
	}
}

// TestServerAhead: a server whose cursor is past every seq the box issued
// (a reinstalled box with an old token) is refused, not believed.
func TestServerAhead(t *testing.T) {
	h := newHarness(t)
	h.put(ids("z", 0, 5)...)
	h.rcv.set(func(r *receiver) { r.cursor = 1000 })
	s, stop := h.start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := s.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.LastError != "" {
			if !strings.Contains(st.LastError, ErrServerAhead.Error()) {
				t.Fatalf("last error %q", st.LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no error")
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	if st, _ := h.store.OutboxStats(context.Background()); st.Depth != 5 || st.Acked != 0 {
		t.Fatalf("entries freed on the server's word: %+v", st)
	}
}

// TestBadToken: a 401 is an error, retried with backoff, and the box
// becomes offline past the threshold.
func TestBadToken(t *testing.T) {
	h := newHarness(t)
	h.cfg.Token = "stb_wrong"
	h.put(ids("b", 0, 3)...)
	s, stop := h.start()
	defer stop()
	for h.clk.now().Sub(s.started) < 20*time.Minute {
		time.Sleep(time.Millisecond)
	}
	if !s.Unreachable(15 * time.Minute) {
		t.Fatal("not offline after 20 min of 401")
	}
	st, _ := s.Status(context.Background())
	if !strings.Contains(st.LastError, "401") || st.Depth != 3 {
		t.Fatalf("status %+v", st)
	}
}

// waitAcked waits until the sender has taken the acknowledgement of seq
// (it records it just after the store freed the entries).
func waitAcked(t *testing.T, s *Sender, seq uint64) Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := s.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Acked >= seq || time.Now().After(deadline) {
			return st
		}
		time.Sleep(time.Millisecond)
	}
}
