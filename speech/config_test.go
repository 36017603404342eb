package speech

import (
	"errors"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"no margin", func(c *Config) { c.AboveFloorDB = 0 }, false},
		{"NaN margin", func(c *Config) { c.AboveFloorDB = nan() }, false},
		{"level above full scale", func(c *Config) { c.MinLevelDBov = 1 }, false},
		{"floor never rises", func(c *Config) { c.FloorRiseDBPerSecond = 0 }, false},
		{"zcr over 1", func(c *Config) { c.NoiseZCR = 1.5 }, false},
		{"negative noisy margin", func(c *Config) { c.NoisyExtraDB = -1 }, false},
		{"noisy floor never rises", func(c *Config) { c.NoisyRiseDBPerSecond = 0 }, false},
		{"min speech under a frame", func(c *Config) { c.MinSpeech = 5 * time.Millisecond }, false},
		{"min speech too long", func(c *Config) { c.MinSpeech = 300 * time.Millisecond }, false},
		{"hangover too long", func(c *Config) { c.Hangover = 2 * time.Second }, false},
		{"longest allowed", func(c *Config) { c.Hangover, c.MinSpeech = time.Second, 200*time.Millisecond }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
			if _, err := New(c); (err == nil) != tt.ok {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

// TestIdleAndClicks: G.711 idle patterns, comfort noise under the minimum
// level and clicks shorter than MinSpeech are silence; a tone long enough
// is one turn at its onset.
func TestIdleAndClicks(t *testing.T) {
	const n = 8000 * 3
	tests := []struct {
		name  string
		fill  func(i int) int16
		turns int
		onset float64
	}{
		{"μ-law idle 0xFF/0x7F (0, -0)", func(int) int16 { return 0 }, 0, -1},
		{"A-law idle 0xD5/0x55 (±8)", func(i int) int16 { return int16(8 - 16*(i&1)) }, 0, -1},
		{"clicks of 20 ms", func(i int) int16 {
			if i%8000 < 160 {
				return int16(8000 - 16000*(i/4&1))
			}
			return 0
		}, 0, -1},
		{"tone at 1.25 s", func(i int) int16 {
			if i >= 10000 && i < 18000 {
				return int16(6000 - 12000*(i/20&1)) // 200 Hz square
			}
			return 0
		}, 1, 1.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := make([]int16, n)
			for i := range c {
				c[i] = tt.fill(i)
			}
			a, _ := New(DefaultConfig())
			a.Feed(c, make([]int16, n))
			r := a.Result()
			if len(r.Segments) != tt.turns {
				t.Fatalf("%d turns, want %d: %+v", len(r.Segments), tt.turns, r.Segments)
			}
			if tt.onset < 0 {
				if r.CallerFirstSeconds != nil || r.GreetingLatencySeconds != nil || r.SilenceSeconds != 3 {
					t.Fatalf("speech in silence: %+v", r)
				}
				return
			}
			if r.CallerFirstSeconds == nil || *r.CallerFirstSeconds < tt.onset-0.001 || *r.CallerFirstSeconds > tt.onset+0.001 {
				t.Fatalf("onset %v, want %v", r.CallerFirstSeconds, tt.onset)
			}
			if r.GreetingLatencySeconds != nil {
				t.Fatal("the silent callee spoke")
			}
		})
	}
}
