package sip

import "errors"

// Errors returned by Parse. Each names a reason a message was rejected, so
// the tap can count rejections by reason.
var (
	// ErrNotSIP means the bytes do not start with a SIP start line.
	ErrNotSIP = errors.New("not a sip message")
	// ErrMalformed means the SIP parser rejected the message.
	ErrMalformed = errors.New("malformed sip message")
	// ErrMissingHeader means a header RFC 3261 §8.1.1 requires is absent.
	ErrMissingHeader = errors.New("missing mandatory header")
	// ErrCSeqMismatch means a request's CSeq method differs from its method.
	ErrCSeqMismatch = errors.New("cseq method does not match request method")
	// ErrBadVersion means the start line names a SIP version other than 2.0.
	ErrBadVersion = errors.New("unsupported sip version")
	// ErrBodyLength means the body is shorter than Content-Length says.
	ErrBodyLength = errors.New("body shorter than content-length")
	// ErrBadStatus means a status code outside 100–699.
	ErrBadStatus = errors.New("status code out of range")
	// ErrDuplicateHeader means a single-value header appears twice
	// (RFC 3261 §7.3.1; RFC 4475 §3.2.8, §3.2.9).
	ErrDuplicateHeader = errors.New("single-value header repeated")
	// ErrTooLarge means the message exceeds the maximum accepted size.
	ErrTooLarge = errors.New("sip message too large")
)
