package uplink

import "time"

// backoff is the wait after consecutive failures: min·2^(n-1) capped at
// max, then "equal jitter" (a uniform draw in [d/2, d]) so boxes that
// lost the server together do not come back together, yet never wait less
// than half the step.
type backoff struct {
	min, max time.Duration
	// rand returns a uniform float64 in [0, 1) (injected for tests).
	rand  func() float64
	fails int
}

// next counts a failure and returns how long to wait.
func (b *backoff) next() time.Duration {
	b.fails++
	d := b.min
	for i := 1; i < b.fails && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	half := d / 2
	return half + time.Duration(b.rand()*float64(d-half))
}

// reset forgets the failures after a success.
func (b *backoff) reset() { b.fails = 0 }
