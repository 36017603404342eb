//go:build !linux

package clocksync

// readKernel has no adjtimex to call off Linux.
func readKernel() (State, error) { return State{}, ErrUnsupported }
