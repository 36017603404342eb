package speech

import (
	"testing"

	"github.com/switchtap/switchtap/speech/speechtest"
)

// BenchmarkFrame is the cost of one 10 ms frame of both sides (the unit
// of issue 13's CPU figure: ×100 is a second of a leg), spoken audio with
// noise, fed in 20 ms blocks as the mixer flushes.
func BenchmarkFrame(b *testing.B) {
	tl := benchTimeline(b)
	benchFeed(b, len(tl.Side[0]), func(a *Analyzer, i, j int) { a.Feed(tl.Side[0][i:j], tl.Side[1][i:j]) })
}

// BenchmarkFrameG711 is BenchmarkFrame on the μ-law codes of the same
// audio, as the recorder feeds a G.711 recording (FeedG711).
func BenchmarkFrameG711(b *testing.B) {
	tl := benchTimeline(b)
	c, e := encodeSamples(ULaw, tl.Side[0]), encodeSamples(ULaw, tl.Side[1])
	benchFeed(b, len(c), func(a *Analyzer, i, j int) { a.FeedG711(ULaw, c[i:j], e[i:j]) })
}

// benchFeed feeds samples [i, j) of n to one analyzer in 20 ms blocks, a
// block per two frames of b.N, round and round.
func benchFeed(b *testing.B, n int, feed func(a *Analyzer, i, j int)) {
	a, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	const block = 2 * FrameSamples
	n = n / block * block
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for k := 0; k < b.N; k += 2 {
		if i == n {
			i = 0
		}
		feed(a, i, i+block)
		i += block
	}
}

// benchTimeline is a spoken exchange over white noise.
func benchTimeline(b *testing.B) *speechtest.Timeline {
	tl := speechtest.NewTimeline(14)
	tl.Say(speechtest.Callee, 6800, speechtest.Phrase(b, "en+f3", "Good morning this is the front desk"))
	tl.Say(speechtest.Caller, 40000, speechtest.Phrase(b, "en", "I would like to book a room for Friday"))
	for s := range 2 {
		tl.Add(s, 0, speechtest.Noise(b, "whitenoise", len(tl.Side[s]), 0.003))
	}
	return tl
}
