//go:build !linux

package daemon

import "errors"

// dropResult says what dropCapabilities left.
type dropResult struct {
	kept     string
	bounding bool
}

// dropCapabilities has nothing to drop where there are no Linux
// capabilities; the daemon runs only on Linux boards.
func dropCapabilities(bool) (dropResult, error) {
	return dropResult{}, errors.New("capabilities are a Linux feature")
}

// ownerOf is unknown off Linux.
func ownerOf(string) (uint32, bool) { return 0, false }
