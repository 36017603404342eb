package recorder

import (
	"bytes"
	"fmt"
	"testing"
)

func TestFillBytes(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 8, 9, 160, 1600, 2047} {
		for _, v := range []byte{0x00, 0xFF, 0xD5} {
			t.Run(fmt.Sprintf("%d×%#x", n, v), func(t *testing.T) {
				// Guard bytes on both sides must stay as they were.
				buf := bytes.Repeat([]byte{0x5A}, n+2)
				fillBytes(buf[1:n+1], v)
				if want := append(append([]byte{0x5A}, bytes.Repeat([]byte{v}, n)...), 0x5A); !bytes.Equal(buf, want) {
					t.Errorf("fillBytes(%d bytes, %#x) = % x, want % x", n, v, buf, want)
				}
			})
		}
	}
}

// BenchmarkConsume measures a flush's return of flushChunk samples of a
// channel's ring to μ-law silence (fillBytes).
func BenchmarkConsume(b *testing.B) {
	var c chanBuf
	c.ensure(firstRing, 1, DefaultBufferFrames, 0xFF)
	b.SetBytes(flushChunk)
	for b.Loop() {
		c.consume(flushChunk, 1, 0xFF)
	}
}
