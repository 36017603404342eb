package recorder

import "errors"

// Errors returned by the recorder, wrapped with the facts of each case:
// match them with errors.Is.
var (
	// ErrConfig means the configuration is unusable.
	ErrConfig = errors.New("recorder: bad configuration")
	// ErrBadRTP means a datagram is not a valid RTP packet.
	ErrBadRTP = errors.New("recorder: bad rtp packet")
	// ErrBadWAV means a file is not a WAV file this package wrote.
	ErrBadWAV = errors.New("recorder: bad wav file")
	// ErrBadPcap means a file is not a pcap file this package wrote.
	ErrBadPcap = errors.New("recorder: bad pcap file")

	// errQueueFull is a sink's refusal: the writer's queue holds its
	// bound of bytes waiting for the disk (the leg is cut).
	errQueueFull = errors.New("recorder: write queue full")
)
