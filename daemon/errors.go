package daemon

import "errors"

var (
	// ErrServiceStopped is a service that returned while the daemon was
	// meant to go on running.
	ErrServiceStopped = errors.New("stopped unexpectedly")
	// ErrServicePanic is a service that panicked.
	ErrServicePanic = errors.New("panic")
	// ErrUsage is a configuration the daemon cannot run with.
	ErrUsage = errors.New("usage")
)
