package uplink

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeOutbox serves fixed figures (Status reads nothing else).
type fakeOutbox struct {
	st  OutboxStats
	err error
}

func (f fakeOutbox) OutboxAfter(context.Context, uint64, int, func(Entry) error) error { return f.err }
func (f fakeOutbox) AckOutbox(context.Context, uint64) error                           { return f.err }
func (f fakeOutbox) OutboxStats(context.Context) (OutboxStats, error)                  { return f.st, f.err }

func TestStatus(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	oldest := now.Add(-90 * time.Minute)
	tests := []struct {
		name      string
		st        OutboxStats
		serverAck uint64
		depth     uint64
		age       time.Duration
	}{
		{"empty", OutboxStats{Next: 1}, 0, 0, 0},
		{"pending", OutboxStats{Depth: 5, Acked: 10, Next: 16, Oldest: oldest}, 10, 5, 90 * time.Minute},
		// The server committed 11..13 before a restart; the store frees
		// them at the next acknowledgement, and they are not pending.
		{"server ahead of the store's ack", OutboxStats{Depth: 5, Acked: 10, Next: 16, Oldest: oldest}, 13, 2, 90 * time.Minute},
		{"all on the server", OutboxStats{Depth: 5, Acked: 10, Next: 16, Oldest: oldest}, 15, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Config{URL: "https://central", Token: "stb_x"}, fakeOutbox{st: tt.st}, WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			s.setAcked(tt.serverAck)
			got, err := s.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got.Depth != tt.depth || got.OldestAge != tt.age || got.Acked != tt.serverAck {
				t.Fatalf("status %+v, want depth %d age %v", got, tt.depth, tt.age)
			}
		})
	}
	boom := errors.New("store closed")
	s, _ := New(Config{URL: "https://central", Token: "stb_x"}, fakeOutbox{err: boom})
	if _, err := s.Status(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := New(Config{URL: "https://central", Token: "stb_x"}, fakeOutbox{st: OutboxStats{Next: 1}}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		contact bool
		want    bool
	}{
		{"at start", 0, false, false},
		{"never answered, within threshold", 14 * time.Minute, false, false},
		{"never answered, past it", 2 * time.Minute, false, true},
		{"an answer", 0, true, false},
		{"quiet within threshold", 15 * time.Minute, false, false},
		{"quiet past it", time.Second, false, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			now = now.Add(st.advance)
			if st.contact {
				s.contact()
			}
			if got := s.Unreachable(15 * time.Minute); got != st.want {
				t.Fatalf("Unreachable = %v, want %v", got, st.want)
			}
		})
	}
}
