package storage

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// outboxAll returns every unacknowledged entry.
func outboxAll(t *testing.T, s *Store, after uint64) []OutboxEntry {
	t.Helper()
	var es []OutboxEntry
	err := s.OutboxAfter(context.Background(), after, maxOutboxBatch, func(e OutboxEntry) error {
		es = append(es, e)
		return nil
	})
	if err != nil {
		t.Fatalf("OutboxAfter: %v", err)
	}
	return es
}

func TestOutboxAppend(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	a := fullCall("a", march)
	b := fullCall("b", march.Add(time.Second))
	// One batch with a repeated id, then PutCall, then PutProgress: each
	// write gets its own seq and bumps its record's revision.
	a2 := a
	a2.EndDetail = "second"
	if err := s.PutCalls(ctx, []sip.Call{a, b, a2}); err != nil {
		t.Fatal(err)
	}
	b2 := b
	b2.InviteAt = b.InviteAt.Add(time.Minute) // moves the primary key
	if err := s.PutCall(ctx, b2); err != nil {
		t.Fatal(err)
	}
	c := fullCall("c", march.Add(2*time.Second))
	// A call in progress is provisional (kept apart, not a record): no
	// entry. Its final record, through PutProgress too, gets one.
	if err := s.PutProgress(ctx, []sip.Call{c}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutProgress(ctx, nil, []sip.Call{c}); err != nil {
		t.Fatal(err)
	}
	es := outboxAll(t, s, 0)
	want := []struct {
		id       string
		rev, cur uint64
	}{{"a", 1, 2}, {"b", 1, 2}, {"a", 2, 2}, {"b", 2, 2}, {"c", 1, 1}}
	if len(es) != len(want) {
		t.Fatalf("%d entries, want %d", len(es), len(want))
	}
	for i, w := range want {
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			e := es[i]
			if e.Seq != uint64(i+1) || e.RecordID != w.id || e.Revision != w.rev || e.Current != w.cur {
				t.Fatalf("entry %+v, want seq %d %+v", e, i+1, w)
			}
			var got sip.Call
			if err := json.Unmarshal(e.Record, &got); err != nil {
				t.Fatal(err)
			}
			// The record read is the current one, not the one of the write.
			cur, err := s.Call(ctx, w.id)
			if err != nil {
				t.Fatal(err)
			}
			if got.EndDetail != cur.EndDetail || !got.InviteAt.Equal(cur.InviteAt) {
				t.Fatalf("record %+v, want the current %+v", got, cur)
			}
			if e.At.IsZero() || time.Since(e.At) > time.Minute {
				t.Fatalf("entry stamped %v", e.At)
			}
		})
	}
	if rev, err := s.Revision(ctx, "a"); err != nil || rev != 2 {
		t.Fatalf("Revision(a) = %d, %v; want 2", rev, err)
	}
	st, err := s.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth != 5 || st.Next != 6 || st.Acked != 0 || !st.Oldest.Equal(es[0].At) {
		t.Fatalf("stats %+v", st)
	}
}

func TestOutboxAck(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	// Past one deletion chunk, so AckOutbox loops.
	const n = ackChunk + 250
	cs := make([]sip.Call, n)
	for i := range cs {
		cs[i] = fullCall(fmt.Sprintf("r%05d", i), march.Add(time.Duration(i)*time.Second))
	}
	if err := s.PutCalls(ctx, cs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		ack       uint64
		err       error
		wantAcked uint64
	}{
		{"part", 10, nil, 10},
		{"lower changes nothing", 3, nil, 10},
		{"past one chunk", ackChunk + 100, nil, ackChunk + 100},
		{"not issued", n + 1, ErrOutboxSeq, ackChunk + 100},
		{"all", n, nil, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.AckOutbox(ctx, tt.ack)
			if !errors.Is(err, tt.err) {
				t.Fatalf("AckOutbox(%d) = %v, want %v", tt.ack, err, tt.err)
			}
			st, err := s.OutboxStats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Acked != tt.wantAcked || st.Depth != n-tt.wantAcked {
				t.Fatalf("stats %+v, want acked %d", st, tt.wantAcked)
			}
			// Entries at or below the cursor are gone, the rest remain.
			es := outboxAll(t, s, 0)
			if uint64(len(es)) != n-tt.wantAcked || (len(es) > 0 && es[0].Seq != tt.wantAcked+1) {
				t.Fatalf("%d entries left, want %d from %d", len(es), n-tt.wantAcked, tt.wantAcked+1)
			}
		})
	}
	// A record written after the acks continues the seq.
	if err := s.PutCall(ctx, cs[0]); err != nil {
		t.Fatal(err)
	}
	es := outboxAll(t, s, n)
	if len(es) != 1 || es[0].Seq != n+1 || es[0].Revision != 2 {
		t.Fatalf("after acks: %+v", es)
	}
	st, _ := s.OutboxStats(ctx)
	if st.Depth != 1 {
		t.Fatalf("depth %d", st.Depth)
	}
}

func TestOutboxAfterBounds(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	for i := range 5 {
		if err := s.PutCall(ctx, fullCall(fmt.Sprint(i), march)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		after      uint64
		max        int
		err        error
		first, cnt int
	}{
		{"from start", 0, 2, nil, 1, 2},
		{"middle", 2, 10, nil, 3, 3},
		{"past end", 5, 10, nil, 0, 0},
		{"max seq", ^uint64(0), 10, nil, 0, 0},
		{"zero max", 0, 0, ErrOption, 0, 0},
		{"huge max", 0, maxOutboxBatch + 1, ErrOption, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seqs []uint64
			err := s.OutboxAfter(ctx, tt.after, tt.max, func(e OutboxEntry) error {
				seqs = append(seqs, e.Seq)
				return nil
			})
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if len(seqs) != tt.cnt || (tt.cnt > 0 && seqs[0] != uint64(tt.first)) {
				t.Fatalf("seqs %v", seqs)
			}
		})
	}
	stop := errors.New("stop")
	err := s.OutboxAfter(ctx, 0, 10, func(OutboxEntry) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("fn error: %v", err)
	}
}

func TestOutboxReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.PutCall(ctx, fullCall(fmt.Sprint(i), march)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AckOutbox(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	// Every entry acknowledged and deleted: the seq still continues.
	if err := s.PutCall(ctx, fullCall("0", march)); err != nil {
		t.Fatal(err)
	}
	es := outboxAll(t, s, 0)
	if len(es) != 1 || es[0].Seq != 4 || es[0].Revision != 2 {
		t.Fatalf("after reopen: %+v", es)
	}
	if c, err := s.OutboxCursor(ctx); err != nil || c != 3 {
		t.Fatalf("cursor %d, %v", c, err)
	}
}

const envOutboxCrashDir = "SWITCHTAP_STORAGE_OUTBOX_CRASH_DIR"

// TestOutboxCrashHelper is the child of TestOutboxKill9: it writes batches
// of records (some ids again) until killed, printing "put <n>" after each
// batch returned, where n is the number of writes so far.
func TestOutboxCrashHelper(t *testing.T) {
	dir := os.Getenv(envOutboxCrashDir)
	if dir == "" {
		t.Skip("outbox crash helper: only run by TestOutboxKill9")
	}
	s, err := Open(dir, WithLogger(discard()))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := context.Background()
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i += 10 {
		cs := make([]sip.Call, 10)
		for j := range cs {
			// Every id comes back three times in all: revisions 1..3.
			cs[j] = fullCall(fmt.Sprintf("k%06d", (i+j)/3), march)
		}
		if err := s.PutCalls(ctx, cs); err != nil {
			t.Fatalf("PutCalls: %v", err)
		}
		fmt.Fprintf(w, "put %d\n", i+10)
		w.Flush()
	}
}

// TestOutboxKill9 kills a writer with SIGKILL in the middle of its writes:
// the outbox then holds exactly the writes stored, with seqs 1..next-1 and
// no gap, every entry's record is there, each record's revision is the
// number of its entries, and the next write continues the seq.
func TestOutboxKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxCrashHelper$")
	cmd.Env = append(os.Environ(), envOutboxCrashDir+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	confirmed := 0
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "put "); ok {
			fmt.Sscan(n, &confirmed)
			if confirmed >= 300 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if confirmed < 300 {
		t.Fatalf("child confirmed only %d writes", confirmed)
	}
	ctx := context.Background()
	s := openStore(t, dir)
	st, err := s.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := int(st.Next - 1)
	// Whole batches only: the kill may come after more batches than
	// confirmed, never in the middle of one.
	if stored < confirmed || stored%10 != 0 {
		t.Fatalf("%d writes in the outbox, %d confirmed", stored, confirmed)
	}
	es := outboxAll(t, s, 0)
	revs := map[string]uint64{}
	for i, e := range es {
		if e.Seq != uint64(i+1) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
		revs[e.RecordID]++
		if e.Revision != revs[e.RecordID] {
			t.Fatalf("entry %d of %s has revision %d, want %d", e.Seq, e.RecordID, e.Revision, revs[e.RecordID])
		}
	}
	if len(es) != stored {
		t.Fatalf("%d entries, stats say %d", len(es), stored)
	}
	for id, n := range revs {
		if rev, err := s.Revision(ctx, id); err != nil || rev != n {
			t.Fatalf("Revision(%s) = %d, %v; want %d", id, rev, err, n)
		}
	}
	if err := s.PutCall(ctx, fullCall("after", march)); err != nil {
		t.Fatal(err)
	}
	if es := outboxAll(t, s, uint64(stored)); len(es) != 1 || es[0].Seq != uint64(stored+1) {
		t.Fatalf("after the crash: %+v", es)
	}
}

// TestOutboxKeyPrefixes: the outbox's keys share no prefix with the other
// kinds of keys, so no scan of one kind meets the other.
func TestOutboxKeyPrefixes(t *testing.T) {
	others := []string{prefixCall, prefixIndex, prefixKeep, prefixDeleted, prefixMsgs, prefixCID, prefixKV, prefixAgg, prefixOpen}
	for _, p := range []string{prefixOutbox, prefixRev, keyNextSeq, keyCursor, keyPruned} {
		for _, q := range others {
			if strings.HasPrefix(p, q) || strings.HasPrefix(q, p) {
				t.Errorf("outbox key %q and prefix %q overlap", p, q)
			}
		}
	}
}

// BenchmarkAppendOutbox is the outbox's own cost inside PutCalls, without
// the commit and its fsync (which dominate PutCalls): 100 records' entries
// in one transaction, over a store that already holds the ids.
func BenchmarkAppendOutbox(b *testing.B) {
	s := openStore(b, b.TempDir())
	ctx := context.Background()
	ids := make([]string, 100)
	cs := make([]sip.Call, len(ids))
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%07d", i)
		cs[i] = fullCall(ids[i], march)
	}
	if err := s.PutCalls(ctx, cs); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		txn := s.db.NewTransaction(true)
		for _, id := range ids {
			if err := appendOutbox(txn, id, now); err != nil {
				b.Fatal(err)
			}
		}
		txn.Discard()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/record")
}
