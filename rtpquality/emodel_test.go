package rtpquality

import (
	"math"
	"testing"
)

// The values below were worked with a calculator from the equations of
// ITU-T G.107 (06/2015) with its Table 1 defaults; the standard itself
// gives R = 93.2 for the default set (T = 0, no loss).
func TestEModelParts(t *testing.T) {
	ro, no := basicSNR()
	// (7-4)..(7-8): Nos = −75.744, Pre = 35.6389, Nor = −83.3578, Nfo = −62,
	// No = −61.1792; (7-3): Ro = 15 − 1.5(8 − 61.1792) = 94.7688.
	if math.Abs(no-(-61.1792)) > 1e-4 || math.Abs(ro-94.7688) > 1e-4 {
		t.Errorf("Ro %.4f No %.4f, want 94.7688 −61.1792", ro, no)
	}
	// (7-9): Iolr 0.4402 + Ist −0.0007 + Iq 0.9741 = 1.4136.
	if is := simultaneousImpairment(ro, no, 0); math.Abs(is-1.4136) > 1e-4 {
		t.Errorf("Is %.4f, want 1.4136", is)
	}
	tests := []struct {
		t, id float64
	}{
		// T = 0: Idte = 0 (factor 1 − e⁻ᵀ), Idle = 0.1490 (Rle = 1228.5).
		{0, 0.1490},
		// T = 60: Idte 1.2196 + Idle 0.6118.
		{60, 1.8313},
		// T = 200: Idte 3.5708 + Idle 0.9353 + Idd 3.0444 (X = 1:
		// 25(2^⅙ − 3(1 + 3⁻⁶)^⅙ + 2)).
		{200, 7.5505},
		// T = 400: Idte 5.8082 + Idle 1.2301 + Idd 24.0701 (X = 2).
		{400, 31.1084},
	}
	for _, tt := range tests {
		if id := delayImpairment(ro, no, tt.t); math.Abs(id-tt.id) > 1e-4 {
			t.Errorf("Id(T=%v) = %.4f, want %.4f", tt.t, id, tt.id)
		}
	}
}

func TestEModel(t *testing.T) {
	tests := []struct {
		name   string
		m      EModel
		r, mos float64
	}{
		// G.107: "R = 93.2" with the default values; (B-4) gives 4.409.
		{"defaults", EModel{Codec: G711}, 93.2062, 4.4094},
		// (7-29) with Bpl 25.1: Ie,eff = 95·p/(p + 25.1).
		{"60 ms, no loss", EModel{Codec: G711, DelayMs: 60}, 91.5239, 4.3745},
		{"60 ms, 1 %", EModel{Codec: G711, DelayMs: 60, LossPercent: 1}, 87.8841, 4.2838},   // Ie,eff 3.6398
		{"60 ms, 5 %", EModel{Codec: G711, DelayMs: 60, LossPercent: 5}, 75.7432, 3.8535},   // 15.7807
		{"60 ms, 10 %", EModel{Codec: G711, DelayMs: 60, LossPercent: 10}, 64.4584, 3.3275}, // 27.0655
		// Without PLC, Bpl 4.3: Ie,eff = 95·5/9.3 = 51.0753.
		{"no PLC, 5 %", EModel{Codec: G711NoPLC, LossPercent: 5}, 42.1309, 2.1696},
		{"200 ms", EModel{Codec: G711, DelayMs: 200}, 85.8047, 4.2232},
		// Ie,eff = 95·2/27.1 = 7.0111.
		{"400 ms, 2 %", EModel{Codec: G711, DelayMs: 400, LossPercent: 2}, 55.2358, 2.8508},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := tt.m.R(); math.Abs(r-tt.r) > 1e-4 {
				t.Errorf("R = %.4f, want %.4f", r, tt.r)
			}
			if mos := tt.m.MOS(); math.Abs(mos-tt.mos) > 1e-4 {
				t.Errorf("MOS = %.4f, want %.4f", mos, tt.mos)
			}
		})
	}
}

func TestMOSFromR(t *testing.T) {
	tests := []struct{ r, mos float64 }{
		{-5, 1}, {0, 1}, {math.NaN(), 1}, {100, 4.5}, {120, 4.5},
		// 50: 1 + 1.75 + 50·(−10)·50·7e-6 = 2.575.
		{50, 2.575},
		// 80: 1 + 2.8 + 80·20·20·7e-6 = 4.024.
		{80, 4.024},
		// 5: 1 + 0.175 − 5·55·95·7e-6 = 0.992, held at the scale's 1.
		{5, 1},
	}
	for _, tt := range tests {
		if got := MOSFromR(tt.r); math.Abs(got-tt.mos) > 1e-9 {
			t.Errorf("MOSFromR(%v) = %v, want %v", tt.r, got, tt.mos)
		}
	}
}

func TestEModelBounds(t *testing.T) {
	for _, m := range []EModel{
		{LossPercent: 100, DelayMs: 1e12},
		{LossPercent: -3, DelayMs: -1},
		{LossPercent: math.NaN(), DelayMs: math.NaN()},
		{LossPercent: math.Inf(1), DelayMs: math.Inf(1)},
	} {
		r, mos := m.R(), m.MOS()
		if math.IsNaN(r) || math.IsInf(r, 0) || mos < 1 || mos > 4.5 {
			t.Errorf("%+v: R %v MOS %v", m, r, mos)
		}
	}
}

func TestOneWayDelay(t *testing.T) {
	for _, tt := range []struct{ base, jit, want float64 }{
		{60, 0, 60}, {60, 2.5, 62.5}, {60, -1, 60}, {-5, 3, 3}, {60, math.NaN(), 60},
	} {
		if got := OneWayDelayMs(tt.base, tt.jit); got != tt.want {
			t.Errorf("OneWayDelayMs(%v, %v) = %v, want %v", tt.base, tt.jit, got, tt.want)
		}
	}
}
