package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchtap/switchtap/sip"
)

// ladder returns n messages of a leg starting at at, each with raw text of
// size bytes, tagged so two ladders differ.
func ladder(at time.Time, n, size int, tag string) []sip.LegMessage {
	out := make([]sip.LegMessage, n)
	for i := range out {
		m := sip.LegMessage{
			At:  at.Add(time.Duration(i)*time.Second + time.Duration(i)*7),
			Src: "198.51.100.10:5060", Dst: "192.0.2.20:5060", Transport: "udp",
			CSeq: 1, CSeqMethod: "INVITE", FromCaller: i%2 == 0, Retransmission: i == 3,
		}
		if i%2 == 0 {
			m.Method = "INVITE"
		} else {
			m.Status, m.Reason = 180, "Ringing"
		}
		m.Raw = fmt.Sprintf("%s %d ñ\r\n", tag, i) + strings.Repeat("h", max(0, size-12))
		m.Size, m.Truncated = len(m.Raw)+1, true
		out[i] = m
	}
	return out
}

// withMessages returns c carrying msgs.
func withMessages(c sip.Call, msgs []sip.LegMessage) sip.Call {
	c.Messages = msgs
	return c
}

// keysWith returns every key of the store that starts with prefix.
func keysWith(t *testing.T, s *Store, prefix string) []string {
	t.Helper()
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, string(it.Item().KeyCopy(nil)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMessagesRoundTrip(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	at := march.Add(36*time.Hour + 123456789)
	msgs := ladder(at, 7, 600, "a")
	c := withMessages(fullCall("m-1", at), msgs)
	plain := fullCall("m-2", at.Add(time.Second))
	if err := s.PutCalls(ctx, []sip.Call{c, plain}); err != nil {
		t.Fatalf("PutCalls: %v", err)
	}
	got, err := s.Messages(ctx, "m-1")
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	if !reflect.DeepEqual(got, msgs) {
		t.Fatalf("Messages =\n%+v\nwant\n%+v", got, msgs)
	}
	for i := range msgs {
		if got[i].At.UnixNano() != msgs[i].At.UnixNano() {
			t.Errorf("message %d at %v, want %v", i, got[i].At, msgs[i].At)
		}
	}
	// The record itself is stored without them, as its JSON says.
	rec, err := s.Call(ctx, "m-1")
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	c.Messages = nil
	if !reflect.DeepEqual(rec, c) {
		t.Errorf("Call(m-1) =\n%+v\nwant\n%+v", rec, c)
	}
	for _, id := range []string{"m-2", "no-such-record"} {
		if got, err := s.Messages(ctx, id); got != nil || err != nil {
			t.Errorf("Messages(%s) = %v, %v; want nil, nil", id, got, err)
		}
	}
	if _, err := s.Messages(ctx, ""); !errors.Is(err, ErrID) {
		t.Errorf("Messages(\"\") = %v, want ErrID", err)
	}
}

func TestMessagesUpsert(t *testing.T) {
	at := march.Add(time.Hour)
	first, second := ladder(at, 3, 100, "first"), ladder(at, 5, 100, "second")
	tests := []struct {
		name    string
		batches [][]sip.Call
		want    []sip.LegMessage
	}{
		{"an upsert with messages replaces them",
			[][]sip.Call{{withMessages(fullCall("u", at), first)}, {withMessages(fullCall("u", at), second)}}, second},
		{"an upsert without messages keeps them",
			[][]sip.Call{{withMessages(fullCall("u", at), first)}, {fullCall("u", at)}}, first},
		{"within one batch too",
			[][]sip.Call{{withMessages(fullCall("u", at), first), withMessages(fullCall("u", at), second), fullCall("u", at)}}, second},
		{"an upsert that moves invite_at keeps them",
			[][]sip.Call{{withMessages(fullCall("u", at), first)}, {fullCall("u", at.Add(-time.Minute))}}, first},
		{"messages put after a record without",
			[][]sip.Call{{fullCall("u", at)}, {withMessages(fullCall("u", at), second)}}, second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			ctx := context.Background()
			for _, b := range tc.batches {
				if err := s.PutCalls(ctx, b); err != nil {
					t.Fatalf("PutCalls: %v", err)
				}
			}
			got, err := s.Messages(ctx, "u")
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Messages = %d messages, %v; want %d", len(got), err, len(tc.want))
			}
			if n := len(keysWith(t, s, prefixMsgs)); n != 1 {
				t.Errorf("%d msgs/ keys, want 1", n)
			}
		})
	}
}

func TestCallByCallID(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	long := strings.Repeat("L", 3*maxIDLen) // past the key's bound
	mk := func(id, callID string, at time.Time) sip.Call {
		c := fullCall(id, at)
		c.CallID = callID
		return c
	}
	put := []sip.Call{
		// Two attempts on one Call-ID (a redirect, then a new INVITE),
		// put newest first.
		mk("abc-2", "abc", march.Add(2*time.Hour)),
		mk("abc-1", "abc", march.Add(time.Hour)),
		// A Call-ID that extends "abc" with '/': newer, and its key's
		// shape fits under abc's prefix.
		mk("slash", "abc/12345678", march.Add(3*time.Hour)),
		mk("slash2", "abc/"+string(make([]byte, 8))+"/x", march.Add(4*time.Hour)),
		// Worst case: the entry of Call-ID "abc/AAAAAAAA" parses, under
		// "abc"'s prefix, to the id of an existing record of another
		// Call-ID; only the record's call_id tells them apart.
		// (Its invite_at is "01234567" as big-endian nanoseconds, in 2080.)
		mk("r", "abc/AAAAAAAA", time.Unix(0, 0x3031323334353637)),
		mk("01234567/r", "other", march),
		mk("long-1", long+"1", march.Add(time.Minute)),
		mk("long-2", long+"2", march.Add(2*time.Minute)),
	}
	if err := s.PutCalls(ctx, put); err != nil {
		t.Fatalf("PutCalls: %v", err)
	}
	tests := []struct {
		callID string
		want   string // record id, "" for ErrNotFound
	}{
		{"abc", "abc-2"},
		{"abc/12345678", "slash"},
		{"abc/" + string(make([]byte, 8)) + "/x", "slash2"},
		{long + "1", "long-1"},
		{long + "2", "long-2"},
		{long, ""},
		{"ab", ""},
		{"nobody", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%.20q", tc.callID), func(t *testing.T) {
			c, err := s.CallByCallID(ctx, tc.callID)
			if tc.want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("CallByCallID = %s, %v; want ErrNotFound", c.ID, err)
				}
				return
			}
			if err != nil || c.ID != tc.want || c.CallID != tc.callID {
				t.Fatalf("CallByCallID = %s, %v; want %s", c.ID, err, tc.want)
			}
		})
	}
	for _, k := range keysWith(t, s, prefixCID) {
		if len(k) > len(prefixCID)+maxCallIDKey+1+tsLen+1+maxIDLen {
			t.Errorf("cid key of %d bytes", len(k))
		}
	}
}

// TestCallIDIndexMoves: an upsert that moves invite_at, or changes the
// Call-ID, leaves one index entry, the right one.
func TestCallIDIndexMoves(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	c := fullCall("mv", march.Add(time.Hour))
	moved := c
	moved.InviteAt = march.Add(-time.Hour)
	renamed := moved
	renamed.CallID = "renamed@192.0.2.1"
	for i, step := range []struct {
		put    []sip.Call
		callID string
	}{
		{[]sip.Call{c}, c.CallID},
		{[]sip.Call{moved}, c.CallID},
		{[]sip.Call{moved}, c.CallID},
		{[]sip.Call{renamed}, renamed.CallID},
		{[]sip.Call{c, moved, renamed, c}, c.CallID}, // one batch: the last wins
	} {
		if err := s.PutCalls(ctx, step.put); err != nil {
			t.Fatalf("step %d: PutCalls: %v", i, err)
		}
		last := step.put[len(step.put)-1]
		keys := keysWith(t, s, prefixCID)
		if want := string(cidKey(step.callID, last.InviteAt, "mv")); len(keys) != 1 || keys[0] != want {
			t.Fatalf("step %d: cid keys %q, want [%q]", i, keys, want)
		}
		got, err := s.CallByCallID(ctx, step.callID)
		if err != nil || !got.InviteAt.Equal(last.InviteAt) {
			t.Fatalf("step %d: CallByCallID = %v, %v", i, got.InviteAt, err)
		}
	}
	if _, err := s.CallByCallID(ctx, renamed.CallID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the Call-ID the record no longer has still finds it: %v", err)
	}
}

// TestKeyPrefixes: no key prefix starts another, so every prefix scan
// (the month scan above all) sees only its own keys, with messages and
// Call-ID index entries stored beside the records.
func TestKeyPrefixes(t *testing.T) {
	prefixes := []string{prefixCall, prefixIndex, prefixKeep, prefixDeleted, prefixMsgs, prefixCID, "kv/", prefixOutbox, prefixRev, "uplink/", prefixAgg, prefixOpen}
	for _, p := range prefixes {
		for _, q := range prefixes {
			if p != q && strings.HasPrefix(p, q) {
				t.Errorf("prefix %q starts with %q", p, q)
			}
		}
	}
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	var want []string
	var cs []sip.Call
	for i := range 50 {
		// Ids and Call-IDs that look like other keys.
		id := fmt.Sprintf("call/%02d", i)
		c := withMessages(fullCall(id, march.Add(time.Duration(i)*time.Hour)), ladder(march, 4, 200, id))
		c.CallID = "callid/" + id
		cs = append(cs, c)
		want = append(want, id)
	}
	if err := s.PutCalls(ctx, cs); err != nil {
		t.Fatalf("PutCalls: %v", err)
	}
	if err := s.SetKeep(ctx, "call/00", "sampled 2026-03"); err != nil {
		t.Fatal(err)
	}
	if got := scanIDs(t, s, march, march.AddDate(0, 1, 0)); !slices.Equal(got, want) {
		t.Fatalf("month scan = %q, want %q", got, want)
	}
	counts := map[string]int{}
	for _, k := range keysWith(t, s, "") {
		n := 0
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				counts[p]++
				n++
			}
		}
		if n != 1 {
			t.Errorf("key %q under %d prefixes", k, n)
		}
	}
	if counts[prefixCall] != 50 || counts[prefixIndex] != 50 || counts[prefixMsgs] != 50 || counts[prefixCID] != 50 || counts[prefixKeep] != 1 {
		t.Errorf("keys by prefix %v", counts)
	}
}

// TestPutCallsTooBigWithMessages: a batch whose ladders exceed one badger
// transaction is split; every record keeps its own messages.
func TestPutCallsTooBigWithMessages(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	var cs []sip.Call
	// ~700 bytes of messages, under the 1 KiB value threshold: inline in
	// the LSM tree, they count fully against the batch (~1.2 MB).
	for i := range 3000 {
		id := fmt.Sprintf("big%04d", i)
		cs = append(cs, withMessages(fullCall(id, march.Add(time.Duration(i)*time.Second)), ladder(march, 2, 150, id)))
	}
	if err := s.PutCalls(ctx, cs); err != nil {
		t.Fatalf("PutCalls: %v", err)
	}
	for _, c := range cs {
		got, err := s.Messages(ctx, c.ID)
		if err != nil || !reflect.DeepEqual(got, c.Messages) {
			t.Fatalf("Messages(%s) = %d messages, %v", c.ID, len(got), err)
		}
	}
}

// benchLadder returns a source of answered calls' ladders as pcapgen
// writes them (testdata/ladder.json: INVITE and 200 with SDP, 100, 180,
// ACK, BYE, 200; 4.6 KB of JSON), so that what the store compresses is SIP
// as it is, not filler.
func benchLadder(tb testing.TB) func(i int) []sip.LegMessage {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ladder.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var tmpl []sip.LegMessage
	if err := json.Unmarshal(b, &tmpl); err != nil {
		tb.Fatal(err)
	}
	// Call i's own Call-ID, tags and branches: no two calls alike.
	return func(i int) []sip.LegMessage {
		h := fmt.Sprintf("%08x", uint32(i)*2654435761) //nolint:gosec // G115: a hash of the index
		r := strings.NewReplacer("load-0000000", fmt.Sprintf("bench-%07d", i),
			"c434eacf", h, "1ddede9e", h[4:]+h[:4], "eaab2cce", h[2:]+h[:2])
		out := make([]sip.LegMessage, len(tmpl))
		for j, m := range tmpl {
			m.Raw = r.Replace(m.Raw)
			m.Size = len(m.Raw)
			out[j] = m
		}
		return out
	}
}

// BenchmarkPutCallsMessages is BenchmarkPutCalls with each record carrying
// the ladder of an answered call, as the daemon stores them.
func BenchmarkPutCallsMessages(b *testing.B) {
	const batch = 100
	s := openStore(b, b.TempDir())
	ctx := context.Background()
	cs := make([]sip.Call, batch)
	ladders := benchLadder(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for j := range cs {
			cs[j] = withMessages(benchCall(i), ladders(i))
			i++
		}
		if err := s.PutCalls(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/record")
}

// BenchmarkPutCallUpsert re-puts one record (the re-emit of a leg whose
// transfer completed after it ended): the path that reads the old record's
// Call-ID.
func BenchmarkPutCallUpsert(b *testing.B) {
	s := openStore(b, b.TempDir())
	ctx := context.Background()
	c := withMessages(benchCall(1), benchLadder(b)(1))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.PutCall(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}
