package hep

import "errors"

var (
	// ErrInvalid means a configuration key holds a value that cannot be
	// used; it is wrapped with the key and the value.
	ErrInvalid = errors.New("invalid hep configuration")
	// ErrAddress means a packet's addresses are invalid or of two
	// families.
	ErrAddress = errors.New("hep: bad address")
	// ErrTime means a capture time does not fit HEP's unsigned 32-bit
	// seconds (before 1970 or after 2106).
	ErrTime = errors.New("hep: time out of range")
	// ErrTooLarge means the packet would pass HEP's 16-bit length.
	ErrTooLarge = errors.New("hep: packet too large")
	// ErrTransport means a packet names neither UDP nor TCP.
	ErrTransport = errors.New("hep: unknown transport")
)
