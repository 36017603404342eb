package access

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// problems formats a report's problems as "seq:reason" lines.
func problems(rep VerifyReport) string {
	var s []string
	for _, p := range rep.Problems {
		s = append(s, fmt.Sprintf("%d:%s", p.Seq, p.Reason))
	}
	return strings.Join(s, "\n")
}

// editEntry rewrites entry seq with mod, recomputing its hash when rehash
// is set (a tamperer who knows the encoding).
func editEntry(t *testing.T, kv *memKV, seq uint64, rehash bool, mod func(*Entry)) {
	t.Helper()
	v, ok := kv.raw(string(auditKey(seq)))
	if !ok {
		t.Fatalf("no entry %d", seq)
	}
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil {
		t.Fatal(err)
	}
	mod(&e)
	if rehash {
		e.Hash = e.digest()
	}
	v, _ = json.Marshal(e)
	kv.put(string(auditKey(seq)), v)
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, kv *memKV)
		want   string // problems, "" for a clean chain
	}{
		{"clean", func(*testing.T, *memKV) {}, ""},
		{"edited", func(t *testing.T, kv *memKV) {
			editEntry(t, kv, 3, false, func(e *Entry) { e.Actor = "mallory" })
		}, "3:hash does not match the content: edited"},
		{"edited and rehashed", func(t *testing.T, kv *memKV) {
			editEntry(t, kv, 3, true, func(e *Entry) { e.Detail = "nothing to see" })
		}, "4:prev does not match the hash of entry 3"},
		{"edited time", func(t *testing.T, kv *memKV) {
			editEntry(t, kv, 5, false, func(e *Entry) { e.At = e.At.Add(-1) })
		}, "5:hash does not match the content: edited"},
		{"removed in the middle", func(t *testing.T, kv *memKV) { kv.drop(string(auditKey(4))) },
			"4:entry 4 missing"},
		{"two removed in the middle", func(t *testing.T, kv *memKV) {
			kv.drop(string(auditKey(3)))
			kv.drop(string(auditKey(4)))
		}, "3:entries 3 to 4 missing"},
		{"removed first", func(t *testing.T, kv *memKV) { kv.drop(string(auditKey(1))) },
			"1:entry 1 missing"},
		{"removed last", func(t *testing.T, kv *memKV) { kv.drop(string(auditKey(6))) },
			"6:entry 6 missing: the head names it"},
		{"removed the last two", func(t *testing.T, kv *memKV) {
			kv.drop(string(auditKey(5)))
			kv.drop(string(auditKey(6)))
		}, "5:entries 5 to 6 missing: the head names 6"},
		{"removed the head", func(t *testing.T, kv *memKV) { kv.drop(keyAuditHead) }, "0:head missing"},
		{"head rewritten", func(t *testing.T, kv *memKV) {
			kv.put(keyAuditHead, []byte(`{"seq":6,"hash":"00"}`))
		}, "6:head hash does not match entry 6"},
		{"reordered", func(t *testing.T, kv *memKV) {
			a, _ := kv.raw(string(auditKey(2)))
			b, _ := kv.raw(string(auditKey(3)))
			kv.put(string(auditKey(2)), b)
			kv.put(string(auditKey(3)), a)
		}, "2:holds entry 3: moved\n2:prev does not match the hash of entry 1\n3:holds entry 2: moved\n3:prev does not match the hash of entry 2\n3:time 2026-03-02T08:01:00Z before the previous entry's\n4:prev does not match the hash of entry 3"},
		{"appended without the head", func(t *testing.T, kv *memKV) {
			v, _ := kv.raw(string(auditKey(6)))
			kv.put(string(auditKey(7)), v)
		}, "7:holds entry 6: moved\n7:prev does not match the hash of entry 6\n7:entries after the head's 6"},
		{"unreadable", func(t *testing.T, kv *memKV) { kv.put(string(auditKey(2)), []byte("{")) },
			"2:unreadable: unexpected end of JSON input"},
		{"stray key", func(t *testing.T, kv *memKV) { kv.put(prefixAudit+"zz", []byte("{}")) },
			`0:key "audit/zz" is not an audit entry`},
		{"every problem, not the first", func(t *testing.T, kv *memKV) {
			editEntry(t, kv, 2, false, func(e *Entry) { e.Target = "other" })
			kv.drop(string(auditKey(4)))
			kv.drop(string(auditKey(6)))
		}, "2:hash does not match the content: edited\n4:entry 4 missing\n6:entry 6 missing: the head names it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.fill(t, 6)
			tc.tamper(t, f.kv)
			rep, err := f.s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := problems(rep); got != tc.want {
				t.Fatalf("problems:\n%s\nwant:\n%s", got, tc.want)
			}
			if tc.want == "" && (rep.Entries != 6 || rep.Head != f.s.head.Hash || len(rep.Head) != 64) {
				t.Fatalf("clean report %+v, head %s", rep, f.s.head.Hash)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		rep, err := newFixture(t, nil).s.Verify(ctx)
		if err != nil || rep.Entries != 0 || rep.Head != "" || len(rep.Problems) != 0 {
			t.Fatalf("Verify of an empty log = %+v, %v", rep, err)
		}
	})
}

// TestRestartAfterTamper checks that a restart never reuses the seq of a
// removed entry, which would hide the removal.
func TestRestartAfterTamper(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		tamper   func(kv *memKV)
		wantSeq  uint64
		problems string
	}{
		{"last entry removed", func(kv *memKV) { kv.drop(string(auditKey(6))) }, 7,
			"6:entry 6 missing"},
		{"head removed", func(kv *memKV) { kv.drop(keyAuditHead) }, 7, ""},
		{"head and last entry removed", func(kv *memKV) {
			kv.drop(keyAuditHead)
			kv.drop(string(auditKey(6)))
		}, 6, ""},
		{"head garbage", func(kv *memKV) { kv.put(keyAuditHead, []byte("not json")) }, 7, ""},
		{"entry after the head", func(kv *memKV) {
			v, _ := kv.raw(string(auditKey(6)))
			var e Entry
			_ = json.Unmarshal(v, &e)
			e.Seq, e.Prev = 7, e.Hash
			e.Hash = e.digest()
			v, _ = json.Marshal(e)
			kv.put(string(auditKey(7)), v)
		}, 8, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.fill(t, 6)
			tc.tamper(f.kv)
			f.reopen(t)
			e, err := f.s.Audit(ctx, Entry{Actor: "x", Action: "after_restart"})
			if err != nil {
				t.Fatal(err)
			}
			if e.Seq != tc.wantSeq {
				t.Fatalf("next seq %d, want %d", e.Seq, tc.wantSeq)
			}
			rep, err := f.s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := problems(rep); got != tc.problems {
				t.Fatalf("problems after restart:\n%s\nwant:\n%s", got, tc.problems)
			}
		})
	}
}
