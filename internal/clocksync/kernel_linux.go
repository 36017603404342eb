//go:build linux

package clocksync

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// readKernel reads the clock discipline with adjtimex(2): Modes 0 changes
// nothing, so no privilege is needed.
func readKernel() (State, error) {
	var tx unix.Timex
	if _, err := unix.Adjtimex(&tx); err != nil {
		return State{}, fmt.Errorf("adjtimex: %w", err)
	}
	return fromTimex(&tx), nil
}

// fromTimex turns the kernel's answer into a State. Maxerror and Esterror
// are in microseconds (int32 on 32-bit ARM, int64 elsewhere).
func fromTimex(tx *unix.Timex) State {
	st := State{
		Unsync:   tx.Status&unix.STA_UNSYNC != 0,
		MaxError: time.Duration(int64(tx.Maxerror)) * time.Microsecond, //nolint:unconvert // int32 on arm
		EstError: time.Duration(int64(tx.Esterror)) * time.Microsecond, //nolint:unconvert // int32 on arm
		Source:   SourceAdjtimex,
	}
	st.Synchronised = !st.Unsync && st.MaxError < MaxErrorLimit
	return st
}
