package speech

import (
	"math"
	"testing"

	"github.com/switchtap/switchtap/speech/speechtest"
)

type fixture struct {
	name  string
	build func(t *testing.T) *speechtest.Timeline
}

func sec(s float64) int { return int(s * speechtest.Rate) }

// fixtures are the spoken legs: callee greets after a known delay, the
// caller answers, each with known pauses; variants add overtalk, noise at
// 20 dB SNR, G.711 idle patterns, DTX gaps and comfort noise.
func fixtures() []fixture {
	base := func(t *testing.T, over bool) *speechtest.Timeline {
		tl := speechtest.NewTimeline(14)
		greet := speechtest.Phrase(t, "en+f3", "Good morning this is the front desk")
		help := speechtest.Phrase(t, "en+f3", "How may I help you today")
		ask := speechtest.Phrase(t, "en", "I would like to book a room for Friday")
		thanks := speechtest.Phrase(t, "en", "Thank you very much")
		tl.Say(speechtest.Callee, sec(0.85), greet)
		tl.Say(speechtest.Callee, sec(4.1), help)
		at := 6.6
		if over {
			at = 4.6 // the caller starts while the callee still talks
		}
		tl.Say(speechtest.Caller, sec(at), ask)
		tl.Say(speechtest.Caller, sec(10.3), thanks)
		return tl
	}
	return []fixture{
		{"clean", func(t *testing.T) *speechtest.Timeline { return base(t, false) }},
		{"overtalk", func(t *testing.T) *speechtest.Timeline { return base(t, true) }},
		{"noise 20 dB SNR", func(t *testing.T) *speechtest.Timeline {
			tl := base(t, false)
			for s := range 2 {
				rms := tl.SpeechRMS(s) / math.Pow(10, 20.0/20)
				tl.Add(s, 0, speechtest.Noise(t, "whitenoise", len(tl.Side[s]), rms))
			}
			return tl
		}},
		{"A-law idle pattern", func(t *testing.T) *speechtest.Timeline {
			tl := base(t, true)
			// 0xD5/0x55 decode to ±8: the idle pattern fills what is not
			// speech (the clips' own silence is zero).
			for s := range 2 {
				for i, v := range tl.Side[s] {
					if v == 0 {
						tl.Side[s][i] = int16(8 - 16*(i&1))
					}
				}
			}
			return tl
		}},
		{"DTX gaps and comfort noise", func(t *testing.T) *speechtest.Timeline {
			tl := base(t, false)
			// Comfort noise at -60 dBov on both sides, except DTX gaps
			// (no packets: zeros) in the pauses.
			for s := range 2 {
				tl.Add(s, 0, speechtest.Noise(t, "pinknoise", len(tl.Side[s]), math.Pow(10, -60.0/20)))
			}
			tl.Fill(speechtest.Callee, speechtest.Span{From: sec(2.9), To: sec(3.9)}, 0)
			tl.Fill(speechtest.Caller, speechtest.Span{From: sec(0), To: sec(6.2)}, 0)
			tl.Fill(speechtest.Caller, speechtest.Span{From: sec(9.2), To: sec(10.1)}, 0)
			return tl
		}},
	}
}

func TestFixtures(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			tl := fx.build(t)
			a, err := New(DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			// Blocks of 160 samples, as 20 ms packets.
			for i := 0; i < len(tl.Side[0]); i += 160 {
				j := min(i+160, len(tl.Side[0]))
				a.Feed(tl.Side[0][i:j], tl.Side[1][i:j])
			}
			got := a.Result()
			speechtest.Check(t, got, tl)
			t.Logf("truth %+v", tl.Truth())
			t.Logf("got talk %+v silence %.3f overtalk %.3f greeting %v caller %v segs %+v", got.TalkSeconds, got.SilenceSeconds, got.OvertalkSeconds, deref(got.GreetingLatencySeconds), deref(got.CallerFirstSeconds), got.Segments)
		})
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
