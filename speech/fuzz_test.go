package speech

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/switchtap/switchtap/sip"
)

// FuzzAnalyzer: any bytes as audio (pairs of little-endian samples, caller
// then callee), fed whole and in blocks of any sizes, never panic, give
// figures within bounds, and the same figures whatever the split.
func FuzzAnalyzer(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0}, []byte{1})
	loud := make([]byte, 4*8000)
	for i := range loud {
		loud[i] = byte(i * 37)
	}
	f.Add(loud, []byte{3, 200, 7, 1})
	f.Fuzz(func(t *testing.T, audio, splits []byte) {
		n := len(audio) / 4
		c, e := make([]int16, n), make([]int16, n)
		for i := range n {
			c[i] = int16(binary.LittleEndian.Uint16(audio[4*i:]))   //nolint:gosec // G115: sample bits.
			e[i] = int16(binary.LittleEndian.Uint16(audio[4*i+2:])) //nolint:gosec // G115: sample bits.
		}
		whole, err := New(DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		whole.Feed(c, e)
		want := whole.Result()
		split, _ := New(DefaultConfig())
		for i, k := 0, 0; i < n; k++ {
			step := 1
			if len(splits) > 0 {
				step = int(splits[k%len(splits)])*int(splits[k%len(splits)]) + 1
			}
			j := min(n, i+step)
			split.Feed(c[i:j], e[i:j])
			i = j
		}
		got := split.Result()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split changes the result:\n%+v\n%+v", got, want)
		}
		checkBounds(t, got, float64(n/FrameSamples)/100)
	})
}

func checkBounds(t *testing.T, s *sip.Speech, length float64) {
	t.Helper()
	const eps = 1e-9
	if s.AnalysedSeconds < length-eps || s.AnalysedSeconds > length+eps {
		t.Fatalf("analysed %v, want %v", s.AnalysedSeconds, length)
	}
	in := func(name string, v float64) {
		if v < 0 || v > length+eps {
			t.Fatalf("%s %v out of [0, %v]", name, v, length)
		}
	}
	in("caller talk", s.TalkSeconds.Caller)
	in("callee talk", s.TalkSeconds.Callee)
	in("silence", s.SilenceSeconds)
	in("overtalk", s.OvertalkSeconds)
	in("longest silence", s.LongestSilenceSeconds+s.LongestSilenceAtSeconds)
	if sum := s.TalkSeconds.Caller + s.TalkSeconds.Callee - s.OvertalkSeconds + s.SilenceSeconds; sum < length-1e-6 || sum > length+1e-6 {
		t.Fatalf("talk+talk-overtalk+silence = %v, want %v", sum, length)
	}
	if s.OvertalkSeconds > min(s.TalkSeconds.Caller, s.TalkSeconds.Callee)+eps {
		t.Fatalf("overtalk %v over a side's talk %+v", s.OvertalkSeconds, s.TalkSeconds)
	}
	if len(s.Segments) > sip.MaxSpeechSegments {
		t.Fatalf("%d segments", len(s.Segments))
	}
	for i, g := range s.Segments {
		in("segment start", g.StartSeconds)
		in("segment end", g.EndSeconds)
		if g.EndSeconds <= g.StartSeconds || i > 0 && g.StartSeconds < s.Segments[i-1].StartSeconds {
			t.Fatalf("segment %d %+v out of order: %+v", i, g, s.Segments)
		}
	}
	for _, p := range []*float64{s.GreetingLatencySeconds, s.CallerFirstSeconds} {
		if p != nil {
			in("first speech", *p)
		}
	}
}
