package speech

import (
	"encoding/binary"
	"math"
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

// TestResultLeavesAnalyzer calls Result after every block of a leg whose
// turns outnumber MaxSpeechSegments, many of the calls with a turn open
// that began before turns of the other side that have ended (so Result
// adds it among them, not after them): the analyzer must go on as if it
// had not been asked, so the final figures equal those of an analyzer
// never asked before the end.
func TestResultLeavesAnalyzer(t *testing.T) {
	const cycles = 30
	// Each 4.8 s cycle: the caller talks 3 s (a 300 Hz tone) and the
	// callee twice 0.4 s (450 Hz) inside it; under them a line's hiss at
	// -37 dBov, above the detector's minimum level, so the noise floor
	// comes back down to it after each tone (in silence under that level
	// the floor stays where the tones raised it, and later tones would
	// not count).
	cycle := int(4.8 * SampleRate)
	n := cycles * cycle
	c, e := make([]int16, n), make([]int16, n)
	rnd := uint32(1)
	for i := range n {
		for _, side := range [][]int16{c, e} {
			rnd = rnd*1664525 + 1013904223
			side[i] = int16(rnd>>21) - 1024 //nolint:gosec // G115: 11 bits.
		}
	}
	tone := func(side []int16, from, to, hz float64) {
		for i := int(from * SampleRate); i < int(to*SampleRate); i++ {
			side[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/SampleRate))
		}
	}
	for k := range cycles {
		at := float64(k) * 4.8
		tone(c, at, at+3, 300)
		tone(e, at+0.6, at+1.0, 450)
		tone(e, at+1.8, at+2.2, 450)
	}
	plain, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	asked, _ := New(DefaultConfig())
	const block = 1234 // samples: frames split across blocks
	for i := 0; i < n; i += block {
		j := min(n, i+block)
		plain.Feed(c[i:j], e[i:j])
		asked.Feed(c[i:j], e[i:j])
		_ = asked.Result()
	}
	want, got := plain.Result(), asked.Result()
	if len(want.Segments) != sip.MaxSpeechSegments || !want.SegmentsTruncated {
		t.Fatalf("the fixture gave %d turns (truncated %v): want more than %d", len(want.Segments), want.SegmentsTruncated, sip.MaxSpeechSegments)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("asked for its figures after every block, the analyzer ended with\n%+v\nwant\n%+v", got, want)
	}
}
