package sip

import "time"

// EventKind says what happened to a leg.
type EventKind uint8

// Kinds of events, in the order a leg normally sees them.
const (
	// EventOffered: the first INVITE of a leg.
	EventOffered EventKind = iota + 1
	// EventRinging: ringing started (first 180, or a 183 standing in), or
	// moved from a 183 to the first 180.
	EventRinging
	// EventAnswered: the first 2xx to the INVITE.
	EventAnswered
	// EventEnded: the leg ended (BYE, CANCEL, final failure), or was closed
	// without an end (timeout, shutdown, end of capture).
	EventEnded
	// EventMedia: a message of the leg carried an SDP body.
	EventMedia
	// EventOfferRefused: a re-INVITE or UPDATE of the leg that carried an
	// SDP offer got a final failure (488, 491, 500…): the offer never took
	// effect and the session stays as it was before it (RFC 3264 §8,
	// RFC 3261 §14.1). FromCaller says whose offer it was.
	EventOfferRefused
)

// String names the kind.
func (k EventKind) String() string {
	switch k {
	case EventOffered:
		return "offered"
	case EventRinging:
		return "ringing"
	case EventAnswered:
		return "answered"
	case EventEnded:
		return "ended"
	case EventMedia:
		return "media"
	case EventOfferRefused:
		return "offer_refused"
	}
	return "unknown"
}

// Event is a change of a leg's state, delivered as the tracker applies the
// message (or the timeout) that caused it, in capture-time order.
type Event struct {
	Kind EventKind
	// At is the capture time of the message that caused the event (for a
	// timeout, the capture clock when it fired).
	At time.Time
	// Call is the leg's record as it stands. It is shared: read it during
	// the callback, never keep or modify it.
	Call *Call

	// SDP is the body of an EventMedia message (valid during the callback).
	SDP []byte
	// FromCaller says the SDP was sent by the side that sent the INVITE
	// (for EventOfferRefused: the refused offer was).
	FromCaller bool
	// Early says the SDP came in a provisional response (early media,
	// RFC 3960).
	Early bool
}
