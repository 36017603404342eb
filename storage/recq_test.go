package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// recCall is an ended record with a recording (file "" for none).
func recCall(id string, invite time.Time, ended bool, file string) sip.Call {
	c := sip.Call{ID: id, CallID: id + "@pbx", InviteAt: invite}
	if ended {
		c.EndedAt = ptr(invite.Add(30 * time.Second))
	}
	if file != "" {
		c.Recording = &sip.Recording{File: file, DurationSeconds: 30}
	}
	return c
}

func shaOf(c byte) string { return strings.Repeat(string(c), 64) }

func TestQueueRecording(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	c := recCall("r1", march, true, "2026/03/01/r1.wav")
	c.Messages = []sip.LegMessage{{Method: "INVITE"}}
	if err := s.PutCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	rev0, _ := s.Revision(ctx, "r1")
	next0 := mustStats(t, s).Next
	j := RecJob{RecordID: "r1", File: "2026/03/01/r1.wav", SHA256: shaOf('a'), Size: 1000, QueuedAt: march}
	ok, err := s.QueueRecording(ctx, j)
	if err != nil || !ok {
		t.Fatalf("queue: %v %v", ok, err)
	}
	got, err := s.Call(ctx, "r1")
	if err != nil || got.Recording == nil || got.Recording.SHA256 != j.SHA256 {
		t.Fatalf("record after queue: %+v %v", got.Recording, err)
	}
	if ms, err := s.Messages(ctx, "r1"); err != nil || len(ms) != 1 {
		t.Fatalf("messages after the hash's rewrite: %d %v, want 1", len(ms), err)
	}
	// The hash goes up with the record: a new revision in the outbox.
	if rev, _ := s.Revision(ctx, "r1"); rev != rev0+1 {
		t.Fatalf("revision %d, want %d", rev, rev0+1)
	}
	if next := mustStats(t, s).Next; next != next0+1 {
		t.Fatalf("outbox next %d, want %d", next, next0+1)
	}
	if ok, err := s.QueueRecording(ctx, j); err != nil || ok {
		t.Fatalf("queue twice: %v %v, want false", ok, err)
	}
	js, err := s.RecordingJobs(ctx, 10)
	if err != nil || len(js) != 1 || js[0].SHA256 != j.SHA256 || js[0].Size != 1000 {
		t.Fatalf("jobs: %+v %v", js, err)
	}
	if st, err := s.RecQStats(ctx); err != nil || st.Depth != 1 || st.Bytes != 1000 {
		t.Fatalf("stats %+v %v", st, err)
	}
	if err := s.RecordingDone(ctx, "r1", RecDone{SHA256: j.SHA256, At: march}); err != nil {
		t.Fatal(err)
	}
	q, d, err := s.RecordingStatus(ctx, "r1")
	if err != nil || q || d == nil || d.SHA256 != j.SHA256 || d.Dropped != "" {
		t.Fatalf("status after done: %v %+v %v", q, d, err)
	}
	if js, _ := s.RecordingJobs(ctx, 10); len(js) != 0 {
		t.Fatalf("jobs after done: %+v", js)
	}
	if ok, err := s.QueueRecording(ctx, j); err != nil || ok {
		t.Fatalf("queue after done: %v %v, want false", ok, err)
	}

	for _, tc := range []struct {
		name string
		j    RecJob
		want error
	}{
		{"unknown record", RecJob{RecordID: "nope", File: "x.wav", SHA256: shaOf('b'), Size: 1}, ErrNotFound},
		{"other file", RecJob{RecordID: "r2", File: "other.wav", SHA256: shaOf('b'), Size: 1}, ErrNotFound},
		{"short hash", RecJob{RecordID: "r2", File: "2026/03/01/r2.wav", SHA256: "ab", Size: 1}, ErrOption},
		{"empty file", RecJob{RecordID: "r2", File: "2026/03/01/r2.wav", SHA256: shaOf('b'), Size: 0}, ErrOption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.PutCall(ctx, recCall("r2", march, true, "2026/03/01/r2.wav")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.QueueRecording(ctx, tc.j); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if q, _, _ := s.RecordingStatus(ctx, "r2"); q {
				t.Fatal("queued after a refusal")
			}
		})
	}
}

func mustStats(t *testing.T, s *Store) OutboxStats {
	t.Helper()
	st, err := s.OutboxStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func ids(cs []RecCandidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.RecordID)
	}
	return out
}

func TestRecordingCandidates(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	at := func(m int) time.Time { return march.Add(time.Duration(m) * time.Minute) }
	for _, c := range []sip.Call{
		recCall("a-kept", at(0), true, "a.wav"),
		recCall("b-plain", at(1), true, "b.wav"),
		recCall("c-norec", at(2), true, ""),
		recCall("d-open", at(3), false, "d.wav"),
		recCall("e-plain", at(4), true, "e.wav"),
		recCall("f-late", at(10), true, "f.wav"), // ends after settled
	} {
		if err := s.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a-kept", "c-norec", "f-late"} {
		if err := s.SetKeep(ctx, id, "sampled 2026-03"); err != nil {
			t.Fatal(err)
		}
	}
	settled := at(6)

	cs, _, err := s.RecordingCandidates(ctx, false, settled, 10)
	if err != nil || strings.Join(ids(cs), ",") != "a-kept" {
		t.Fatalf("sampled: %v %v, want a-kept", ids(cs), err)
	}
	cs, mark, err := s.RecordingCandidates(ctx, true, settled, 10)
	if err != nil || strings.Join(ids(cs), ",") != "a-kept,b-plain,e-plain" {
		t.Fatalf("all: %v %v", ids(cs), err)
	}
	// The open leg holds the scan back.
	if !mark.Equal(at(3)) {
		t.Fatalf("mark %v, want the open leg's %v", mark, at(3))
	}
	cs, mark, err = s.RecordingCandidates(ctx, true, settled, 2)
	if err != nil || strings.Join(ids(cs), ",") != "a-kept,b-plain" || !mark.Equal(at(3)) {
		t.Fatalf("all, max 2: %v %v %v", ids(cs), mark, err)
	}
	if err := s.SetRecordingMark(ctx, mark); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRecordingMark(ctx, at(0)); err != nil {
		t.Fatal(err)
	}
	// Past the mark only; a mark never moves back.
	cs, _, err = s.RecordingCandidates(ctx, true, settled, 10)
	if err != nil || strings.Join(ids(cs), ",") != "e-plain" {
		t.Fatalf("all after mark: %v %v", ids(cs), err)
	}
	// The open leg ends: it becomes a candidate once settled.
	if err := s.PutCall(ctx, recCall("d-open", at(3), true, "d.wav")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueueRecording(ctx, RecJob{RecordID: "e-plain", File: "e.wav", SHA256: shaOf('e'), Size: 5}); err != nil {
		t.Fatal(err)
	}
	cs, mark, err = s.RecordingCandidates(ctx, true, at(20), 10)
	if err != nil || strings.Join(ids(cs), ",") != "d-open,f-late" || !mark.Equal(at(10)) {
		t.Fatalf("all later: %v %v %v", ids(cs), mark, err)
	}
	if _, _, err := s.RecordingCandidates(ctx, true, settled, 0); !errors.Is(err, ErrOption) {
		t.Fatalf("max 0: %v", err)
	}
}

// TestRecordingPending is the retention's rule with the uplink.
func TestRecordingPending(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	at := func(m int) time.Time { return march.Add(time.Duration(m) * time.Minute) }
	for i, id := range []string{"plain-old", "kept", "queued", "uploaded", "kept-uploaded", "kept-dropped", "plain-new"} {
		if err := s.PutCall(ctx, recCall(id, at(i), true, id+".wav")); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"kept", "kept-uploaded", "kept-dropped"} {
		if err := s.SetKeep(ctx, id, "sampled"); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"queued", "uploaded", "kept-uploaded", "kept-dropped"} {
		if _, err := s.QueueRecording(ctx, RecJob{RecordID: id, File: id + ".wav", SHA256: shaOf('c'), Size: 9}); err != nil {
			t.Fatal(err)
		}
	}
	for id, dropped := range map[string]string{"uploaded": "", "kept-uploaded": "", "kept-dropped": "file changed on disk"} {
		if err := s.RecordingDone(ctx, id, RecDone{SHA256: shaOf('c'), At: march, Dropped: dropped}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetRecordingMark(ctx, at(6)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id               string
		sampled, wantAll bool
	}{
		{"plain-old", false, false},
		{"kept", true, true},
		{"queued", true, true},
		{"uploaded", false, false},
		{"kept-uploaded", false, false},
		{"kept-dropped", true, true},
		// Not yet scanned: with all it must go up first.
		{"plain-new", false, true},
		{"no-record", false, false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			for _, all := range []bool{false, true} {
				want := tc.sampled
				if all {
					want = tc.wantAll
				}
				got, err := s.RecordingPending(ctx, tc.id, all)
				if err != nil || got != want {
					t.Errorf("all=%v: %v %v, want %v", all, got, err, want)
				}
			}
		})
	}
}

// BenchmarkRecordingPending is retention's cost per file with the uplink.
func BenchmarkRecordingPending(b *testing.B) {
	ctx := context.Background()
	s := openStore(b, b.TempDir())
	for i := 0; i < 1000; i++ {
		id := "r" + itoa3(i)
		if err := s.PutCall(ctx, recCall(id, march.Add(time.Duration(i)*time.Minute), true, id+".wav")); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.SetRecordingMark(ctx, march.Add(500*time.Minute)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.RecordingPending(ctx, "r"+itoa3(i%1000), true); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa3(i int) string { return fmt.Sprintf("%03d", i) }
