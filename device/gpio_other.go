//go:build !linux

package device

import (
	"fmt"
	"runtime"
	"time"
)

// NewGPIOPanel fails: GPIO character devices exist only on Linux.
func NewGPIOPanel(cfg GPIOConfig) (*GPIOPanel, error) {
	return nil, fmt.Errorf("%w: %s has no GPIO character devices (use panel: log)", ErrNoGPIO, runtime.GOOS)
}

// NewGPIOButton fails: GPIO character devices exist only on Linux.
func NewGPIOButton(line Line, debounce time.Duration) (*GPIOButton, error) {
	return nil, fmt.Errorf("%w: %s has no GPIO character devices", ErrNoGPIO, runtime.GOOS)
}
