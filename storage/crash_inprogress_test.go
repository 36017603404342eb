package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchtap/switchtap/sip"
)

// progressCall is a record of a call in progress (detail "in_progress") or
// finished (detail "200").
func progressCall(id string, final bool) sip.Call {
	c := fullCall(id, march.Add(time.Hour))
	c.EndedAt, c.Recording, c.EndReason, c.EndDetail = nil, nil, sip.EndUnknown, "in_progress"
	if final {
		c = fullCall(id, march.Add(time.Hour))
	}
	return c
}

func inProgressIDs(t *testing.T, s *Store) []string {
	t.Helper()
	cs, err := s.InProgress(context.Background())
	if err != nil {
		t.Fatalf("InProgress: %v", err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestPutProgress checks the provisional records (issue 9 §4): a record
// stored open is kept apart (readers of records do not see it) until a
// final record with its id is stored, in the same batch or a later one;
// InProgress returns it as stored, and never one whose call has ended.
func TestPutProgress(t *testing.T) {
	type batch struct{ open, done []string }
	tests := []struct {
		name    string
		batches []batch
		want    []string
		// detail is end_detail of the record "a" that Call reads ("" when
		// there is none).
		detail string
	}{
		{"open only", []batch{{open: []string{"a"}}}, []string{"a"}, ""},
		{"open then done", []batch{{open: []string{"a", "b"}}, {done: []string{"a"}}}, []string{"b"}, "200"},
		{"open and done in one batch: done wins", []batch{{open: []string{"a"}}, {open: []string{"a"}, done: []string{"a"}}}, nil, "200"},
		{"open after done: done wins", []batch{{done: []string{"a"}}, {open: []string{"a"}}}, nil, "200"},
		{"open twice", []batch{{open: []string{"a"}}, {open: []string{"a"}}}, []string{"a"}, ""},
		{"done only", []batch{{done: []string{"a", "b"}}}, nil, "200"},
		{"empty", []batch{{}}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			ctx := context.Background()
			for _, b := range tc.batches {
				var open, done []sip.Call
				for _, id := range b.open {
					open = append(open, progressCall(id, false))
				}
				for _, id := range b.done {
					done = append(done, progressCall(id, true))
				}
				if err := s.PutProgress(ctx, open, done); err != nil {
					t.Fatalf("PutProgress: %v", err)
				}
			}
			if got := inProgressIDs(t, s); !slices.Equal(got, tc.want) {
				t.Errorf("in progress %v, want %v", got, tc.want)
			}
			c, err := s.Call(ctx, "a")
			if tc.detail == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("record a readable: %v %+v", err, c)
				}
				return
			}
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			if c.EndDetail != tc.detail {
				t.Errorf("end_detail %q, want %q", c.EndDetail, tc.detail)
			}
		})
	}
}

// TestProvisionalNotListed: a scan of the records and the Call-ID index
// see only final records.
func TestProvisionalNotListed(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	open := progressCall("a", false)
	if err := s.PutProgress(ctx, []sip.Call{open}, []sip.Call{progressCall("b", true)}); err != nil {
		t.Fatal(err)
	}
	if ids := scanIDs(t, s, march, march.Add(48*time.Hour)); !slices.Equal(ids, []string{"b"}) {
		t.Errorf("Calls sees %v", ids)
	}
	if _, err := s.CallByCallID(ctx, open.CallID); !errors.Is(err, ErrNotFound) {
		t.Errorf("CallByCallID finds the call in progress: %v", err)
	}
}

// TestInProgressSurvivesReopen: the marks are durable like the records.
func TestInProgressSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.PutProgress(ctx, []sip.Call{progressCall("a", false), progressCall("b", false)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	if got := inProgressIDs(t, s); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("after reopen %v", got)
	}
	// The records come back whole.
	cs, _ := s.InProgress(ctx)
	want := progressCall(cs[0].ID, false)
	want.Messages = nil
	if !reflect.DeepEqual(cs[0], want) {
		t.Errorf("record changed:\n got %+v\nwant %+v", cs[0], want)
	}
}

// TestInProgressEnded: a provisional record whose call has a final record
// stored by PutCalls (which leaves open/ alone) is dropped, not returned.
func TestInProgressEnded(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	if err := s.PutProgress(ctx, []sip.Call{progressCall("a", false), progressCall("b", false)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCalls(ctx, []sip.Call{progressCall("a", true)}); err != nil {
		t.Fatal(err)
	}
	if got := inProgressIDs(t, s); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("got %v", got)
	}
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(openKey("a"))
		return err
	})
	if !errors.Is(err, badger.ErrKeyNotFound) {
		t.Errorf("provisional record of an ended call kept: %v", err)
	}
}

// TestPutProgressLargeBatch: a batch too big for one transaction is split
// without losing a mark or letting an open record win over its final one.
func TestPutProgressLargeBatch(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	big := strings.Repeat("x", 8<<10)
	var open, done []sip.Call
	for i := range 600 {
		open = append(open, progressCall(fmt.Sprintf("o%04d", i), false))
	}
	for i := range 300 {
		c := progressCall(fmt.Sprintf("o%04d", 2*i), true)
		c.Messages = []sip.LegMessage{{Raw: big}}
		done = append(done, c)
	}
	if err := s.PutProgress(ctx, open, done); err != nil {
		t.Fatal(err)
	}
	got := inProgressIDs(t, s)
	if len(got) != 300 {
		t.Fatalf("%d in progress, want 300", len(got))
	}
	for _, id := range got {
		var n int
		if _, err := fmt.Sscanf(id, "o%04d", &n); err != nil || n%2 == 0 {
			t.Fatalf("%s in progress", id)
		}
	}
	c, err := s.Call(ctx, "o0010")
	if err != nil || c.EndDetail != "200" {
		t.Errorf("o0010: %v %q", err, c.EndDetail)
	}
}

func TestPutProgressRejects(t *testing.T) {
	s := openStore(t, t.TempDir())
	bad := progressCall("", false)
	if err := s.PutProgress(context.Background(), []sip.Call{bad}, nil); err == nil {
		t.Error("empty id accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.PutProgress(ctx, []sip.Call{progressCall("a", false)}, nil); err == nil {
		t.Error("cancelled context accepted")
	}
	if got := inProgressIDs(t, s); len(got) != 0 {
		t.Errorf("in progress %v", got)
	}
}

// BenchmarkPutProgress compares a batch of 64 final records written with
// PutCalls, with PutProgress (each deleting its call's provisional record),
// and with PutProgress carrying 64 provisional records too: the daemon's
// writer pays the second or the third instead of the first.
func BenchmarkPutProgress(b *testing.B) {
	for _, mode := range []string{"PutCalls", "PutProgress done", "PutProgress open+done"} {
		b.Run(mode, func(b *testing.B) {
			s := openStore(b, b.TempDir())
			ctx := context.Background()
			b.ReportAllocs()
			for i := range b.N {
				done := make([]sip.Call, 64)
				var open []sip.Call
				for j := range done {
					done[j] = progressCall(fmt.Sprintf("b%08d-%02d", i, j), true)
					if mode == "PutProgress open+done" {
						open = append(open, progressCall(fmt.Sprintf("o%08d-%02d", i, j), false))
					}
				}
				var err error
				if mode == "PutCalls" {
					err = s.PutCalls(ctx, done)
				} else {
					err = s.PutProgress(ctx, open, done)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
