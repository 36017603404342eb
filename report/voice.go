package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// DefaultGreetingLimit is the greeting latency above which a call counts
// in VoiceBlock.GreetingOverLimit when FiguresOptions.GreetingLimit is
// zero. The protocol's Saludo asks the receptionist to identify
// themselves "at once"; 3 s after the answer is the point where a caller
// hears dead air and starts saying "¿aló?" first (the caller_first figure
// then precedes the greeting). It is a constant until the config package
// carries a report.greeting_limit key beside report.short_abandon.
const DefaultGreetingLimit = 3 * time.Second

// VoicePart is what the recordings of the month's answered inbound calls
// show without listening (issue 13): the greeting latency, the shares of
// talk, silence and overtalk, and the MOS estimate per direction, over
// all receptionists and per receptionist.
//
// The calls are Figures' answered inbound calls (the same exclusions of
// transfer legs) that carry a speech analysis (record key speech); a call
// recorded without one (recording off, encrypted, an older record) is
// left out, so Calls ≤ Inbound.Recorded ≤ Inbound.Answered.
type VoicePart struct {
	// GreetingLimitSeconds is the limit GreetingOverLimit counts against.
	GreetingLimitSeconds float64    `json:"greeting_limit_seconds"`
	All                  VoiceBlock `json:"all"`
	// ByOperator is keyed like MonthFigures.ByOperator: every configured
	// receptionist present, an unconfigured operator under its own name.
	ByOperator map[string]*VoiceBlock `json:"by_operator"`
}

// VoiceBlock are the voice figures of a set of calls. Percentiles are by
// the nearest-rank method, as Inbound's answer percentiles: the p-th
// percentile of n values is the value of rank ⌈p/100 × n⌉ (1-based) in
// ascending order, so it is always one of the measured values; null when
// n is 0.
type VoiceBlock struct {
	// Calls counts the answered inbound calls with a speech analysis.
	Calls int `json:"calls"`
	// Greeting is the distribution of speech.greeting_latency_seconds (s,
	// rounded to the millisecond) over the calls where the receptionist
	// spoke; NoGreeting counts those where they never did.
	Greeting   Dist `json:"greeting"`
	NoGreeting int  `json:"no_greeting"`
	// GreetingOverLimit counts the greetings later than the limit
	// (strictly above it), GreetingOverLimitPct their share of
	// Greeting.N × 100 (rounded to 0.01, null when N is 0). A call with
	// no greeting is in NoGreeting, not here.
	GreetingOverLimit    int      `json:"greeting_over_limit"`
	GreetingOverLimitPct *float64 `json:"greeting_over_limit_pct"`
	// TalkCaller, TalkReceptionist, Silence and Overtalk are the
	// distributions over the calls of each call's share (%, rounded to
	// 0.01) of its analysed audio: the caller's speech, the
	// receptionist's, both silent, both speaking. A call with no audio
	// analysed is in none of them.
	TalkCaller       Dist `json:"talk_caller_pct"`
	TalkReceptionist Dist `json:"talk_receptionist_pct"`
	Silence          Dist `json:"silence_pct"`
	Overtalk         Dist `json:"overtalk_pct"`
	// MOSCaller is the E-model MOS (rounded to 0.01) of the audio the
	// caller sent (what the receptionist heard), MOSReceptionist of the
	// audio the receptionist sent; over the calls with an estimate (a
	// G.711 direction with RTP). The low tail matters: P10.
	MOSCaller       Dist `json:"mos_caller"`
	MOSReceptionist Dist `json:"mos_receptionist"`

	greet                           []float64
	talkA, talkB, silence, overtalk []float64
	mosA, mosB                      []float64
	limit                           float64
}

// Dist is a distribution by nearest rank (see VoiceBlock).
type Dist struct {
	N   int      `json:"n"`
	P10 *float64 `json:"p10"`
	P50 *float64 `json:"p50"`
	P90 *float64 `json:"p90"`
}

// Voice computes the voice part of the month's report ("YYYY-MM" in
// opts.Location) from the calls whose invite_at falls in it.
func Voice(ctx context.Context, calls Calls, month string, opts FiguresOptions) (*VoicePart, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	from, to, err := MonthRange(month, opts.Location)
	if err != nil {
		return nil, err
	}
	type voiceLeg struct {
		operator string
		speech   *sip.Speech
		quality  *sip.Quality
	}
	// The exclusions are Figures' own (countedLegs).
	legs, err := countedLegs(ctx, calls, from, to, func(c sip.Call) (voiceLeg, bool) {
		return voiceLeg{operator: c.Operator, speech: c.Speech, quality: c.Quality},
			c.Direction == sip.DirectionInbound && c.AnsweredAt != nil && c.Speech != nil
	})
	if err != nil {
		return nil, fmt.Errorf("voice %s: read calls: %w", month, err)
	}
	limit := opts.GreetingLimit.Seconds()
	p := &VoicePart{GreetingLimitSeconds: limit, All: VoiceBlock{limit: limit},
		ByOperator: make(map[string]*VoiceBlock, len(opts.Receptionists))}
	for _, r := range opts.Receptionists {
		p.ByOperator[r] = &VoiceBlock{limit: limit}
	}
	for _, l := range legs {
		p.All.add(l.speech, l.quality)
		if l.operator == "" {
			continue
		}
		b := p.ByOperator[l.operator]
		if b == nil {
			b = &VoiceBlock{limit: limit}
			p.ByOperator[l.operator] = b
		}
		b.add(l.speech, l.quality)
	}
	p.All.finish()
	for _, b := range p.ByOperator {
		b.finish()
	}
	return p, nil
}

// add counts one inbound call: on an inbound leg the caller is the
// outside party and the callee, the answering side, the receptionist.
func (b *VoiceBlock) add(s *sip.Speech, q *sip.Quality) {
	b.Calls++
	if g := s.GreetingLatencySeconds; g != nil {
		v := roundTo(*g, 1000)
		b.greet = append(b.greet, v)
		if v > b.limit {
			b.GreetingOverLimit++
		}
	} else {
		b.NoGreeting++
	}
	if a := s.AnalysedSeconds; a > 0 {
		share := func(v float64) float64 { return roundTo(v/a*100, 100) }
		b.talkA = append(b.talkA, share(s.TalkSeconds.Caller))
		b.talkB = append(b.talkB, share(s.TalkSeconds.Callee))
		b.silence = append(b.silence, share(s.SilenceSeconds))
		b.overtalk = append(b.overtalk, share(s.OvertalkSeconds))
	}
	if q == nil {
		return
	}
	// The recorder leaves MOS at 0 for a direction it could not estimate
	// (a codec other than G.711); a computed MOS is at least 1 (G.107
	// Annex B).
	if m, ok := mosOf(q.Caller); ok {
		b.mosA = append(b.mosA, roundTo(m, 100))
	}
	if m, ok := mosOf(q.Callee); ok {
		b.mosB = append(b.mosB, roundTo(m, 100))
	}
}

// mosOf is a direction's MOS estimate, false when it has none.
func mosOf(s *sip.StreamQuality) (float64, bool) {
	if s == nil || s.MOS < 1 {
		return 0, false
	}
	return s.MOS, true
}

func (b *VoiceBlock) finish() {
	b.Greeting = distOf(b.greet)
	if b.Greeting.N > 0 {
		b.GreetingOverLimitPct = figPtr(roundTo(float64(b.GreetingOverLimit)/float64(b.Greeting.N)*100, 100))
	}
	b.TalkCaller = distOf(b.talkA)
	b.TalkReceptionist = distOf(b.talkB)
	b.Silence = distOf(b.silence)
	b.Overtalk = distOf(b.overtalk)
	b.MOSCaller = distOf(b.mosA)
	b.MOSReceptionist = distOf(b.mosB)
}

// distOf sorts v (in place) and returns its nearest-rank percentiles.
func distOf(v []float64) Dist {
	d := Dist{N: len(v)}
	if len(v) == 0 {
		return d
	}
	slices.Sort(v)
	d.P10 = figPtr(nearestRank(v, 10))
	d.P50 = figPtr(nearestRank(v, 50))
	d.P90 = figPtr(nearestRank(v, 90))
	return d
}
