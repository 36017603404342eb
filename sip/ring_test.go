package sip

import (
	"testing"
	"time"
)

func TestRingPolicy(t *testing.T) {
	sv, err := RingPreset("sv")
	if err != nil {
		t.Fatal(err)
	}
	eu, _ := RingPreset("eu")
	us := DefaultRingPolicy()
	tests := []struct {
		name   string
		p      RingPolicy
		d      time.Duration
		rings  int
		within bool
	}{
		{"us immediately", us, 0, 1, true},
		{"us just before ring 2", us, 6*time.Second - 1, 1, true},
		{"us ring 2 starts", us, 6 * time.Second, 2, true},
		{"us last instant of ring 4", us, 24*time.Second - 1, 4, true},
		{"us ring 5 starts", us, 24 * time.Second, 5, false},
		{"sv last instant of ring 4", sv, 23200*time.Millisecond - 1, 4, true},
		{"sv ring 5 starts at 23.2 s", sv, 23200 * time.Millisecond, 5, false},
		{"sv ring 3 at 11.6 s", sv, 11600 * time.Millisecond, 3, true},
		{"eu 20 s is ring 5", eu, 20 * time.Second, 5, false},
		{"negative", us, -time.Second, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Rings(tc.d); got != tc.rings {
				t.Errorf("Rings(%s) = %d, want %d", tc.d, got, tc.rings)
			}
			if got := tc.p.WithinLimit(tc.d); got != tc.within {
				t.Errorf("WithinLimit(%s) = %v, want %v", tc.d, got, tc.within)
			}
		})
	}
	if _, err := RingPreset("xx"); err == nil {
		t.Error("unknown preset accepted")
	}
	if err := (RingPolicy{MaxRings: 0, On: time.Second}).Validate(); err == nil {
		t.Error("max_rings 0 accepted")
	}
}
