package recorder

import (
	"testing"
	"time"
)

// The audio hold sweep as it was before it kept nanoseconds instead of
// time.Time (audioGaps): the reference FuzzAudioGaps holds it to.

// refInterval is interval in time.Time.
type refInterval struct{ from, to time.Time }

// refGaps measures hold from the audio alone: the time one direction
// carried no audio packets (comfort noise and events are not audio) for
// at least minAudioGap while the other did, from the answer on. A packet
// captured at t with n samples covers [t, t+n/8000]: paced packets leave
// no gap, a missing one leaves exactly its length. The sweep follows the
// capture clock: done is the time up to which both directions' state is
// known and counted. A direction is known up to the end of its last audio
// packet, or up to now once it has been silent for minAudioGap, so the
// sweep trails the clock by less than minAudioGap and each direction keeps
// at most a couple of gaps: memory per leg is fixed.
type refGaps struct {
	started bool
	done    time.Time
	end     [2]time.Time     // end of each direction's last audio packet
	gaps    [2][]refInterval // closed gaps ending after done
	total   time.Duration
	// buf holds a direction's gaps with its open one while advance
	// counts them, so a packet allocates nothing.
	buf [2][4]refInterval
}

// start begins the sweep at the answer: a direction that has not sent
// audio yet is silent since then.
func (g *refGaps) start(answerAt time.Time) {
	g.started, g.done = true, answerAt
	g.end = [2]time.Time{answerAt, answerAt}
}

// packet takes an audio packet of channel c captured at at carrying
// samples samples.
func (g *refGaps) packet(c int, at time.Time, samples int) {
	to := at.Add(time.Duration(samples) * time.Second / sampleRate)
	if !g.started || !to.After(g.end[c]) {
		return // reordered or duplicated: its span is known
	}
	if at.Sub(g.end[c]) >= minAudioGap {
		g.gaps[c] = append(g.gaps[c], refInterval{g.end[c], at})
	}
	g.end[c] = to
	g.advance(at)
}

// advance counts what is known at capture time now.
func (g *refGaps) advance(now time.Time) {
	if len(g.gaps[0]) == 0 && len(g.gaps[1]) == 0 && now.Sub(g.end[0]) < minAudioGap && now.Sub(g.end[1]) < minAudioGap {
		// Both directions sending, no gap to count: what follows would
		// only move done (the common case, every packet of a call).
		to := g.end[0]
		if g.end[1].Before(to) {
			to = g.end[1]
		}
		if to.After(g.done) {
			g.done = to
		}
		return
	}
	var known [2]time.Time
	var silent [2][]refInterval
	for c := range 2 {
		known[c] = g.end[c]
		silent[c] = append(g.buf[c][:0], g.gaps[c]...)
		if now.Sub(g.end[c]) >= minAudioGap {
			known[c] = now
			silent[c] = append(silent[c], refInterval{g.end[c], now})
		}
	}
	to := known[0]
	if known[1].Before(to) {
		to = known[1]
	}
	if !to.After(g.done) {
		return
	}
	a, b := refClip(silent[0], g.done, to), refClip(silent[1], g.done, to)
	// One direction silent, the other not: |A| + |B| - 2|A ∩ B|.
	g.total += a + b - 2*refOverlap(silent[0], silent[1], g.done, to)
	g.done = to
	for c := range 2 {
		keep := g.gaps[c][:0]
		for _, iv := range g.gaps[c] {
			if iv.to.After(to) {
				keep = append(keep, iv)
			}
		}
		g.gaps[c] = keep
	}
}

// seconds closes the sweep at the leg's end: a direction silent up to the
// end for minAudioGap or more counts up to it, a shorter silence there is
// not a gap.
func (g *refGaps) seconds(end time.Time) float64 {
	if !g.started {
		return 0
	}
	for c := range 2 {
		if end.Sub(g.end[c]) < minAudioGap && end.After(g.end[c]) {
			g.end[c] = end
		}
	}
	g.advance(end)
	return g.total.Seconds()
}

// clip is the length of the refIntervals within [from, to].
func refClip(ivs []refInterval, from, to time.Time) time.Duration {
	var d time.Duration
	for _, iv := range ivs {
		d += refWithin(iv, from, to)
	}
	return d
}

// overlap is the length of the intersection of two sets of disjoint
// refIntervals within [from, to].
func refOverlap(a, b []refInterval, from, to time.Time) time.Duration {
	var d time.Duration
	for _, x := range a {
		for _, y := range b {
			lo, hi := x.from, x.to
			if y.from.After(lo) {
				lo = y.from
			}
			if y.to.Before(hi) {
				hi = y.to
			}
			d += refWithin(refInterval{lo, hi}, from, to)
		}
	}
	return d
}

// within is the length of iv within [from, to].
func refWithin(iv refInterval, from, to time.Time) time.Duration {
	if iv.from.After(from) {
		from = iv.from
	}
	if iv.to.Before(to) {
		to = iv.to
	}
	if !to.After(from) {
		return 0
	}
	return to.Sub(from)
}

// FuzzAudioGaps: for any sequence of audio packets (either direction, any
// gap, reordered, duplicated or late) and any end, audioGaps gives the
// figure of the time.Time sweep it replaced, to the nanosecond.
func FuzzAudioGaps(f *testing.F) {
	f.Add([]byte{0, 20, 1, 20, 0, 20, 1, 255, 1, 255, 0, 20}, uint16(500))
	f.Add([]byte{0, 20, 1, 21, 0, 3, 0, 200, 1, 0, 1, 0, 0, 250, 0, 250, 1, 90}, uint16(3000))
	f.Fuzz(func(t *testing.T, steps []byte, endMs uint16) {
		var g audioGaps
		var ref refGaps
		answer := t0.Add(123456789)
		g.start(answer)
		ref.start(answer)
		at := answer
		for i := 0; i+1 < len(steps); i += 2 {
			// A step's first byte is the direction and the packet's
			// size, its second how far the capture clock moves: up to
			// 6.35 s forward, or back up to 3.2 s (a late packet).
			c := int(steps[i] & 1)
			samples := 80 * (1 + int(steps[i]>>1&3))
			d := time.Duration(int8(steps[i+1])) * 50 * time.Millisecond
			if d < 0 {
				d /= 2
			}
			at = at.Add(d + time.Duration(steps[i]>>3)*time.Millisecond)
			g.packet(c, at, samples)
			ref.packet(c, at, samples)
			if g.total != ref.total {
				t.Fatalf("after packet %d: %v, reference %v", i/2, g.total, ref.total)
			}
		}
		end := at.Add(time.Duration(endMs) * time.Millisecond)
		if got, want := g.seconds(end), ref.seconds(end); got != want {
			t.Fatalf("hold from the audio %v s, reference %v s", got, want)
		}
	})
}

// BenchmarkAudioGaps: one audio packet of a call with both directions
// sending (the common case: every packet of every recorded leg), by the
// sweep in nanoseconds and by the time.Time reference.
func BenchmarkAudioGaps(b *testing.B) {
	b.Run("nanoseconds", benchSweep[audioGaps])
	b.Run("time", benchSweep[refGaps])
}

// benchSweep feeds a sweep of type S two packets, one each way, a loop.
func benchSweep[S any, P interface {
	*S
	start(time.Time)
	packet(c int, at time.Time, samples int)
}](b *testing.B) {
	g := P(new(S))
	g.start(t0)
	at := t0
	for b.Loop() {
		at = at.Add(10 * time.Millisecond)
		g.packet(left, at, 160)
		g.packet(right, at, 160)
	}
}
