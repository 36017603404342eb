package recorder

import (
	"bytes"
	"testing"
)

// TestInterleave: interleave gives, for every length, either channel
// silent or both, and a sample width of 1 or 2 bytes, the frames a byte by
// byte interleaving gives, and writes nothing past them.
func TestInterleave(t *testing.T) {
	for _, w := range []int{1, 2} {
		// The format's silence: G.711's idle code, 16-bit PCM's zero.
		silence := byte(0xD5)
		if w == 2 {
			silence = 0
		}
		for k := range 70 {
			l, r := make([]byte, k*w), make([]byte, k*w)
			for i := range l {
				l[i], r[i] = byte(3*i+1), byte(250-7*i)
			}
			for _, c := range []struct {
				name string
				l, r []byte
			}{{"both", l, r}, {"left", l, nil}, {"right", nil, r}, {"none", nil, nil}} {
				want := make([]byte, 2*k*w)
				for i := range k {
					for j := range w {
						a, b := silence, silence
						if c.l != nil {
							a = c.l[i*w+j]
						}
						if c.r != nil {
							b = c.r[i*w+j]
						}
						want[2*i*w+j], want[2*i*w+w+j] = a, b
					}
				}
				got := bytes.Repeat([]byte{0xEE}, 2*k*w+5)
				interleave(got, c.l, c.r, k, w, silence)
				if !bytes.Equal(got[:2*k*w], want) || !bytes.Equal(got[2*k*w:], bytes.Repeat([]byte{0xEE}, 5)) {
					t.Fatalf("width %d, %d frames, %s:\ngot  % x\nwant % x", w, k, c.name, got, want)
				}
			}
		}
	}
}

// BenchmarkInterleave: one 20 ms G.711 packet of both channels (160
// frames), as the mixer emits it.
func BenchmarkInterleave(b *testing.B) {
	l, r, dst := make([]byte, 160), make([]byte, 160), make([]byte, 320)
	for i := range l {
		l[i], r[i] = byte(i), byte(^i)
	}
	b.SetBytes(320)
	for b.Loop() {
		interleave(dst, l, r, 160, 1, 0xFF)
	}
}
