// Package clocksync says whether the system clock is synchronised to a time
// source. Every time in a call record is a capture timestamp, that is the
// system clock: a clock left to drift, or never set on a board without a
// battery-backed RTC, puts calls on the wrong minute, day or month in the
// reports. The daemon shows it as a status-lamp fault (Watch) and `switchtap
// doctor` as a failure (Reader).
package clocksync

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MaxErrorLimit is the kernel's NTP_PHASE_LIMIT: the kernel's bound on the
// clock's error grows by 500 µs a second without a time source and stops
// here, when it also sets STA_UNSYNC. systemd-timedated takes a bound at or
// above it as "not synchronised" too.
const MaxErrorLimit = 16 * time.Second

// State is the clock's synchronisation as the kernel (or timedated) sees it.
type State struct {
	// Synchronised says a time source keeps the clock: the kernel's
	// STA_UNSYNC flag is clear and its maximum error is below
	// MaxErrorLimit.
	Synchronised bool
	// Unsync is the kernel's STA_UNSYNC flag (adjtimex only).
	Unsync bool
	// MaxError and EstError are the kernel's maximum and estimated error of
	// the clock (adjtimex only; zero from timedatectl).
	MaxError, EstError time.Duration
	// Source says how the state was read: "adjtimex" or "timedatectl".
	Source string
}

// String describes the state for a log line or `switchtap doctor`.
func (s State) String() string {
	word := "synchronised"
	if !s.Synchronised {
		word = "not synchronised"
	}
	if s.Source != SourceAdjtimex {
		return fmt.Sprintf("%s (%s)", word, s.Source)
	}
	return fmt.Sprintf("%s (adjtimex: STA_UNSYNC %s, max error %s, estimated error %s)",
		word, onOff(s.Unsync), s.MaxError, s.EstError)
}

func onOff(b bool) string {
	if b {
		return "set"
	}
	return "clear"
}

// Sources of a State.
const (
	SourceAdjtimex    = "adjtimex"
	SourceTimedatectl = "timedatectl"
)

// ErrUnsupported is returned where the kernel has no adjtimex (not Linux).
var ErrUnsupported = errors.New("clock synchronisation status is read on Linux only")

// Reader reads the clock's state: from the kernel (adjtimex(2) with no
// mode bits, which only reads), or, where a seccomp filter refuses that
// call, from systemd-timedated through timedatectl. The shipped unit sets
// ProtectClock=yes, whose filter refuses every @clock call, reads included:
// timedated asks the kernel the same question outside the daemon's filter.
type Reader struct {
	kernel   func() (State, error)
	fallback func(context.Context) (State, error)
}

// Option configures a Reader.
type Option func(*Reader)

// WithKernel replaces the adjtimex read (tests).
func WithKernel(fn func() (State, error)) Option { return func(r *Reader) { r.kernel = fn } }

// WithFallback replaces the timedatectl read (tests); nil disables it.
func WithFallback(fn func(context.Context) (State, error)) Option {
	return func(r *Reader) { r.fallback = fn }
}

// NewReader returns a Reader of this machine's clock.
func NewReader(opts ...Option) *Reader {
	r := &Reader{kernel: readKernel, fallback: readTimedatectl}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Read returns the clock's state. The fallback is tried only when the
// kernel read fails (refused by a filter, or not Linux); when both fail the
// error names both.
func (r *Reader) Read(ctx context.Context) (State, error) {
	st, kerr := r.kernel()
	if kerr == nil {
		return st, nil
	}
	if r.fallback == nil {
		return State{}, fmt.Errorf("clock state: %w", kerr)
	}
	st, ferr := r.fallback(ctx)
	if ferr != nil {
		return State{}, fmt.Errorf("clock state: %w; %w", kerr, ferr)
	}
	return st, nil
}
