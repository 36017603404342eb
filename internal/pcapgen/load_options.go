package pcapgen

import (
	"errors"
	"fmt"
	"time"
)

// LoadMaxCalls is the most calls LoadWith keeps apart: up to it every
// call has its own media ports (and so its own RTP 5-tuples) and its own
// caller number; beyond it media ports repeat.
const LoadMaxCalls = 20000

// ErrLoadOptions is returned for load timings that cannot be written.
var ErrLoadOptions = errors.New("pcapgen: invalid load options")

// LoadOptions times the calls of LoadWith. A zero field takes Load's
// value (LoadInterval, LoadRing, LoadTalk).
type LoadOptions struct {
	// Interval separates the INVITEs of consecutive calls.
	Interval time.Duration
	// Ring is the time from the 180 to the 200.
	Ring time.Duration
	// Talk is the time from the first RTP packet to the BYE; each
	// direction carries Talk/RTPInterval packets.
	Talk time.Duration
}

// withDefaults fills the zero fields and checks the rest.
func (o LoadOptions) withDefaults() (LoadOptions, error) {
	if o.Interval < 0 || o.Ring < 0 || o.Talk < 0 {
		return o, fmt.Errorf("%w: negative duration in %+v", ErrLoadOptions, o)
	}
	if o.Interval == 0 {
		o.Interval = LoadInterval
	}
	if o.Ring == 0 {
		o.Ring = LoadRing
	}
	if o.Talk == 0 {
		o.Talk = LoadTalk
	}
	if o.Talk < RTPInterval {
		return o, fmt.Errorf("%w: talk %v is shorter than one RTP packet (%v)", ErrLoadOptions, o.Talk, RTPInterval)
	}
	return o, nil
}

// RTPPackets returns the RTP packets of one call in each direction.
func (o LoadOptions) RTPPackets() int {
	o, _ = o.withDefaults()
	return int(o.Talk / RTPInterval)
}

// CallPackets returns the frames of one call: INVITE, 100, 180, 200, ACK,
// BYE and its 200, and the RTP both ways.
func (o LoadOptions) CallPackets() int { return 7 + 2*o.RTPPackets() }

// CallLength returns the time from a call's INVITE to its BYE.
func (o LoadOptions) CallLength() time.Duration {
	o, _ = o.withDefaults()
	return tryingDelay + ringingDelay + o.Ring + ackDelay + mediaDelay + o.Talk
}

// Concurrent returns the most of n calls that are up at once (between
// INVITE and BYE): ⌈CallLength/Interval⌉, at most n.
func (o LoadOptions) Concurrent(n int) int {
	o, _ = o.withDefaults()
	l := o.CallLength()
	return min(n, int((l+o.Interval-1)/o.Interval))
}

// LoadPayload fills p with the payload of RTP packet k (from 0) of one
// direction of a Load call, the caller's or the callee's: the same in
// every call, so that a test can check a recording without the capture.
// Payloads repeat every 256 packets and no 160-byte payload is found
// across the boundary of two consecutive ones.
func LoadPayload(p []byte, k int, caller bool) {
	dir := 1
	if caller {
		dir = 0
	}
	fillPayload(p, k, dir)
}
