package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// order records the order services stopped in.
type order struct {
	mu    sync.Mutex
	names []string
}

func (o *order) add(n string) { o.mu.Lock(); o.names = append(o.names, n); o.mu.Unlock() }
func (o *order) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.names...)
}

// untilDone is a well-behaved service: it runs until ctx is done.
func untilDone(name string, o *order, delay time.Duration) Service {
	return ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(delay)
		o.add(name)
		return nil
	})
}

func TestSupervisor(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		// failing is the misbehaving service, nil for none.
		failing  Service
		cancel   bool
		wantErr  error
		wantText string
	}{
		{name: "clean stop on cancel", cancel: true},
		{name: "a failing service stops the others", failing: ServiceFunc(func(context.Context) error { return boom }),
			wantErr: boom, wantText: "bad: boom"},
		{name: "a service returning early stops the daemon", failing: ServiceFunc(func(context.Context) error { return nil }),
			wantErr: ErrServiceStopped, wantText: "bad: stopped unexpectedly"},
		{name: "a panicking service stops the daemon cleanly", failing: ServiceFunc(func(context.Context) error { panic("oops") }),
			wantErr: ErrServicePanic, wantText: "bad: panic: oops"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := &order{}
			s := NewSupervisor(discard())
			// The back tier stops only after the front one has: the panel
			// outlives the capture's last records.
			s.Add("panel", Back, untilDone("panel", o, 0))
			s.Add("capture", Front, untilDone("capture", o, 30*time.Millisecond))
			s.Add("web", Front, untilDone("web", o, 0))
			if tc.failing != nil {
				s.Add("bad", Front, tc.failing)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(20*time.Millisecond, cancel)
			}
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("supervisor did not stop")
			}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Run: %v", err)
			}
			if tc.wantErr != nil && (!errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantText)) {
				t.Fatalf("Run: %v, want %v (%q)", err, tc.wantErr, tc.wantText)
			}
			got := o.get()
			if len(got) != 3 || got[2] != "panel" {
				t.Fatalf("stop order %v, want the panel last of 3", got)
			}
		})
	}
}

// TestSupervisorErrorsWhileStopping: errors returned by services as they
// stop are reported, but do not mask the first failure.
func TestSupervisorErrorsWhileStopping(t *testing.T) {
	first, later := errors.New("first"), errors.New("later")
	s := NewSupervisor(discard())
	s.Add("a", Front, ServiceFunc(func(context.Context) error { return first }))
	s.Add("b", Back, ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return later }))
	err := s.Run(context.Background())
	if !errors.Is(err, first) || !errors.Is(err, later) || !strings.HasPrefix(err.Error(), "a: first") {
		t.Fatalf("Run: %v", err)
	}
}
