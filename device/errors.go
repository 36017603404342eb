package device

import "errors"

// Sentinel errors of the package; they are wrapped with the facts.
var (
	// ErrConfig is a device configuration that cannot work.
	ErrConfig = errors.New("device config")
	// ErrNoGPIO is returned when a GPIO panel or button is asked for on a
	// machine (or OS) without GPIO character devices.
	ErrNoGPIO = errors.New("no gpio chip")
	// ErrLine is a GPIO line that could not be found or requested.
	ErrLine = errors.New("gpio line")
)
