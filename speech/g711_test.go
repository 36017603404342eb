package speech

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/zaf/g711"

	"github.com/switchtap/switchtap/speech/speechtest"
)

// decodeCodes is what a decoder gives for codes of law.
func decodeCodes(law Law, codes []byte) []int16 {
	out := make([]int16, len(codes))
	for i, c := range codes {
		if law == ALaw {
			out[i] = g711.DecodeAlawFrame(c)
		} else {
			out[i] = g711.DecodeUlawFrame(c)
		}
	}
	return out
}

func encodeSamples(law Law, s []int16) []byte {
	out := make([]byte, len(s))
	for i, x := range s {
		if law == ALaw {
			out[i] = g711.EncodeAlawFrame(x)
		} else {
			out[i] = g711.EncodeUlawFrame(x)
		}
	}
	return out
}

// sameAsDecoded feeds codes to one analyzer by FeedG711 in blocks of the
// given sizes (cycled) and their decoded samples to another by Feed, and
// fails unless the figures are the same.
func sameAsDecoded(t *testing.T, law Law, c, e []byte, blocks []int) {
	t.Helper()
	viaCodes, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	viaSamples, _ := New(DefaultConfig())
	viaSamples.Feed(decodeCodes(law, c), decodeCodes(law, e))
	for i, k := 0, 0; i < len(c); k++ {
		j := min(len(c), i+blocks[k%len(blocks)])
		viaCodes.FeedG711(law, c[i:j], e[i:j])
		i = j
	}
	got, want := viaCodes.Result(), viaSamples.Result()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("law %d: FeedG711 gives\n%+v\nFeed of the decoded samples\n%+v", law, got, want)
	}
}

// TestFeedG711MatchesFeed: codes give exactly the figures of their decoded
// samples, in any blocks, for both laws: random bursts of loud and quiet
// codes (every code, both signs, onsets in every position of a frame) and
// a spoken exchange with noise.
func TestFeedG711MatchesFeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	const n = 60 * SampleRate
	c, e := make([]byte, n), make([]byte, n)
	for _, side := range [][]byte{c, e} {
		for i := 0; i < n; {
			run := 1 + rng.IntN(3*SampleRate)
			loud := rng.IntN(3) == 0
			for j := i; j < min(n, i+run); j++ {
				x := byte(rng.IntN(256))
				if !loud {
					x |= 0x70 // small magnitudes of either sign
				}
				side[j] = x
			}
			i += run
		}
	}
	for _, law := range []Law{ULaw, ALaw} {
		sameAsDecoded(t, law, c, e, []int{n})
		sameAsDecoded(t, law, c, e, []int{1, 79, 80, 81, 160, 256, 7})
	}

	speechtest.Tools(t)
	tl := speechtest.NewTimeline(8)
	tl.Say(speechtest.Callee, 6800, speechtest.Phrase(t, "en+f3", "Good morning this is the front desk"))
	tl.Say(speechtest.Caller, 30000, speechtest.Phrase(t, "en", "I would like to book a room"))
	for s := range 2 {
		tl.Add(s, 0, speechtest.Noise(t, "whitenoise", len(tl.Side[s]), 0.003))
	}
	for _, law := range []Law{ULaw, ALaw} {
		sameAsDecoded(t, law, encodeSamples(law, tl.Side[0]), encodeSamples(law, tl.Side[1]), []int{256, 160, 33})
	}
}

// FuzzG711: any codes, any law and any blocks give the figures of the
// decoded samples.
func FuzzG711(f *testing.F) {
	f.Add([]byte{0xFF, 0x7F, 0x00, 0x80}, []byte{1}, false)
	loud := make([]byte, 2*8000)
	for i := range loud {
		loud[i] = byte(i * 37)
	}
	f.Add(loud, []byte{3, 200, 7, 1}, true)
	f.Fuzz(func(t *testing.T, codes, splits []byte, alaw bool) {
		law := ULaw
		if alaw {
			law = ALaw
		}
		n := len(codes) / 2
		blocks := []int{n + 1}
		if len(splits) > 0 {
			blocks = blocks[:0]
			for _, s := range splits {
				blocks = append(blocks, int(s)*int(s)+1)
			}
		}
		sameAsDecoded(t, law, codes[:n], codes[n:2*n], blocks)
	})
}
