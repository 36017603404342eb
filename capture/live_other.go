//go:build !linux

package capture

import (
	"errors"
	"fmt"
	"runtime"
)

// errNoLive is the error of live capture where AF_PACKET does not exist.
var errNoLive = errors.New("live capture needs linux")

// Live is a live capture; on this system it cannot be opened.
type Live struct{}

// OpenLive fails on systems other than Linux.
func OpenLive(iface string, opts ...LiveOption) (*Live, error) {
	_ = newLiveConfig(opts)
	return nil, fmt.Errorf("open %s on %s: %w", iface, runtime.GOOS, errNoLive)
}

// ReadFrame implements Source.
func (l *Live) ReadFrame() (Frame, error) { return Frame{}, errNoLive }

// Close implements Source.
func (l *Live) Close() error { return nil }

// Release does nothing: there is no live capture here.
func (l *Live) Release() {}

// Stats returns the kernel's counters.
func (l *Live) Stats() (LiveStats, error) { return LiveStats{}, errNoLive }
