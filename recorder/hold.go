package recorder

import (
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/sip/sdp"
)

// minAudioGap is the shortest time without audio packets that the audio
// hold figure counts. A G.711 sender puts a packet on the wire every 10 to
// 60 ms while the line is open: a burst of loss, a jitter spike or a media
// path re-anchored by a re-INVITE leaves gaps of at most a few hundred ms,
// while a hold ("one moment, please") lasts seconds. 2 s lies between; a
// shorter gap is network, not a person holding. A listener whose phone
// suppresses silence (RFC 3551 §4.1, comfort noise only, RFC 3389) looks
// the same as a held one: that is why the signalled figure comes first.
const minAudioGap = 2 * time.Second

// withHold adds the leg's time on hold up to its end to q, the RTP quality
// (quality.go). A recorded leg without RTP that the SDP put on hold gets a
// quality object for the hold alone; a leg without a recording gets none
// (the record omits speech and quality then).
func (l *leg) withHold(q *sip.Quality, end time.Time, recorded bool) *sip.Quality {
	hold := l.hold.seconds(l.answerAt, end)
	if q == nil {
		if hold == 0 || !recorded {
			return nil
		}
		q = &sip.Quality{}
	}
	q.HoldSeconds, q.HoldAudioSeconds = hold, l.gaps.seconds(end)
	return q
}

// holdSignal follows what the SDP of each side of a leg says about hold
// (RFC 3264 §8.4, RFC 6337 §5): a side whose latest description is
// sendonly, inactive (media or session level) or has the RFC 2543
// c=0.0.0.0 puts the other side on hold; sendrecv (or no attribute) and
// recvonly (the answer to a hold) do not. The leg is on hold while either
// side holds; only the answered part counts.
type holdSignal struct {
	caller, callee bool
	on             bool
	since          time.Time
	total          time.Duration
}

// media takes the audio m= line of a new SDP of one side (nil: none).
// answered and answerAt say whether, and since when, the leg is answered:
// SDP comes in capture order, so hold before the answer is not counted.
func (h *holdSignal) media(fromCaller bool, m *sdp.Media, at time.Time, answered bool, answerAt time.Time) {
	held := m != nil && m.OnHold()
	if fromCaller {
		h.caller = held
	} else {
		h.callee = held
	}
	on := h.caller || h.callee
	if on == h.on {
		return
	}
	h.on = on
	if on {
		h.since = at
		return
	}
	if answered {
		h.total += span(h.since, at, answerAt)
	}
}

// seconds is the time on hold of a leg answered at answerAt and ended at
// end: a hold still in effect closes at the end.
func (h *holdSignal) seconds(answerAt, end time.Time) float64 {
	t := h.total
	if h.on {
		t += span(h.since, end, answerAt)
	}
	return t.Seconds()
}

// span is the length of [from, to] after floor, 0 when empty.
func span(from, to, floor time.Time) time.Duration {
	if from.Before(floor) {
		from = floor
	}
	if !to.After(from) {
		return 0
	}
	return to.Sub(from)
}

// interval is a closed span of capture time, in nanoseconds since the Unix
// epoch (time.Time.UnixNano).
type interval struct{ from, to int64 }

// audioGaps measures hold from the audio alone: the time one direction
// carried no audio packets (comfort noise and events are not audio) for
// at least minAudioGap while the other did, from the answer on. A packet
// captured at t with n samples covers [t, t+n/8000]: paced packets leave
// no gap, a missing one leaves exactly its length. The sweep follows the
// capture clock: done is the time up to which both directions' state is
// known and counted. A direction is known up to the end of its last audio
// packet, or up to now once it has been silent for minAudioGap, so the
// sweep trails the clock by less than minAudioGap and each direction keeps
// at most a couple of gaps: memory per leg is fixed.
//
// Its times are nanoseconds since the epoch, not time.Time: it runs for
// every audio packet of every recorded leg, and time.Time's Add, Sub and
// comparisons (seconds and nanoseconds apart, with overflow checks) were
// 3 % of the daemon's CPU with 1,000 legs recorded. Capture times lie well
// inside int64 nanoseconds (years 1678 to 2262).
type audioGaps struct {
	started bool
	done    int64
	end     [2]int64      // end of each direction's last audio packet
	gaps    [2][]interval // closed gaps ending after done
	total   time.Duration
	// buf holds a direction's gaps with its open one while advance
	// counts them, so a packet allocates nothing.
	buf [2][4]interval
}

// start begins the sweep at the answer: a direction that has not sent
// audio yet is silent since then.
func (g *audioGaps) start(answerAt time.Time) {
	at := answerAt.UnixNano()
	g.started, g.done = true, at
	g.end = [2]int64{at, at}
}

// packet takes an audio packet of channel c captured at at carrying
// samples samples.
func (g *audioGaps) packet(c int, at time.Time, samples int) {
	now := at.UnixNano()
	to := now + int64(time.Duration(samples)*time.Second/sampleRate)
	if !g.started || to <= g.end[c] {
		return // reordered or duplicated: its span is known
	}
	if now-g.end[c] >= int64(minAudioGap) {
		g.gaps[c] = append(g.gaps[c], interval{g.end[c], now})
	}
	g.end[c] = to
	g.advance(now)
}

// advance counts what is known at capture time now.
func (g *audioGaps) advance(now int64) {
	const minGap = int64(minAudioGap)
	if len(g.gaps[0]) == 0 && len(g.gaps[1]) == 0 && now-g.end[0] < minGap && now-g.end[1] < minGap {
		// Both directions sending, no gap to count: what follows would
		// only move done (the common case, every packet of a call).
		g.done = max(g.done, min(g.end[0], g.end[1]))
		return
	}
	var known [2]int64
	var silent [2][]interval
	for c := range 2 {
		known[c] = g.end[c]
		silent[c] = append(g.buf[c][:0], g.gaps[c]...)
		if now-g.end[c] >= minGap {
			known[c] = now
			silent[c] = append(silent[c], interval{g.end[c], now})
		}
	}
	to := min(known[0], known[1])
	if to <= g.done {
		return
	}
	a, b := clip(silent[0], g.done, to), clip(silent[1], g.done, to)
	// One direction silent, the other not: |A| + |B| - 2|A ∩ B|.
	g.total += time.Duration(a + b - 2*overlap(silent[0], silent[1], g.done, to))
	g.done = to
	for c := range 2 {
		keep := g.gaps[c][:0]
		for _, iv := range g.gaps[c] {
			if iv.to > to {
				keep = append(keep, iv)
			}
		}
		g.gaps[c] = keep
	}
}

// seconds closes the sweep at the leg's end: a direction silent up to the
// end for minAudioGap or more counts up to it, a shorter silence there is
// not a gap.
func (g *audioGaps) seconds(end time.Time) float64 {
	if !g.started {
		return 0
	}
	e := end.UnixNano()
	for c := range 2 {
		if e-g.end[c] < int64(minAudioGap) && e > g.end[c] {
			g.end[c] = e
		}
	}
	g.advance(e)
	return g.total.Seconds()
}

// clip is the length of the intervals within [from, to], in nanoseconds.
func clip(ivs []interval, from, to int64) int64 {
	var d int64
	for _, iv := range ivs {
		d += within(iv, from, to)
	}
	return d
}

// overlap is the length of the intersection of two sets of disjoint
// intervals within [from, to], in nanoseconds.
func overlap(a, b []interval, from, to int64) int64 {
	var d int64
	for _, x := range a {
		for _, y := range b {
			d += within(interval{max(x.from, y.from), min(x.to, y.to)}, from, to)
		}
	}
	return d
}

// within is the length of iv within [from, to], in nanoseconds.
func within(iv interval, from, to int64) int64 {
	return max(0, min(iv.to, to)-max(iv.from, from))
}
