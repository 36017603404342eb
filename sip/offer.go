package sip

// pendingOffer is the SDP offer of an INVITE or UPDATE sent inside a
// dialog, until its final response. An offer takes effect when it is made
// (the hold figures start at the re-INVITE, as a listener hears it), but a
// final failure to it (488 Not Acceptable Here, 491 Request Pending on
// glare, 500…) means the offer was never accepted: RFC 3264 §8 keeps the
// session as it was, and the consumer must undo what the offer changed.
// RFC 3261 §14.1 allows one INVITE transaction at a time per direction, so
// one pending offer per leg is enough; a second offer replaces the first.
type pendingOffer struct {
	cseq       uint32
	update     bool // UPDATE (RFC 3311), else INVITE
	fromCaller bool
	set        bool
}

// made notes the offer of request m, sent by the caller when fromCaller;
// the caller's first INVITE (CSeq initial) is not an in-dialog offer: its
// failure ends the leg. Each side numbers its own requests (RFC 3261
// §12.2.1.1), so a callee's re-INVITE may carry the same CSeq.
func (o *pendingOffer) made(m *Message, initial uint32, fromCaller bool) {
	switch {
	case m.Method == "UPDATE":
	case m.Method == "INVITE" && (m.CSeq != initial || !fromCaller):
	default:
		return
	}
	*o = pendingOffer{cseq: m.CSeq, update: m.Method == "UPDATE", fromCaller: fromCaller, set: true}
}

// settle takes a message of the leg, sent by the caller when fromCaller:
// a final response to the pending offer's request (from the other side)
// ends it, refused (and by whom the offer was made) when the response is a
// failure (3xx–6xx).
func (o *pendingOffer) settle(m *Message, fromCaller bool) (refused, byCaller bool) {
	if !o.set || m.IsRequest || m.StatusCode < 200 || m.CSeq != o.cseq || fromCaller == o.fromCaller {
		return false, false
	}
	if m.Method != "UPDATE" && m.Method != "INVITE" || (m.Method == "UPDATE") != o.update {
		return false, false
	}
	o.set = false
	return m.StatusCode >= 300, o.fromCaller
}
