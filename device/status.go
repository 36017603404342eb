package device

import "time"

// Status is what the status lamp says about the tap.
type Status uint8

// Statuses of the tap.
const (
	// StatusOff: the lamp is dark (nothing reported yet).
	StatusOff Status = iota
	// StatusHealthy: capturing, SIP seen recently, store healthy (steady).
	StatusHealthy
	// StatusNoSIP: no SIP seen for a while (slow blink).
	StatusNoSIP
	// StatusFault: capture error, store error or disk floor reached (fast
	// blink).
	StatusFault
)

// String names the status.
func (s Status) String() string {
	switch s {
	case StatusOff:
		return "off"
	case StatusHealthy:
		return "healthy"
	case StatusNoSIP:
		return "no_sip"
	case StatusFault:
		return "fault"
	}
	return "unknown"
}

// Health is what the daemon knows about itself, to choose the status.
type Health struct {
	// Fault, when not empty, names a fault: capture error, store error,
	// disk floor reached.
	Fault string
	// LastSIP is when a SIP message was last seen; zero if none yet.
	LastSIP time.Time
	// Started is when capturing started: with no SIP yet, the no-SIP time
	// counts from it.
	Started time.Time
}

// Status returns the status at now: a fault wins, then no SIP for
// noSIPAfter or more, else healthy.
func (h Health) Status(now time.Time, noSIPAfter time.Duration) Status {
	if h.Fault != "" {
		return StatusFault
	}
	last := h.LastSIP
	if last.IsZero() {
		last = h.Started
	}
	if now.Sub(last) >= noSIPAfter {
		return StatusNoSIP
	}
	return StatusHealthy
}

// Pattern is an on/off cycle that starts on. Off ≤ 0 is steady on; On ≤ 0
// is steady off.
type Pattern struct {
	On, Off time.Duration
}

// Default pattern timings.
const (
	// DefaultBuzzerOn and DefaultBuzzerOff: the buzzer sounds 500 ms on,
	// 500 ms off.
	DefaultBuzzerOn  = 500 * time.Millisecond
	DefaultBuzzerOff = 500 * time.Millisecond
	// DefaultSlowBlink is each half of the status lamp's blink with no SIP.
	DefaultSlowBlink = time.Second
	// DefaultFastBlink is each half of the status lamp's blink on a fault.
	DefaultFastBlink = 150 * time.Millisecond
)

// at says whether the pattern started at anchor is on at t, and when it
// next changes (zero for a steady pattern).
func (p Pattern) at(anchor, t time.Time) (bool, time.Time) {
	switch {
	case p.On <= 0:
		return false, time.Time{}
	case p.Off <= 0:
		return true, time.Time{}
	}
	d := max(t.Sub(anchor), 0)
	cycle := p.On + p.Off
	start := anchor.Add(d / cycle * cycle)
	if d%cycle < p.On {
		return true, start.Add(p.On)
	}
	return false, start.Add(cycle)
}
