package lab_test

import (
	"math"
	"testing"
	"time"
)

// TestOnsetOf checks the lab's independent onset method (speech_test.go)
// on packets built here: µ-law codes of a tone and of low noise, in 20 ms
// packets, with the onset known by construction.
func TestOnsetOf(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tone := func(n int) []byte { // 1000 Hz, half scale
		b := make([]byte, n)
		for i := range b {
			b[i] = linearToUlaw(int16(16384 * math.Sin(2*math.Pi*1000*float64(i)/8000)))
		}
		return b
	}
	noise := func(n int, amp float64) []byte { // deterministic ±amp
		b := make([]byte, n)
		x := uint32(1)
		for i := range b {
			x = x*1664525 + 1013904223
			b[i] = linearToUlaw(int16(amp * (float64(x>>16)/32768 - 1)))
		}
		return b
	}
	silence := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = 0xff // µ-law zero
		}
		return b
	}
	// packets cuts audio into 20 ms packets from start, to dst.
	packets := func(start time.Time, audio []byte) []audioPacket {
		var ps []audioPacket
		for i := 0; i+160 <= len(audio); i += 160 {
			ps = append(ps, audioPacket{at: start.Add(time.Duration(i) * time.Second / 8000), dst: "a:1", payload: audio[i : i+160]})
		}
		return ps
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		audio  []byte
		start  time.Duration // first packet after t0
		want   time.Duration // onset after t0
		wantOK bool
	}{
		{"tone at once", tone(16000), 7 * time.Millisecond, 7 * time.Millisecond, true},
		{"noise lead then tone", cat(noise(12000, 60), tone(16000)), 5 * time.Millisecond, 1505 * time.Millisecond, true},
		{"short noise lead", cat(noise(4000, 60), tone(16000)), 0, 500 * time.Millisecond, true},
		{"silence lead then tone", cat(silence(8000), tone(8000)), 0, time.Second, true},
		{"mid-packet onset", cat(noise(12080, 60), tone(16000)), 0, 1510 * time.Millisecond, true},
		{"only silence", silence(16000), 0, 0, false},
		{"only low noise", noise(16000, 10), 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := frames(packets(t0.Add(tc.start), tc.audio), map[string]bool{"a:1": true}, t0, time.Time{})
			got, ok := onsetOf(fs)
			if ok != tc.wantOK || (ok && !got.Equal(t0.Add(tc.want))) {
				t.Errorf("onset %v (found %v), want %v (found %v)", got.Sub(t0), ok, tc.want, tc.wantOK)
			}
		})
	}
}

// linearToUlaw encodes one sample (ITU-T G.711 µ-law, with the bias).
func linearToUlaw(s int16) byte {
	const bias, clip = 0x84, 32635
	v := int32(s)
	sign := byte(0)
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := byte(7)
	for mask := int32(0x4000); v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte(v>>(exp+3)) & 0x0f

	return ^(sign | exp<<4 | mant)
}
