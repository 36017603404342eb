package rtpquality

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// FuzzJitter feeds any sequence of arrivals (time steps of either sign,
// any timestamps, restarts, left-out packets): no panic, the figures stay
// finite, and the estimate, a running average of |D|, never exceeds the
// largest |D| fed (so mean ≤ max ≤ that bound).
func FuzzJitter(f *testing.F) {
	f.Add([]byte{0, 0, 0, 20, 0, 0, 0, 160, 0})
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 3, 0x80, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		rate := 8000
		if len(b) > 0 && b[0]&1 == 1 {
			rate = 48000
		}
		e := NewJitter(rate)
		at := t0
		var ts uint32
		bound := 0.0 // largest |D| in ms
		first := true
		for len(b) >= 9 {
			step := time.Duration(int32(binary.BigEndian.Uint32(b))) * time.Microsecond
			next := binary.BigEndian.Uint32(b[4:])
			flags := b[8]
			b = b[9:]
			if flags&2 != 0 {
				e.Restart()
				first = true
			}
			nat := at.Add(step)
			if !first {
				d := math.Abs(nat.Sub(at).Seconds()*1000 - float64(int32(next-ts))/float64(rate)*1000)
				bound = math.Max(bound, d)
			}
			e.Update(nat, next, flags&1 == 0)
			at, ts, first = nat, next, false
			for _, v := range []float64{e.CurrentMs(), e.MeanMs(), e.MaxMs()} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("figure %v", v)
				}
			}
			slack := 1e-9 * (1 + bound)
			if e.CurrentMs() > bound+slack || e.MaxMs() > bound+slack || e.MeanMs() > e.MaxMs()+slack {
				t.Fatalf("J %v mean %v max %v beyond |D| %v", e.CurrentMs(), e.MeanMs(), e.MaxMs(), bound)
			}
		}
	})
}

// FuzzEModel: any inputs give a finite R and a MOS in [1, 4.5].
func FuzzEModel(f *testing.F) {
	f.Add(0.0, 60.0, 25.1, 0.0)
	f.Add(100.0, 1e9, 0.0, 95.0)
	f.Fuzz(func(t *testing.T, loss, delay, bpl, ie float64) {
		if math.IsNaN(ie) || math.IsInf(ie, 0) || ie < 0 || ie > 95 {
			ie = 0 // Ie is a codec's constant from G.113, not an input
		}
		m := EModel{Codec: Codec{Ie: ie, Bpl: bpl}, LossPercent: loss, DelayMs: delay}
		r, mos := m.R(), m.MOS()
		if math.IsNaN(r) || math.IsInf(r, 0) || mos < 1 || mos > 4.5 {
			t.Fatalf("%+v: R %v MOS %v", m, r, mos)
		}
	})
}
