package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Service is a long-running part of the daemon: Run blocks until ctx is
// done (then returns nil) or the part fails.
type Service interface {
	Run(ctx context.Context) error
}

// ServiceFunc adapts a function to a Service.
type ServiceFunc func(ctx context.Context) error

// Run calls f.
func (f ServiceFunc) Run(ctx context.Context) error { return f(ctx) }

// Stop tiers: the supervisor stops tier Front first and waits for it, then
// Back. The capture and the servers are in front; what must outlive them
// (the alarm panel, switched off last, and store maintenance) is behind.
const (
	Front = iota
	Back
	numTiers
)

type entry struct {
	name string
	tier int
	svc  Service
}

// Supervisor runs services and stops them together, errgroup-style: the
// first service that fails, or returns while the daemon should still be
// running, stops the daemon with an error naming it; systemd restarts it.
type Supervisor struct {
	log      *slog.Logger
	services []entry
}

// NewSupervisor returns an empty supervisor.
func NewSupervisor(log *slog.Logger) *Supervisor { return &Supervisor{log: log} }

// Add registers a service in a stop tier (Front or Back).
func (s *Supervisor) Add(name string, tier int, svc Service) {
	s.services = append(s.services, entry{name: name, tier: min(max(tier, 0), numTiers-1), svc: svc})
}

// Run starts every service and returns when all have stopped: after ctx is
// done (nil, or the errors services returned while stopping) or after one
// failed (that error first).
func (s *Supervisor) Run(ctx context.Context) error {
	var (
		ctxs    [numTiers]context.Context
		cancels [numTiers]context.CancelFunc
		wgs     [numTiers]sync.WaitGroup
	)
	for i := range ctxs {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	type result struct {
		name string
		err  error
	}
	done := make(chan result, len(s.services))
	for _, e := range s.services {
		wgs[e.tier].Add(1)
		go func() {
			defer wgs[e.tier].Done()
			err := runSafely(ctxs[e.tier], e.svc)
			done <- result{e.name, err}
		}()
	}

	var first error
	stopping := false
	collected := 0
	stop := func() {
		if stopping {
			return
		}
		stopping = true
		go func() {
			for i := range numTiers {
				cancels[i]()
				wgs[i].Wait()
			}
		}()
	}
	var errs []error
	for collected < len(s.services) {
		select {
		case <-ctx.Done():
			stop()
			ctx = context.Background() // take the branch once
			continue
		case r := <-done:
			collected++
			switch {
			case r.err != nil:
				s.log.Error("service failed", "service", r.name, "err", r.err)
				err := fmt.Errorf("%s: %w", r.name, r.err)
				if first == nil && !stopping {
					first = err
				} else {
					errs = append(errs, err)
				}
			case !stopping:
				first = fmt.Errorf("%s: %w", r.name, ErrServiceStopped)
				s.log.Error("service stopped unexpectedly", "service", r.name)
			}
			stop()
		}
	}
	return errors.Join(append([]error{first}, errs...)...)
}

// runSafely turns a panic in a service into its error: the daemon stops
// cleanly (records flushed by the others) instead of dying mid-write.
func runSafely(ctx context.Context, svc Service) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrServicePanic, r)
		}
	}()
	return svc.Run(ctx)
}
