package speech

import (
	"errors"
	"fmt"
	"time"
)

// ErrConfig is returned by Config.Validate for an unusable threshold.
var ErrConfig = errors.New("speech: invalid configuration")

// Audio layout the detector works on.
const (
	// SampleRate is the rate of G.711 audio (RFC 3551 §4.5.14).
	SampleRate = 8000
	// FrameSamples is one 10 ms frame.
	FrameSamples = SampleRate / 100
	frameSeconds = 1.0 / 100
)

// Limits of the durations, so that a decision is never more than ringFrames
// behind the audio (analyzer.go).
const (
	maxHangover  = time.Second
	maxMinSpeech = 200 * time.Millisecond
)

// Config holds the detector's thresholds. Levels are in dBov: 0 dBov is a
// full-scale square wave (mean square 32768²), so a full-scale sine is
// -3 dBov and the loudest G.711 idle pattern (±8) about -72 dBov.
type Config struct {
	// AboveFloorDB is how far above the noise floor a frame's energy must
	// be to be speech. Default 6 dB: noise frames of 80 samples scatter
	// ±1 dB around their mean, speech stands 15-40 dB above it.
	AboveFloorDB float64
	// MinLevelDBov is the energy under which a frame is silence whatever
	// the floor, and does not move it: G.711 idle patterns, comfort noise
	// (RFC 3389 levels are usually -60 dBov and below), a DTX gap. Default
	// -50 dBov.
	MinLevelDBov float64
	// FloorRiseDBPerSecond is how fast the floor climbs while frames are
	// above it (it falls at once to a quieter frame). Default 6 dB/s: a
	// word lifts it by less than 2 dB, a louder line noise is learnt in a
	// few seconds.
	FloorRiseDBPerSecond float64
	// NoiseZCR is the zero-crossing rate (crossings per sample, 0..1)
	// above which a frame looks like noise, not voiced speech: white noise
	// crosses at about 0.5, voiced speech below 0.25. Such a frame needs
	// NoisyExtraDB more above the floor and lifts the floor at
	// NoisyRiseDBPerSecond. Default 0.4 (unvoiced fricatives reach it too;
	// inside a turn the hangover covers them).
	NoiseZCR float64
	// NoisyExtraDB is the extra margin of a noise-like frame. Default 6 dB.
	NoisyExtraDB float64
	// NoisyRiseDBPerSecond is the floor's climb on noise-like frames.
	// Default 60 dB/s.
	NoisyRiseDBPerSecond float64
	// MinSpeech is the active time (in frames, not necessarily
	// consecutive: gaps up to MinSpeech apart) that makes a turn; shorter
	// bursts (clicks, a cough of line noise) are silence. Default 50 ms,
	// at most 200 ms.
	MinSpeech time.Duration
	// Hangover is the silence that ends a turn: shorter gaps (between
	// words, inside a plosive) do not split it. The turn ends at its last
	// active frame. Default 300 ms, at most 1 s.
	Hangover time.Duration
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		AboveFloorDB:         6,
		MinLevelDBov:         -50,
		FloorRiseDBPerSecond: 6,
		NoiseZCR:             0.4,
		NoisyExtraDB:         6,
		NoisyRiseDBPerSecond: 60,
		MinSpeech:            50 * time.Millisecond,
		Hangover:             300 * time.Millisecond,
	}
}

// Validate reports the first unusable threshold.
func (c Config) Validate() error {
	switch {
	case !(c.AboveFloorDB > 0 && c.AboveFloorDB <= 60):
		return fmt.Errorf("%w: above_floor_db %v not in (0, 60]", ErrConfig, c.AboveFloorDB)
	case !(c.MinLevelDBov >= -96 && c.MinLevelDBov <= 0):
		return fmt.Errorf("%w: min_level_dbov %v not in [-96, 0]", ErrConfig, c.MinLevelDBov)
	case !(c.FloorRiseDBPerSecond > 0 && c.FloorRiseDBPerSecond <= 1000):
		return fmt.Errorf("%w: floor_rise_db_per_second %v not in (0, 1000]", ErrConfig, c.FloorRiseDBPerSecond)
	case !(c.NoiseZCR > 0 && c.NoiseZCR <= 1):
		return fmt.Errorf("%w: noise_zcr %v not in (0, 1]", ErrConfig, c.NoiseZCR)
	case !(c.NoisyExtraDB >= 0 && c.NoisyExtraDB <= 60):
		return fmt.Errorf("%w: noisy_extra_db %v not in [0, 60]", ErrConfig, c.NoisyExtraDB)
	case !(c.NoisyRiseDBPerSecond > 0 && c.NoisyRiseDBPerSecond <= 1000):
		return fmt.Errorf("%w: noisy_rise_db_per_second %v not in (0, 1000]", ErrConfig, c.NoisyRiseDBPerSecond)
	case c.MinSpeech < 10*time.Millisecond || c.MinSpeech > maxMinSpeech:
		return fmt.Errorf("%w: min_speech %v not in [10ms, %v]", ErrConfig, c.MinSpeech, maxMinSpeech)
	case c.Hangover < 10*time.Millisecond || c.Hangover > maxHangover:
		return fmt.Errorf("%w: hangover %v not in [10ms, %v]", ErrConfig, c.Hangover, maxHangover)
	}
	return nil
}

// frames is d in whole frames, rounded up.
func frames(d time.Duration) int {
	const frame = 10 * time.Millisecond
	return int((d + frame - 1) / frame)
}
