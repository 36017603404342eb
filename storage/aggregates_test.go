package storage

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

func aggAt(min int, src, reason string, legs int) sip.Aggregate {
	p := time.Date(2026, 3, 2, 14, min, 0, 0, time.UTC)
	return sip.Aggregate{Period: p, Source: src, Reason: reason, Legs: legs, First: p.Add(time.Second), Last: p.Add(50 * time.Second)}
}

func scanAggs(t *testing.T, s *Store, from, to time.Time) []sip.Aggregate {
	t.Helper()
	var out []sip.Aggregate
	if err := s.Aggregates(context.Background(), from, to, func(a sip.Aggregate) error {
		out = append(out, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAggregatesMerge: aggregates of one period, source and reason add up
// (a period handed out in parts), others stay apart, and a scan returns
// them by period, source, reason, within [from, to).
func TestAggregatesMerge(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	a1 := aggAt(0, "198.51.100.66", "timeout", 12000)
	a2 := aggAt(0, "198.51.100.66", "timeout", 8000)
	a2.First, a2.Last, a2.Flood = a1.First.Add(-time.Second), a1.Last.Add(time.Second), true
	b := aggAt(0, "198.51.100.66", "486", 40000)
	c := aggAt(1, "198.51.100.7", "503", 3)
	if err := s.AddAggregates(ctx, []sip.Aggregate{a1, b}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAggregates(ctx, []sip.Aggregate{a2, c}); err != nil {
		t.Fatal(err)
	}
	want := a1
	want.Legs, want.First, want.Last, want.Flood = 20000, a2.First, a2.Last, true
	tests := []struct {
		name     string
		from, to time.Time
		want     []sip.Aggregate
	}{
		{"all", a1.Period, c.Period.Add(time.Minute), []sip.Aggregate{b, want, c}},
		{"first period", a1.Period, c.Period, []sip.Aggregate{b, want}},
		{"second period", c.Period, c.Period.Add(time.Hour), []sip.Aggregate{c}},
		{"empty range", c.Period, c.Period, nil},
		{"after", c.Period.Add(time.Second), c.Period.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanAggs(t, s, tt.from, tt.to)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d aggregates %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if !reflect.DeepEqual(normAgg(got[i]), normAgg(tt.want[i])) {
					t.Errorf("#%d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func normAgg(a sip.Aggregate) sip.Aggregate {
	a.Period, a.First, a.Last = a.Period.UTC(), a.First.UTC(), a.Last.UTC()
	return a
}

// TestAggregatesReject: an aggregate the key cannot hold is refused with
// the store's sentinel, and nothing of its batch is written.
func TestAggregatesReject(t *testing.T) {
	s := openStore(t, t.TempDir())
	good := aggAt(0, "198.51.100.66", "timeout", 1)
	tests := []struct {
		name string
		a    sip.Aggregate
		err  error
	}{
		{"no source", aggAt(0, "", "timeout", 1), ErrKey},
		{"before 1970", sip.Aggregate{Period: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), Source: "x", Reason: "486"}, ErrInviteAt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.AddAggregates(context.Background(), []sip.Aggregate{good, tt.a})
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if got := scanAggs(t, s, good.Period, good.Period.Add(time.Hour)); len(got) != 0 {
				t.Fatalf("stored %+v", got)
			}
		})
	}
}

// TestAggregateSink: Add never blocks and drops (and counts) past its
// bound and what the store would refuse; Run stores what was queued,
// also what is queued when its context ends.
func TestAggregateSink(t *testing.T) {
	s := openStore(t, t.TempDir())
	k := NewAggregateSink(s, 2, discard())
	k.Add([]sip.Aggregate{aggAt(0, "198.51.100.1", "timeout", 1), aggAt(0, "", "timeout", 1),
		aggAt(0, "198.51.100.2", "timeout", 2), aggAt(0, "198.51.100.3", "timeout", 3)})
	if k.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2", k.Dropped())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(scanAggs(t, s, aggAt(0, "", "", 0).Period, aggAt(59, "", "", 0).Period)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("queued aggregates not stored")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Queued just before the end: still stored on the way out.
	k.mu.Lock()
	k.q = append(k.q, aggAt(1, "198.51.100.9", "486", 9))
	k.mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := scanAggs(t, s, aggAt(0, "", "", 0).Period, aggAt(59, "", "", 0).Period)
	if len(got) != 3 || got[2].Legs != 9 {
		t.Fatalf("stored %+v", got)
	}
}
