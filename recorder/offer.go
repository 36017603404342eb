package recorder

import (
	"time"

	"github.com/switchtap/switchtap/sip/sdp"
)

// priorOffer is what a side's latest SDP replaced, kept until the next
// one: a re-INVITE or UPDATE whose offer gets a final failure (488, 491 on
// glare) never took effect (RFC 3264 §8), so its side goes back to the
// description before it, the hold figure with it.
type priorOffer struct {
	set   bool
	sess  *sdp.Session
	audio *sdp.Media
	// hold is the leg's hold state just before the offer; valid while
	// no other SDP of the leg came after it. Restored on refusal, the
	// offer's hold never counted.
	hold      holdSignal
	holdValid bool
}

// OfferRefused takes the failure, at capture time at, of the last SDP
// offer the caller (fromCaller) or the callee made in the dialog: that
// side's description and the leg's hold state return to what they were.
func (r *Recorder) OfferRefused(callID string, at time.Time, fromCaller bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, done := r.ended[callID]; done {
		return
	}
	l := r.legs[callID]
	if l == nil {
		return
	}
	s, channel, other := &l.callee, left, &l.caller
	if fromCaller {
		s, channel, other = &l.caller, right, &l.callee
	}
	p := s.prior
	if !p.set {
		return
	}
	s.prior = priorOffer{}
	other.prior.holdValid = false // its snapshot has this offer in it
	r.stats.OffersRefused++
	r.describe(l, s, channel, p.sess, p.audio)
	if p.holdValid {
		l.hold = p.hold
		return
	}
	// Another SDP came between the offer and its failure (glare: both
	// sides offered, both were refused): the old state returns at the
	// failure.
	l.hold.media(fromCaller, p.audio, at, l.answered, l.answerAt)
}
