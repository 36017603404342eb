package recorder

import (
	"math"

	"github.com/switchtap/switchtap/sip"
)

// roundTo rounds x to the given number of decimals: the figures are
// measured to a sample (125 µs) or a 10 ms frame, and a record that says
// 9.700000000000001 claims a precision nobody measured.
func roundTo(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}

// roundSpeech rounds times to the millisecond.
func roundSpeech(sp *sip.Speech) *sip.Speech {
	if sp == nil {
		return nil
	}
	ms := func(p *float64) { *p = roundTo(*p, 3) }
	for _, p := range []*float64{&sp.TalkSeconds.Caller, &sp.TalkSeconds.Callee, &sp.SilenceSeconds, &sp.OvertalkSeconds,
		&sp.AnalysedSeconds, &sp.LongestSilenceSeconds, &sp.LongestSilenceAtSeconds} {
		ms(p)
	}
	for _, p := range []*float64{sp.GreetingLatencySeconds, sp.CallerFirstSeconds} {
		if p != nil {
			ms(p)
		}
	}
	for i := range sp.Segments {
		ms(&sp.Segments[i].StartSeconds)
		ms(&sp.Segments[i].EndSeconds)
	}
	return sp
}

// roundQuality rounds jitter to the microsecond, loss to 0.001 %, R to
// 0.01 and MOS to 0.001.
func roundQuality(q *sip.Quality) *sip.Quality {
	if q == nil {
		return nil
	}
	for _, s := range []*sip.StreamQuality{q.Caller, q.Callee} {
		if s == nil {
			continue
		}
		s.JitterMeanMs, s.JitterMaxMs = roundTo(s.JitterMeanMs, 3), roundTo(s.JitterMaxMs, 3)
		s.LossPercent = roundTo(s.LossPercent, 3)
		s.RFactor, s.MOS = roundTo(s.RFactor, 2), roundTo(s.MOS, 3)
	}
	q.HoldSeconds, q.HoldAudioSeconds = roundTo(q.HoldSeconds, 3), roundTo(q.HoldAudioSeconds, 3)
	return q
}
