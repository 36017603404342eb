package device

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakePanel records every Set with the (bubble's fake) time it came at.
type fakePanel struct {
	mu     sync.Mutex
	start  time.Time
	sets   []fakeSet
	closed int
	setErr error
	ops    []string
}

type fakeSet struct {
	at    time.Duration
	lamps Lamps
}

func newFakePanel() *fakePanel { return &fakePanel{start: time.Now()} }

func (f *fakePanel) Set(l Lamps) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed > 0 {
		return errors.New("set after close")
	}
	f.sets = append(f.sets, fakeSet{time.Since(f.start), l})
	return f.setErr
}

func (f *fakePanel) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed++
	return nil
}

func (f *fakePanel) Operators() []string { return f.ops }

func (f *fakePanel) history() []fakeSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeSet(nil), f.sets...)
}

// track returns the changes of one output: "offset=on|off".
func track(sets []fakeSet, get func(Lamps) bool) []string {
	var out []string
	for i, s := range sets {
		v := get(s.lamps)
		if i > 0 && v == get(sets[i-1].lamps) {
			continue
		}
		state := "off"
		if v {
			state = "on"
		}
		out = append(out, fmt.Sprintf("%s=%s", s.at, state))
	}
	return out
}

func statusOf(l Lamps) bool { return l.Status }
func buzzerOf(l Lamps) bool { return l.Buzzer }
func redOf(l Lamps) bool    { return l.Red }

// runDriver starts d.Run in the bubble and returns a stop that cancels it
// and returns its error.
func runDriver(t *testing.T, d *Driver) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	synctest.Wait()
	return func() error {
		cancel()
		return <-done
	}
}

func TestDriverStatusLamp(t *testing.T) {
	for _, tc := range []struct {
		status Status
		want   []string
	}{
		{StatusOff, []string{"0s=off"}},
		{StatusHealthy, []string{"0s=on", "3.5s=off"}},
		{StatusNoSIP, []string{"0s=on", "1s=off", "2s=on", "3s=off"}},
		{StatusFault, []string{"0s=on", "150ms=off", "300ms=on", "450ms=off", "600ms=on", "750ms=off", "900ms=on",
			"1.05s=off", "1.2s=on", "1.35s=off", "1.5s=on", "1.65s=off", "1.8s=on", "1.95s=off", "2.1s=on", "2.25s=off",
			"2.4s=on", "2.55s=off", "2.7s=on", "2.85s=off", "3s=on", "3.15s=off", "3.3s=on", "3.45s=off"}},
	} {
		t.Run(tc.status.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fp := newFakePanel()
				d := NewDriver(fp)
				d.SetStatus(tc.status)
				stop := runDriver(t, d)
				time.Sleep(3500 * time.Millisecond)
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				h := fp.history()
				if got := track(h, statusOf); !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("status lamp %v\nwant %v", got, tc.want)
				}
				// Lamps off on exit: the last Set is all off, then Close.
				if last := h[len(h)-1]; !last.lamps.Equal(Lamps{}) || fp.closed != 1 {
					t.Fatalf("last set %+v, closed %d: want all off then one Close", last, fp.closed)
				}
			})
		})
	}
}

func TestDriverStatusChangeRestartsBlink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePanel()
		d := NewDriver(fp)
		d.SetStatus(StatusHealthy)
		stop := runDriver(t, d)
		time.Sleep(700 * time.Millisecond)
		d.SetStatus(StatusNoSIP) // the blink starts lit at the change
		time.Sleep(1500 * time.Millisecond)
		d.SetStatus(StatusNoSIP) // the same status does not restart it
		time.Sleep(1000 * time.Millisecond)
		d.SetStatus(StatusFault) // lit already at 3.2 s, fast blink from there
		time.Sleep(200 * time.Millisecond)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := []string{"0s=on", "1.7s=off", "2.7s=on", "3.35s=off"}
		if got := track(fp.history(), statusOf); !reflect.DeepEqual(got, want) {
			t.Fatalf("status lamp %v\nwant %v", got, want)
		}
	})
}

func TestDriverBuzzerPattern(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePanel()
		d := NewDriver(fp)
		stop := runDriver(t, d)
		time.Sleep(100 * time.Millisecond)
		d.Show(PanelState{Level: LevelWarning, Operators: map[string]Level{"Ana": LevelWarning}})
		time.Sleep(100 * time.Millisecond)
		d.Show(PanelState{Level: LevelAlarm, Buzzer: true, Operators: map[string]Level{"Ana": LevelAlarm}})
		time.Sleep(1200 * time.Millisecond)
		// The silence button: buzzer off at once, red stays.
		d.Show(PanelState{Level: LevelAlarm, Operators: map[string]Level{"Ana": LevelAlarm}})
		time.Sleep(2 * time.Second)
		d.Show(PanelState{})
		synctest.Wait()
		h := fp.history()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if got, want := track(h, buzzerOf), []string{"0s=off", "200ms=on", "700ms=off", "1.2s=on", "1.4s=off"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("buzzer %v\nwant %v", got, want)
		}
		if got, want := track(h, redOf), []string{"0s=off", "200ms=on", "3.4s=off"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("red %v\nwant %v", got, want)
		}
		amber := track(h, func(l Lamps) bool { return l.Amber })
		if want := []string{"0s=off", "100ms=on", "200ms=off"}; !reflect.DeepEqual(amber, want) {
			t.Fatalf("amber %v\nwant %v", amber, want)
		}
		ana := track(h, func(l Lamps) bool { return l.Operators["Ana"].Red })
		if want := []string{"0s=off", "200ms=on", "3.4s=off"}; !reflect.DeepEqual(ana, want) {
			t.Fatalf("Ana's red %v\nwant %v", ana, want)
		}
		// Nothing is written while nothing changes: after the mute, one
		// Set until the idle one.
		n := 0
		for _, s := range h {
			if s.at > 1400*time.Millisecond && s.at < 3400*time.Millisecond {
				n++
			}
		}
		if n != 0 {
			t.Fatalf("%d sets while the panel was steady", n)
		}
	})
}

func TestDriverPanelFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePanel()
		fp.setErr = errors.New("line gone")
		d := NewDriver(fp)
		stop := runDriver(t, d)
		d.Show(PanelState{Level: LevelWarning})
		synctest.Wait()
		fp.mu.Lock()
		fp.setErr = nil
		fp.mu.Unlock()
		// The next wake retries; the state is the same but was never shown.
		d.Show(PanelState{Level: LevelWarning})
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		h := fp.history()
		if len(h) != 4 || !h[2].lamps.Amber || !h[3].lamps.Equal(Lamps{}) {
			t.Fatalf("sets %+v: want failed idle, failed warning, retried warning, final off", h)
		}
	})
}

// fakeClock is an injected clock whose timers fire when the test moves it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	c       chan time.Time
	stopped bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool          { t.stopped = true; return true }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			t.c <- c.now
		}
	}
}

func TestDriverInjectedClock(t *testing.T) {
	// synctest only to know when Run is blocked; time comes from the fake
	// clock.
	synctest.Test(t, func(t *testing.T) {
		clk := &fakeClock{now: t0}
		fp := newFakePanel()
		d := NewDriver(fp, WithClock(clk.Now, clk.NewTimer), WithBlinks(Pattern{On: 3 * time.Second, Off: 2 * time.Second}, Pattern{}))
		d.SetStatus(StatusNoSIP)
		stop := runDriver(t, d)
		var got []bool
		for range 4 {
			got = append(got, fp.history()[len(fp.history())-1].lamps.Status)
			clk.mu.Lock()
			next := clk.timers[len(clk.timers)-1].at
			clk.mu.Unlock()
			clk.advance(next.Sub(clk.Now()))
			synctest.Wait()
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, false, true, false}; !reflect.DeepEqual(got, want) {
			t.Fatalf("status %v, want %v", got, want)
		}
		if !clk.Now().Equal(t0.Add(3*time.Second + 2*time.Second + 3*time.Second + 2*time.Second)) {
			t.Fatalf("clock at %v: timers were not armed for the pattern's steps", clk.Now().Sub(t0))
		}
	})
}

func TestPatternAt(t *testing.T) {
	p := Pattern{On: 500 * time.Millisecond, Off: 300 * time.Millisecond}
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	for _, tc := range []struct {
		p    Pattern
		at   int
		on   bool
		next int // -1: none
	}{
		{p, -10, true, 500},
		{p, 0, true, 500},
		{p, 499, true, 500},
		{p, 500, false, 800},
		{p, 799, false, 800},
		{p, 800, true, 1300},
		{p, 16100, true, 16500},
		{Pattern{On: time.Second}, 5000, true, -1},
		{Pattern{Off: time.Second}, 5000, false, -1},
	} {
		on, next := tc.p.at(t0, ms(tc.at))
		wantNext := time.Time{}
		if tc.next >= 0 {
			wantNext = ms(tc.next)
		}
		if on != tc.on || !next.Equal(wantNext) {
			t.Errorf("%+v at %d ms: %v %v, want %v %v", tc.p, tc.at, on, next, tc.on, wantNext)
		}
	}
}

func TestHealthStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Health
		now  time.Time
		want Status
	}{
		{"fresh start", Health{Started: t0}, sec(60), StatusHealthy},
		{"no SIP since start", Health{Started: t0}, sec(600), StatusNoSIP},
		{"recent SIP", Health{Started: t0, LastSIP: sec(500)}, sec(1000), StatusHealthy},
		{"old SIP", Health{Started: t0, LastSIP: sec(100)}, sec(700), StatusNoSIP},
		{"fault wins", Health{Started: t0, LastSIP: sec(599), Fault: "disk floor reached"}, sec(600), StatusFault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.Status(tc.now, 10*time.Minute); got != tc.want {
				t.Fatalf("%v, want %v", got, tc.want)
			}
		})
	}
}

func TestLampsEqual(t *testing.T) {
	a := Lamps{Red: true, Operators: map[string]OperatorLamps{"Ana": {Red: true}, "Beto": {}}}
	if !a.Equal(Lamps{Red: true, Operators: map[string]OperatorLamps{"Ana": {Red: true}}}) {
		t.Error("a dark operator listed should equal one not listed")
	}
	if a.Equal(Lamps{Red: true}) || a.Equal(Lamps{Red: true, Operators: map[string]OperatorLamps{"Ana": {Amber: true}}}) {
		t.Error("different operator lamps compare equal")
	}
	if (Lamps{Buzzer: true}).Equal(Lamps{}) || (Lamps{Status: true}).Equal(Lamps{}) {
		t.Error("buzzer or status ignored")
	}
}
