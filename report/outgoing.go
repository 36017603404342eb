package report

import (
	"context"
	"fmt"
	"slices"

	"github.com/switchtap/switchtap/sip"
)

// FailureUnknown keys OutgoingPart.Failures for a leg that ended with
// neither an end detail nor an end reason (a corrupt record).
const FailureUnknown = "unknown"

// outLeg is what Outgoing keeps of an outbound record between its two
// passes.
type outLeg struct {
	id       string
	answered bool
	failure  string
	audio    outAudio
	recorded bool
	// fromQuality: audio was judged from the quality analysis; mos is
	// the lower of the directions' MOS estimates, 0 when none.
	fromQuality bool
	mos         float64
}

// LowMOSThreshold is the MOS below which an outgoing call counts in
// OutgoingPart.LowMOS. It is the E-model's R = 70 (ITU-T G.107 Annex B:
// MOS(70) = 3.597): G.109 Table 1 puts R < 70 below "medium" quality,
// where "many users" are dissatisfied; a clean G.711 call estimates about
// 4.4, so only loss or jitter bring a call under it.
const LowMOSThreshold = 3.6

// outAudio is what the recorder's per-direction packet counts say of an
// answered leg.
type outAudio int

const (
	// audioUnknown: no counts (no recording, or one rebuilt after a crash
	// whose packets are unknown).
	audioUnknown outAudio = iota
	audioBoth
	audioOneWay
	audioNone
)

// Outgoing computes lineamiento 6a's section of the month's report ("en
// las llamadas salientes mensualmente se verificaría el buen
// funcionamiento del sistema") from the calls whose invite_at falls in the
// month ("YYYY-MM" in opts.Location).
//
// The calls are the same set as Figures' outbound.made: outbound legs of
// the month, without the legs a transfer created or consulted (see
// MonthFigures). Each call not answered counts once in Failures under its
// end detail — the final status code ("486", "603"), "cancel" or "487"
// for a call the receptionist gave up while ringing, "timeout",
// "shutdown" — or its end reason when it has no detail (a leg still open
// is "unknown"), so Made = Answered + Σ Failures. A redirect (3xx) is
// keyed by its code too.
//
// Audio is judged on answered calls from the recording's per-direction
// packet counts: none in either direction is NoAudio, none in exactly one
// is OneWayAudio. When the record carries the recorder's quality analysis
// (issue 13), its one_way_audio decides one-way against both ways
// (QualityJudged counts those calls); without it the counts alone do. A
// call with neither (no recording, or one rebuilt after a crash) is
// judged neither. LowMOS counts the answered calls whose lower MOS
// estimate of the two directions is under LowMOSThreshold. NotRecorded
// counts the answered calls without a WAV (figures' "recorded" is the
// rest), whatever the reason (recording off, encrypted, codec, disk
// floor).
func Outgoing(ctx context.Context, calls Calls, month string, opts FiguresOptions) (*OutgoingPart, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	from, to, err := MonthRange(month, opts.Location)
	if err != nil {
		return nil, err
	}
	// The exclusions are Figures' own (countedLegs).
	legs, err := countedLegs(ctx, calls, from, to, func(c sip.Call) (outLeg, bool) {
		return newOutLeg(c), c.Direction == sip.DirectionOutbound
	})
	if err != nil {
		return nil, fmt.Errorf("outgoing %s: read calls: %w", month, err)
	}
	p := &OutgoingPart{Failures: map[string]int{}, NoAudioIDs: []string{}, OneWayAudioIDs: []string{}}
	for _, l := range legs {
		p.Made++
		if !l.answered {
			p.Failures[l.failure]++
			continue
		}
		p.Answered++
		if !l.recorded {
			p.NotRecorded++
		}
		switch l.audio {
		case audioNone:
			p.NoAudio++
			p.NoAudioIDs = append(p.NoAudioIDs, l.id)
		case audioOneWay:
			p.OneWayAudio++
			p.OneWayAudioIDs = append(p.OneWayAudioIDs, l.id)
		}
		if l.fromQuality {
			p.QualityJudged++
		}
		if l.mos > 0 {
			p.MOSJudged++
			if l.mos < LowMOSThreshold {
				p.LowMOS++
				p.LowMOSIDs = append(p.LowMOSIDs, l.id)
			}
		}
	}
	slices.Sort(p.NoAudioIDs)
	slices.Sort(p.OneWayAudioIDs)
	slices.Sort(p.LowMOSIDs)
	return p, nil
}

func newOutLeg(c sip.Call) outLeg {
	l := outLeg{id: c.ID, answered: c.AnsweredAt != nil}
	if !l.answered {
		l.failure = failureKey(c)
		return l
	}
	if r := c.Recording; r != nil {
		l.recorded = r.File != ""
		l.audio = audioOf(r)
	}
	if q := c.Quality; q != nil {
		l.audio, l.fromQuality = audioOfQuality(l.audio, q)
		for _, s := range []*sip.StreamQuality{q.Caller, q.Callee} {
			if m, ok := mosOf(s); ok && (l.mos == 0 || m < l.mos) {
				l.mos = m
			}
		}
	}
	return l
}

// audioOfQuality refines the packet counts' verdict with the recorder's
// audio analysis. Quality.OneWayAudio counts only G.711 packets, so a
// side that sent nothing but comfort noise or DTMF events is silent,
// which the raw counts miss. A direction without any packet has no audio
// whatever the analysis says, and the analysis has no "neither" verdict
// (one_way_audio is false when both sides lack audio), so a leg the
// counts find one-way or without packets keeps their verdict and is not
// judged from quality.
func audioOfQuality(counts outAudio, q *sip.Quality) (outAudio, bool) {
	if counts == audioNone || counts == audioOneWay {
		return counts, false
	}
	if q.OneWayAudio {
		return audioOneWay, true
	}
	return audioBoth, true
}

// failureKey is the key of an unanswered leg in OutgoingPart.Failures.
func failureKey(c sip.Call) string {
	switch {
	case c.EndDetail != "":
		return c.EndDetail
	case c.EndReason != "":
		return string(c.EndReason)
	}
	return FailureUnknown
}

// audioOf reads the recorder's per-direction packet counts. The recorder
// sets both directions of every answered leg it followed; a recording
// rebuilt after a crash has neither (its packets are unknown).
func audioOf(r *sip.Recording) outAudio {
	if r.Caller == nil || r.Callee == nil {
		return audioUnknown
	}
	caller, callee := r.Caller.Packets > 0, r.Callee.Packets > 0
	switch {
	case caller && callee:
		return audioBoth
	case caller || callee:
		return audioOneWay
	}
	return audioNone
}
