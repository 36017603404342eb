package sdp

import "errors"

// Errors returned by Parse, always wrapped with the facts.
var (
	// ErrTooLarge is returned for a body larger than MaxSize.
	ErrTooLarge = errors.New("sdp: body too large")
	// ErrMalformed is returned when the body has no SDP line at all.
	ErrMalformed = errors.New("sdp: malformed")
	// ErrNoMedia is returned when the body is SDP but has no m= line, so
	// there is nothing to associate RTP with.
	ErrNoMedia = errors.New("sdp: no media description")
)
