package capture

import "errors"

// Errors returned by sources and the decoder. They are wrapped with the
// facts of each case: match them with errors.Is.
var (
	// ErrNoInterface means the network interface to capture on does not exist.
	ErrNoInterface = errors.New("no such network interface")
	// ErrPermission means the process may not open a packet socket.
	ErrPermission = errors.New("not permitted to capture")
	// ErrUnknownFormat means a file is neither pcap nor pcapng.
	ErrUnknownFormat = errors.New("unknown capture file format")
	// ErrUnsupportedLink means frames of this link type cannot be decoded.
	ErrUnsupportedLink = errors.New("unsupported link type")
	// ErrTruncated means a frame holds fewer bytes than its headers announce.
	ErrTruncated = errors.New("truncated frame")
	// ErrMalformed means a header in the frame is invalid.
	ErrMalformed = errors.New("malformed frame")
	// ErrFragment means an IP fragment was rejected or its datagram dropped.
	ErrFragment = errors.New("ip fragment dropped")
	// ErrStreamLimit means a TCP segment was dropped because the stream
	// table is full.
	ErrStreamLimit = errors.New("tcp stream limit reached")
)
