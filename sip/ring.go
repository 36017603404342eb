package sip

import (
	"fmt"
	"time"
)

// RingPolicy turns ring time into rings (DESIGN.md "Config"; domain.md §4).
type RingPolicy struct {
	MaxRings int
	On, Off  time.Duration
}

// Ring presets: generic IP-phone/North-American 2 s on / 4 s off, El
// Salvador 1.2 s / 4.6 s (ITU tone list via domain.md §4), Europe 1 s / 4 s.
var ringPresets = map[string]RingPolicy{
	"us": {MaxRings: 4, On: 2 * time.Second, Off: 4 * time.Second},
	"sv": {MaxRings: 4, On: 1200 * time.Millisecond, Off: 4600 * time.Millisecond},
	"eu": {MaxRings: 4, On: time.Second, Off: 4 * time.Second},
}

// DefaultRingPolicy is 4 rings of 2 s on / 4 s off.
func DefaultRingPolicy() RingPolicy { return ringPresets["us"] }

// RingPreset returns the named preset ("us", "sv", "eu").
func RingPreset(name string) (RingPolicy, error) {
	p, ok := ringPresets[name]
	if !ok {
		return RingPolicy{}, fmt.Errorf("unknown ring preset %q (want us, sv or eu)", name)
	}
	return p, nil
}

// Cycle is one ring period, on plus off.
func (p RingPolicy) Cycle() time.Duration { return p.On + p.Off }

// Limit is the ring time at which ring MaxRings+1 would start: a call
// answered at or after it was not answered within MaxRings rings.
func (p RingPolicy) Limit() time.Duration { return time.Duration(p.MaxRings) * p.Cycle() }

// Validate reports a policy that cannot count rings.
func (p RingPolicy) Validate() error {
	if p.MaxRings < 1 || p.On <= 0 || p.Off < 0 {
		return fmt.Errorf("ring policy needs max_rings ≥ 1 and ring_on > 0, got %d, %s, %s", p.MaxRings, p.On, p.Off)
	}
	return nil
}

// Rings returns how many rings started within d: ring k starts at
// (k−1)·cycle, so floor(d / cycle) + 1 (domain.md §4).
func (p RingPolicy) Rings(d time.Duration) int {
	if d < 0 {
		return 0
	}
	return int(d/p.Cycle()) + 1
}

// WithinLimit reports whether an answer after d of ringing came before ring
// MaxRings+1 started.
func (p RingPolicy) WithinLimit(d time.Duration) bool { return d >= 0 && d < p.Limit() }
