package rtpquality

import (
	"testing"
	"time"
)

// BenchmarkJitterUpdate is the cost per packet of the estimator.
func BenchmarkJitterUpdate(b *testing.B) {
	e := NewJitter(8000)
	at := t0
	b.ReportAllocs()
	for i := range b.N {
		// 20 ms apart with ±1 ms of wobble.
		at = at.Add(20*time.Millisecond + time.Duration(i%3-1)*time.Millisecond)
		e.Update(at, uint32(i)*160, true)
	}
	if e.Samples() == 0 && b.N > 1 {
		b.Fatal("nothing counted")
	}
}

// BenchmarkEModel is the cost of one estimate (once per direction at the
// end of a leg).
func BenchmarkEModel(b *testing.B) {
	b.ReportAllocs()
	s := 0.0
	for i := range b.N {
		s += EModel{Codec: G711, LossPercent: float64(i % 10), DelayMs: 60}.MOS()
	}
	if s == 0 {
		b.Fatal("no MOS")
	}
}
