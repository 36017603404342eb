package daemon

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

// fakeDisk plays a sequence of disk states, one per check.
type fakeDisk struct {
	states []storage.DiskStatus
	i      int
	checks int
}

func (f *fakeDisk) Disk(check bool) storage.DiskStatus {
	s := f.states[min(f.i, len(f.states)-1)]
	if check {
		f.checks++
		f.i++
	}
	return s
}

type fakeQueue struct{ q tap.QueueStats }

func (f fakeQueue) Queue() tap.QueueStats { return f.q }

// lines records the messages logged at each level.
type lines struct {
	mu  sync.Mutex
	got []string
}

func (l *lines) Enabled(context.Context, slog.Level) bool { return true }
func (l *lines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *lines) WithGroup(string) slog.Handler            { return l }
func (l *lines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, r.Level.String()+" "+r.Message)
	return nil
}

// TestDiskWatch: one log line when the store's disk fills (at Error, the
// fault) and one when space is back, none while the state holds.
func TestDiskWatch(t *testing.T) {
	full := storage.DiskStatus{Full: true, FreeBytes: 1 << 20, MinFreeBytes: 64 << 20, Refused: 3}
	ok := storage.DiskStatus{FreeBytes: 1 << 30, MinFreeBytes: 64 << 20, ReserveBytes: 32 << 20}
	cases := []struct {
		name   string
		states []storage.DiskStatus
		want   []string
	}{
		{"healthy", []storage.DiskStatus{ok, ok, ok}, nil},
		{"fills", []storage.DiskStatus{ok, full, full}, []string{
			"ERROR disk full: store writes refused, records wait in memory; capture and alarm go on"}},
		{"fills and empties", []storage.DiskStatus{full, full, ok, ok}, []string{
			"ERROR disk full: store writes refused, records wait in memory; capture and alarm go on",
			"INFO disk space back: store writes resume"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &lines{}
			fd := &fakeDisk{states: tc.states}
			w := &diskWatch{store: fd, queue: fakeQueue{tap.QueueStats{Queued: 5}}, log: slog.New(h)}
			for range tc.states {
				w.check()
			}
			if len(h.got) != len(tc.want) {
				t.Fatalf("logged %q, want %q", h.got, tc.want)
			}
			for i := range h.got {
				if h.got[i] != tc.want[i] {
					t.Errorf("line %d = %q, want %q", i, h.got[i], tc.want[i])
				}
			}
			if fd.checks != len(tc.states) {
				t.Errorf("%d checks, want %d", fd.checks, len(tc.states))
			}
		})
	}
}

func TestDiskSnapshot(t *testing.T) {
	fd := &fakeDisk{states: []storage.DiskStatus{{Full: true, MinFreeBytes: 7, ReserveBytes: 0, Refused: 9}}}
	w := &diskWatch{store: fd, queue: fakeQueue{tap.QueueStats{Queued: 4, Dropped: 2, WriteErrors: 9}}, log: slog.New(slog.DiscardHandler)}
	s := w.snapshot()
	if !s.StoreFull || s.StoreFloorBytes != 7 || s.RefusedWrites != 9 || s.Queued != 4 || s.Dropped != 2 || s.WriteErrors != 9 {
		t.Errorf("snapshot = %+v", s)
	}
	if fd.checks != 0 {
		t.Errorf("a scrape checked the disk (%d): it must only read", fd.checks)
	}
}
