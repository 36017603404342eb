package device

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Timer is a one-shot timer, so tests can run the driver on a fake clock.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// realTimer is a Timer on the wall clock.
type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// DriverOption configures a Driver.
type DriverOption func(*Driver)

// WithClock sets the wall clock and the timer factory the patterns run on
// (default time.Now and time.NewTimer).
func WithClock(now func() time.Time, newTimer func(time.Duration) Timer) DriverOption {
	return func(d *Driver) { d.now, d.newTimer = now, newTimer }
}

// WithBuzzerPattern sets the buzzer's on/off pattern while in alarm.
func WithBuzzerPattern(p Pattern) DriverOption {
	return func(d *Driver) { d.buzzer = p }
}

// WithBlinks sets the status lamp's slow (no SIP) and fast (fault) blinks.
func WithBlinks(slow, fast Pattern) DriverOption {
	return func(d *Driver) { d.slow, d.fast = slow, fast }
}

// WithLogger sets the logger for panel failures (default: discard).
func WithLogger(log *slog.Logger) DriverOption {
	return func(d *Driver) { d.log = log }
}

// Driver shows the policy's state and the tap's status on a panel. It owns
// the display patterns (buzzer on/off, status blink), which run on the wall
// clock: they are display, not measurement. Show and SetStatus may be
// called from any goroutine; Run owns the panel.
type Driver struct {
	panel    Panel
	log      *slog.Logger
	now      func() time.Time
	newTimer func(time.Duration) Timer
	buzzer   Pattern
	slow     Pattern
	fast     Pattern
	wake     chan struct{}

	mu           sync.Mutex
	steady       Lamps // amber, red, operators
	buzzing      bool
	buzzAnchor   time.Time
	status       Status
	statusAnchor time.Time
}

// NewDriver returns a driver for panel, showing nothing until Show and
// SetStatus are called.
func NewDriver(panel Panel, opts ...DriverOption) *Driver {
	d := &Driver{
		panel:    panel,
		log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:      time.Now,
		newTimer: func(dur time.Duration) Timer { return realTimer{time.NewTimer(dur)} },
		buzzer:   Pattern{On: DefaultBuzzerOn, Off: DefaultBuzzerOff},
		slow:     Pattern{On: DefaultSlowBlink, Off: DefaultSlowBlink},
		fast:     Pattern{On: DefaultFastBlink, Off: DefaultFastBlink},
		wake:     make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Show sets the alarm state to show (from Policy.Panel). The buzzer
// pattern starts, sounding, when the buzzer turns on.
func (d *Driver) Show(ps PanelState) {
	d.mu.Lock()
	d.steady = lampsFor(ps)
	if ps.Buzzer && !d.buzzing {
		d.buzzAnchor = d.now()
	}
	d.buzzing = ps.Buzzer
	d.mu.Unlock()
	d.poke()
}

// SetStatus sets what the status lamp says. A blink starts lit when the
// status changes.
func (d *Driver) SetStatus(s Status) {
	d.mu.Lock()
	if s != d.status {
		d.status = s
		d.statusAnchor = d.now()
	}
	d.mu.Unlock()
	d.poke()
}

func (d *Driver) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// lamps returns the lamps at t and when they next change by pattern (zero
// when nothing blinks).
func (d *Driver) lamps(t time.Time) (Lamps, time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.steady
	var next time.Time
	sooner := func(n time.Time) {
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	if d.buzzing {
		on, n := d.buzzer.at(d.buzzAnchor, t)
		l.Buzzer = on
		sooner(n)
	}
	switch d.status {
	case StatusHealthy:
		l.Status = true
	case StatusNoSIP, StatusFault:
		p := d.slow
		if d.status == StatusFault {
			p = d.fast
		}
		on, n := p.at(d.statusAnchor, t)
		l.Status = on
		sooner(n)
	}
	return l, next
}

// Run shows the state until ctx is done, then sets every output off and
// closes the panel. A failing panel is logged (once until it recovers) and
// retried on the next change; Run returns only the errors of the final
// all-off and Close.
func (d *Driver) Run(ctx context.Context) error {
	var (
		last    Lamps
		shown   bool
		failing bool
		timer   Timer
	)
	stop := func() {
		if timer != nil {
			timer.Stop()
			timer = nil
		}
	}
	defer stop()
	for {
		now := d.now()
		l, next := d.lamps(now)
		if !shown || !l.Equal(last) {
			if err := d.panel.Set(l); err != nil {
				if !failing {
					d.log.Error("panel set failed", "err", err)
				}
				failing = true
			} else {
				if failing {
					d.log.Info("panel set recovered")
				}
				failing, last, shown = false, l, true
			}
		}
		stop()
		var tick <-chan time.Time
		if !next.IsZero() {
			timer = d.newTimer(next.Sub(now))
			tick = timer.C()
		}
		select {
		case <-ctx.Done():
			stop()
			return errors.Join(d.panel.Set(Lamps{}), d.panel.Close())
		case <-d.wake:
		case <-tick:
		}
	}
}
