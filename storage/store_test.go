package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore opens a store in dir and closes it at the end of the test.
func openStore(t testing.TB, dir string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(dir, append([]Option{WithLogger(discard())}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func ptr[T any](v T) *T { return &v }

// fullCall returns a record with every field set, ~900 bytes of JSON.
func fullCall(id string, at time.Time) sip.Call {
	return sip.Call{
		ID:              id,
		CallID:          "a84b4c76e66710@pc33.example.gob.sv;" + id,
		From:            "22447700",
		To:              "2244",
		FromName:        "Ministerio de Hacienda, Ventanilla 3",
		Direction:       sip.DirectionInbound,
		Operator:        "Recepción 1",
		InviteAt:        at,
		RingingAt:       ptr(at.Add(120 * time.Millisecond)),
		AnsweredAt:      ptr(at.Add(9*time.Second + 1)),
		EndedAt:         ptr(at.Add(3*time.Minute + 7*time.Nanosecond)),
		EndReason:       sip.EndCompleted,
		EndDetail:       "200",
		HangupBy:        "caller",
		RingSource:      "180",
		RingSeconds:     8.880000001,
		Rings:           2,
		WithinLimit:     true,
		ReplacesCallID:  "old-dialog@192.0.2.10",
		ReferredBy:      "2245",
		Transport:       "udp",
		SrcIP:           "192.0.2.10",
		DstIP:           "198.51.100.20",
		VLAN:            20,
		Retransmissions: 3,
		ReInvites:       1,
		Transfer: &sip.Transfer{
			Kind:           "attended",
			RequestedAt:    at.Add(time.Minute),
			Target:         "2250",
			AcceptedAt:     ptr(at.Add(time.Minute + time.Millisecond)),
			CompletedAt:    ptr(at.Add(time.Minute + 2*time.Second)),
			Result:         "completed",
			TargetCallID:   "target@192.0.2.11",
			ReplacesCallID: "consult@192.0.2.11",
		},
		Recording: &sip.Recording{
			File:            "2026/03/" + id + ".wav",
			DurationSeconds: 171.02,
			Caller:          &sip.StreamRecording{Codec: "PCMA", Packets: 8551, Lost: 2},
			Callee:          &sip.StreamRecording{Codec: "PCMA", Packets: 8549},
			NotRecordable:   "",
		},
	}
}

// scanIDs returns the ids of Calls(from, to) in scan order.
func scanIDs(t *testing.T, s *Store, from, to time.Time) []string {
	t.Helper()
	var ids []string
	err := s.Calls(context.Background(), from, to, func(c sip.Call) error {
		ids = append(ids, c.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("Calls: %v", err)
	}
	return ids
}

var march = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func TestRoundTrip(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	want := fullCall("rt-1", march.Add(36*time.Hour+123456789))
	minimal := sip.Call{ID: "rt-2", InviteAt: march, EndReason: sip.EndUnknown}
	if err := s.PutCalls(ctx, []sip.Call{want, minimal}); err != nil {
		t.Fatalf("PutCalls: %v", err)
	}
	for _, w := range []sip.Call{want, minimal} {
		got, err := s.Call(ctx, w.ID)
		if err != nil {
			t.Fatalf("Call(%s): %v", w.ID, err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("Call(%s) =\n%+v\nwant\n%+v", w.ID, got, w)
		}
	}
	var scanned []sip.Call
	if err := s.Calls(ctx, march, march.AddDate(0, 1, 0), func(c sip.Call) error {
		scanned = append(scanned, c)
		return nil
	}); err != nil {
		t.Fatalf("Calls: %v", err)
	}
	if !reflect.DeepEqual(scanned, []sip.Call{minimal, want}) {
		t.Errorf("Calls = %+v, want [minimal, full]", scanned)
	}
}

func TestCallsMonth(t *testing.T) {
	s := openStore(t, t.TempDir())
	april := march.AddDate(0, 1, 0)
	cases := []struct {
		id string
		at time.Time
		in bool
	}{
		{"feb-last-ns", march.Add(-time.Nanosecond), false},
		{"feb", march.Add(-48 * time.Hour), false},
		{"mar-start-b", march, true},
		{"mar-start-a", march, true},
		{"mar-mid", march.Add(15 * 24 * time.Hour), true},
		{"mar-mid-local", march.Add(15*24*time.Hour + time.Second).In(time.FixedZone("CST", -6*3600)), true},
		{"mar-last-ns", april.Add(-time.Nanosecond), true},
		{"apr-start", april, false},
		{"apr", april.Add(time.Hour), false},
		{"epoch", time.Unix(0, 0), false},
	}
	var all []sip.Call
	for i := len(cases) - 1; i >= 0; i-- {
		all = append(all, fullCall(cases[i].id, cases[i].at))
	}
	if err := s.PutCalls(context.Background(), all); err != nil {
		t.Fatalf("PutCalls: %v", err)
	}
	want := []string{"mar-start-a", "mar-start-b", "mar-mid", "mar-mid-local", "mar-last-ns"}
	if got := scanIDs(t, s, march, april); !slices.Equal(got, want) {
		t.Errorf("March = %q, want %q", got, want)
	}
	if got := scanIDs(t, s, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)); len(got) != len(cases) {
		t.Errorf("all time = %q, want %d records", got, len(cases))
	}
	if got := scanIDs(t, s, april, march); len(got) != 0 {
		t.Errorf("reversed range = %q, want none", got)
	}
	if got := scanIDs(t, s, march, march); len(got) != 0 {
		t.Errorf("empty range = %q, want none", got)
	}
}

func TestPutIdempotent(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	first := fullCall("x", march.Add(time.Hour))
	moved := fullCall("x", march.Add(-time.Hour)) // earlier, in February
	moved.EndDetail = "486"
	for _, c := range []sip.Call{first, first, moved, moved} {
		if err := s.PutCall(ctx, c); err != nil {
			t.Fatalf("PutCall: %v", err)
		}
	}
	// Within one batch, the later record wins, also when invite_at moves.
	batch := []sip.Call{fullCall("y", march.Add(time.Minute)), fullCall("y", march.Add(2*time.Minute)), fullCall("z", march)}
	batch[1].Operator = "last"
	if err := s.PutCalls(ctx, batch); err != nil {
		t.Fatalf("PutCalls: %v", err)
	}
	all := scanIDs(t, s, time.Unix(0, 0), march.AddDate(1, 0, 0))
	if want := []string{"x", "z", "y"}; !slices.Equal(all, want) {
		t.Fatalf("all records = %q, want %q", all, want)
	}
	got, err := s.Call(ctx, "x")
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if !got.InviteAt.Equal(moved.InviteAt) || got.EndDetail != "486" {
		t.Errorf("Call(x) = %v %q, want the re-put record", got.InviteAt, got.EndDetail)
	}
	if got, _ := s.Call(ctx, "y"); got.Operator != "last" {
		t.Errorf("Call(y).Operator = %q, want the later record of the batch", got.Operator)
	}
	if w := s.Stats().Written; w != 7 {
		t.Errorf("Stats.Written = %d, want 7", w)
	}
}

// TestConcurrentPutSameID checks the writer lock: with conflict detection
// off, unserialised puts of one id at different times would leave several
// records.
func TestConcurrentPutSameID(t *testing.T) {
	s := openStore(t, t.TempDir())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				c := fullCall("same", march.Add(time.Duration(g*10+i)*time.Second))
				if err := s.PutCall(context.Background(), c); err != nil {
					t.Errorf("PutCall: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if got := scanIDs(t, s, march, march.AddDate(0, 1, 0)); len(got) != 1 {
		t.Errorf("records of one id = %d, want 1", len(got))
	}
}

func TestPutRejects(t *testing.T) {
	s := openStore(t, t.TempDir())
	cases := []struct {
		name string
		c    sip.Call
		want error
	}{
		{"zero time", sip.Call{ID: "a"}, ErrInviteAt},
		{"before 1970", sip.Call{ID: "a", InviteAt: time.Unix(0, -1)}, ErrInviteAt},
		{"after 2262", sip.Call{ID: "a", InviteAt: time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrInviteAt},
		{"empty id", sip.Call{InviteAt: march}, ErrID},
		{"long id", sip.Call{ID: strings.Repeat("i", maxIDLen+1), InviteAt: march}, ErrID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A bad record fails the whole batch before anything is written.
			err := s.PutCalls(context.Background(), []sip.Call{fullCall("good", march), tc.c})
			if !errors.Is(err, tc.want) {
				t.Fatalf("PutCalls = %v, want %v", err, tc.want)
			}
		})
	}
	if w := s.Stats().Written; w != 0 {
		t.Errorf("Stats.Written = %d, want 0", w)
	}
	if _, err := s.Call(context.Background(), "good"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Call(good) = %v, want ErrNotFound", err)
	}
	// The last valid nanosecond is accepted.
	if err := s.PutCall(context.Background(), sip.Call{ID: "max", InviteAt: maxInvite}); err != nil {
		t.Errorf("PutCall at %v: %v", maxInvite, err)
	}
	if got := scanIDs(t, s, march, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)); !slices.Equal(got, []string{"max"}) {
		t.Errorf("scan to year 3000 = %q, want [max]", got)
	}
}

func TestNotFound(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	if err := s.PutCall(ctx, fullCall("present", march)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		id   string
		want error
	}{
		{"absent", ErrNotFound},
		{"presen", ErrNotFound},
		{"present2", ErrNotFound},
		{"", ErrID},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			if _, err := s.Call(ctx, tc.id); !errors.Is(err, tc.want) {
				t.Errorf("Call(%q) = %v, want %v", tc.id, err, tc.want)
			}
		})
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir, WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 300 {
		id := fmt.Sprintf("c%03d", i)
		want = append(want, id)
		if err := s.PutCall(ctx, fullCall(id, march.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.PutCall(ctx, fullCall("late", march)); err == nil {
		t.Errorf("PutCall after Close succeeded")
	}

	s = openStore(t, dir)
	if got := scanIDs(t, s, march, march.AddDate(0, 1, 0)); !slices.Equal(got, want) {
		t.Fatalf("after reopen: %d records, want %d", len(got), len(want))
	}
	for _, id := range want {
		c, err := s.Call(ctx, id)
		if err != nil {
			t.Fatalf("Call(%s): %v", id, err)
		}
		if !reflect.DeepEqual(c, fullCall(id, c.InviteAt)) {
			t.Fatalf("Call(%s) differs after reopen", id)
		}
	}
	if w := s.Stats().Written; w != 0 {
		t.Errorf("Stats.Written after reopen = %d, want 0 (counts since open)", w)
	}
}

func TestCallsStops(t *testing.T) {
	s := openStore(t, t.TempDir())
	var cs []sip.Call
	for i := range 100 {
		cs = append(cs, fullCall(fmt.Sprintf("s%03d", i), march.Add(time.Duration(i)*time.Second)))
	}
	if err := s.PutCalls(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stop")
	cases := []struct {
		name   string
		cancel bool
		want   error
	}{
		{"ctx cancelled", true, context.Canceled},
		{"fn error", false, errStop},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := 0
			err := s.Calls(ctx, march, march.AddDate(0, 1, 0), func(sip.Call) error {
				n++
				if n == 10 {
					if tc.cancel {
						cancel()
						return nil
					}
					return errStop
				}
				return nil
			})
			if !errors.Is(err, tc.want) {
				t.Errorf("Calls = %v, want %v", err, tc.want)
			}
			if n != 10 {
				t.Errorf("fn called %d times, want 10", n)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.PutCall(ctx, fullCall("late", march)); !errors.Is(err, context.Canceled) {
		t.Errorf("PutCall with done ctx = %v, want context.Canceled", err)
	}
}

// TestPutCallsTooBig writes a batch larger than one badger transaction
// (15% of the 8 MiB memtable): it must be split, not fail.
func TestPutCallsTooBig(t *testing.T) {
	s := openStore(t, t.TempDir())
	var cs []sip.Call
	for i := range 4000 {
		c := fullCall(fmt.Sprintf("big%04d", i), march.Add(time.Duration(i)*time.Second))
		if i%2 == 0 {
			// ~700 bytes, under the 1 KiB value threshold: the value is
			// inline in the LSM tree and counts fully against the batch.
			c.Transfer, c.Recording = nil, nil
		} else {
			c.FromName = strings.Repeat("n", 600) // ~1.7 KB: in the value log
		}
		cs = append(cs, c)
	}
	if err := s.PutCalls(context.Background(), cs); err != nil {
		t.Fatalf("PutCalls: %v", err)
	}
	if got := scanIDs(t, s, march, march.AddDate(0, 1, 0)); len(got) != len(cs) {
		t.Errorf("stored %d records, want %d", len(got), len(cs))
	}
	st := s.Stats()
	if st.Written != uint64(len(cs)) || st.VLogBytes == 0 || st.WALBytes == 0 {
		t.Errorf("Stats = %+v, want Written %d and non-zero vlog and WAL", st, len(cs))
	}
}

func TestRun(t *testing.T) {
	s := openStore(t, t.TempDir(), WithGCInterval(5*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().GCRuns < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("GCRuns = %d after 10 s, want >= 3", s.Stats().GCRuns)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil on cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestOpenBadOption(t *testing.T) {
	if _, err := Open(t.TempDir(), WithGCInterval(0)); !errors.Is(err, ErrOption) {
		t.Errorf("Open with gc interval 0 = %v, want ErrOption", err)
	}
}

// recordHandler keeps the levels and details of the records it gets.
type recordHandler struct {
	mu   sync.Mutex
	recs []string
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	var detail string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "detail" {
			detail = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Level.String()+" "+detail)
	return nil
}

func TestBadgerLogger(t *testing.T) {
	h := &recordHandler{}
	l := badgerLogger{log: slog.New(h)}
	l.Errorf("e %d\n", 1)
	l.Warningf("w %s", "x")
	l.Infof("i")
	l.Debugf("d")
	want := []string{"ERROR e 1", "WARN w x", "DEBUG i", "DEBUG d"}
	if !slices.Equal(h.recs, want) {
		t.Errorf("records = %q, want %q", h.recs, want)
	}

	// A real Open logs badger's INFO lines at Debug, none at Info or above.
	h = &recordHandler{}
	s, err := Open(t.TempDir(), WithLogger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(h.recs) == 0 {
		t.Errorf("no badger log records")
	}
	for _, r := range h.recs {
		if !strings.HasPrefix(r, "DEBUG ") {
			t.Errorf("record %q, want DEBUG", r)
		}
	}
}

func TestKeys(t *testing.T) {
	t1 := march
	t2 := march.Add(time.Nanosecond)
	if k1, k2 := callKey(t1, "zzz/zz"), callKey(t2, "a"); string(k1) >= string(k2) {
		t.Errorf("key at %v sorts after key at %v", t1, t2)
	}
	if k := callKey(maxInvite, "a"); string(k) < string(timeKey(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))) {
		t.Errorf("timeKey past the range does not clamp to the last key")
	}
	for _, id := range []string{"a", "with/slash", "x/"} {
		at, got, err := parseCallKey(callKey(t2, id))
		if err != nil || got != id || !at.Equal(t2) {
			t.Errorf("parseCallKey(callKey(%v, %q)) = %v, %q, %v", t2, id, at, got, err)
		}
	}
	for _, k := range []string{"", "call/", "call/12345678/", "call/12345678xid", "callid/12345678/x"} {
		if _, _, err := parseCallKey([]byte(k)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parseCallKey(%q) = %v, want ErrCorrupt", k, err)
		}
	}
}

// benchCall is record i of a benchmark: every other one small enough to sit
// inline in the LSM tree, the others (with transfer and recording) in the
// value log, as in a real month.
func benchCall(i int) sip.Call {
	c := fullCall(fmt.Sprintf("bench-%07d", i), march.Add(time.Duration(i)*100*time.Millisecond))
	if i%2 == 0 {
		c.Transfer, c.Recording = nil, nil
	}
	return c
}

func BenchmarkPutCall(b *testing.B) {
	s := openStore(b, b.TempDir())
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.PutCall(ctx, benchCall(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkPutCalls(b *testing.B) {
	const batch = 100
	s := openStore(b, b.TempDir())
	ctx := context.Background()
	cs := make([]sip.Call, batch)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for j := range cs {
			cs[j] = benchCall(i)
			i++
		}
		if err := s.PutCalls(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/record")
}

// BenchmarkCallsMonthScan scans a month that holds 10,000 records.
func BenchmarkCallsMonthScan(b *testing.B) {
	const n = 10_000
	s := openStore(b, b.TempDir())
	ctx := context.Background()
	for i := 0; i < n; i += 100 {
		cs := make([]sip.Call, 0, 100)
		for j := i; j < i+100; j++ {
			c := benchCall(j)
			// Spread over March, 267 s apart.
			c.InviteAt = march.Add(time.Duration(j) * 267 * time.Second)
			cs = append(cs, c)
		}
		if err := s.PutCalls(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		got := 0
		err := s.Calls(ctx, march, march.AddDate(0, 1, 0), func(sip.Call) error {
			got++
			return nil
		})
		if err != nil || got != n {
			b.Fatalf("Calls = %d records, %v; want %d", got, err, n)
		}
	}
}
