package rtpquality

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// pkt is one arrival: capture time in µs from t0, RTP timestamp, and
// whether it counts in the figures.
type pkt struct {
	atUs    int64
	ts      uint32
	restart bool // a new source starts with this packet
	skip    bool // count false
}

func feed(e *Jitter, ps []pkt) {
	for _, p := range ps {
		if p.restart {
			e.Restart()
		}
		e.Update(t0.Add(time.Duration(p.atUs)*time.Microsecond), p.ts, !p.skip)
	}
}

// TestJitter checks the estimator against values worked by hand from
// RFC 3550 §6.4.1: D(i,j) = (Rj − Ri) − (Sj − Si), J += (|D| − J)/16, in
// timestamp units (8 per ms at 8000 Hz).
func TestJitter(t *testing.T) {
	tests := []struct {
		name      string
		pkts      []pkt
		samples   uint64
		mean, max float64 // ms
	}{
		{
			name: "paced 20 ms",
			pkts: []pkt{{0, 0, false, false}, {20000, 160, false, false}, {40000, 320, false, false}},
			// Every D is 0.
			samples: 2, mean: 0, max: 0,
		},
		{
			name: "one packet 8 ms late",
			pkts: []pkt{{0, 0, false, false}, {20000, 160, false, false}, {48000, 320, false, false}, {60000, 480, false, false}, {80000, 640, false, false}},
			// D = 0, 64, −64, 0 units: J = 0; 4; 4 + 60/16 = 7.75;
			// 7.75·15/16 = 7.265625 units, i.e. 0, 0.5, 0.96875,
			// 0.908203125 ms; mean 2.376953125/4.
			samples: 4, mean: 2.376953125 / 4, max: 0.96875,
		},
		{
			name: "timestamp wraps",
			pkts: []pkt{{0, 0xFFFFFF60, false, false}, {20000, 0, false, false}, {40000, 160, false, false}},
			// Sj − Si is taken modulo 2³²: 160 each time, D = 0.
			samples: 2, mean: 0, max: 0,
		},
		{
			name: "early packet",
			pkts: []pkt{{0, 0, false, false}, {12000, 160, false, false}},
			// D = 96 − 160 = −64 units, |D| = 64: J = 4 units = 0.5 ms.
			samples: 1, mean: 0.5, max: 0.5,
		},
		{
			name: "left out of the figures but in the estimate",
			pkts: []pkt{{0, 0, false, false}, {28000, 160, false, true}, {48000, 320, false, false}},
			// J = 4 units (not counted), then D = 0: J = 3.75 units.
			samples: 1, mean: 3.75 / 8, max: 3.75 / 8,
		},
		{
			name: "a new source starts from no reference",
			pkts: []pkt{
				{0, 0, false, false}, {28000, 160, false, false},
				// 10 s later, another SSRC with unrelated timestamps.
				{10_000_000, 90000, true, false}, {10_020_000, 90160, false, false},
			},
			// First source: one estimate of 0.5 ms; the second's first
			// packet sets its reference, its second has D = 0, J = 0.
			// Weighted by packets: (0.5 + 0)/2.
			samples: 2, mean: 0.25, max: 0.5,
		},
		{
			name: "reordered packet, in order of arrival",
			pkts: []pkt{{0, 0, false, false}, {40000, 320, false, false}, {41000, 160, false, false}, {60000, 480, false, false}},
			// D = 0; then (1 ms) − (−20 ms) = 21 ms = 168 units: J = 10.5;
			// then (19 ms) − (40 ms) = −21 ms: J = 10.5 + (168 − 10.5)/16
			// = 20.34375 units.
			samples: 3, mean: (0 + 10.5 + 20.34375) / 3 / 8, max: 20.34375 / 8,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewJitter(8000)
			feed(&e, tt.pkts)
			if e.Samples() != tt.samples {
				t.Errorf("samples %d, want %d", e.Samples(), tt.samples)
			}
			if math.Abs(e.MeanMs()-tt.mean) > 1e-9 {
				t.Errorf("mean %.9f ms, want %.9f", e.MeanMs(), tt.mean)
			}
			if math.Abs(e.MaxMs()-tt.max) > 1e-9 {
				t.Errorf("max %.9f ms, want %.9f", e.MaxMs(), tt.max)
			}
		})
	}
}

func TestJitterClockRate(t *testing.T) {
	// The same arrivals at 16 kHz: 8 ms late is 128 units, J = 8 units,
	// still 0.5 ms.
	e := NewJitter(16000)
	feed(&e, []pkt{{0, 0, false, false}, {28000, 320, false, false}})
	if got := e.MeanMs(); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("mean %.9f ms at 16 kHz, want 0.5", got)
	}
	if z := NewJitter(0); z.rate != 8000 {
		t.Errorf("rate 0 gives %v Hz, want 8000", z.rate)
	}
}

func TestRegular(t *testing.T) {
	tests := []struct {
		marker     bool
		pt, prevPT uint8
		backwards  bool
		want       bool
	}{
		{false, 8, 8, false, true},
		{true, 8, 8, false, false},   // talkspurt start
		{false, 13, 8, false, false}, // comfort noise
		{false, 8, 13, false, false}, // after comfort noise
		{false, 19, 0, false, false}, // RFC 1890 CN
		{false, 0, 0, true, false},   // timestamp went back
		{false, 0, 101, false, true}, // after an event: not CN
	}
	for _, tt := range tests {
		if got := Regular(tt.marker, StaticCN(tt.pt), StaticCN(tt.prevPT), tt.backwards); got != tt.want {
			t.Errorf("Regular(%v, %d, %d, %v) = %v", tt.marker, tt.pt, tt.prevPT, tt.backwards, got)
		}
	}
}

func TestStaticClockRate(t *testing.T) {
	for pt, want := range map[uint8]int{0: 8000, 8: 8000, 9: 8000, 13: 8000, 18: 8000, 6: 16000, 10: 44100, 96: 0, 101: 0, 127: 0} {
		if got := StaticClockRate(pt); got != want {
			t.Errorf("StaticClockRate(%d) = %d, want %d", pt, got, want)
		}
	}
}

func TestLossPercent(t *testing.T) {
	tests := []struct {
		expected, received uint64
		want               float64
	}{
		{0, 0, 0},
		{100, 100, 0},
		{100, 99, 1},
		{1000, 950, 5},
		{100, 103, 0}, // duplicates: A.3's negative loss is no loss
		{8, 6, 25},
	}
	for _, tt := range tests {
		if got := LossPercent(tt.expected, tt.received); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("LossPercent(%d, %d) = %v, want %v", tt.expected, tt.received, got, tt.want)
		}
	}
}
