package pcapgen

import "time"

// Times of the hold-refused scenario, after the ACK.
const (
	refusedHoldAfter = 3 * time.Second
	heldAfter        = 8 * time.Second
	resumedAfter     = 14 * time.Second
	holdCallTalk     = 20 * time.Second
)

// HoldRefusedSeconds is the time on hold the SDP of the hold-refused
// scenario says: from the accepted hold re-INVITE to the resuming one.
const HoldRefusedSeconds = float64(resumedAfter-heldAfter) / float64(time.Second)

// holdRefused: an answered call with RTP both ways for 20 s; the
// receptionist's first hold re-INVITE (sendonly) is refused with 488 Not
// Acceptable Here (RFC 3264 §8: the session stays as it was), the second
// is accepted (200 recvonly) and a third resumes (sendrecv).
func holdRefused(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	l := newLeg(w, newDialog(callIDFor(name, "a"), extCaller(), receptionist()))
	inv := l.d.Invite()
	l.send(t0, true, inv.Bytes)
	e := expectFor(l.d, t0)
	ack := l.answerQuiet(&e, inv, t0, 4*time.Second, false)
	rtpAt := ack.Add(mediaDelay)
	total := int(holdCallTalk / RTPInterval)
	payload := make([]byte, RTPPayloadSize)
	next := 0 // packets of both ways in capture order: 2i caller's, 2i+1 callee's
	// send writes the RTP captured before t, then msg at t: the file stays
	// in capture order and the streams continuous.
	send := func(t time.Time, fromCaller bool, msg []byte) {
		for ; next < 2*total; next++ {
			i, dir := next/2, next%2
			if !rtpTime(rtpAt, i, dir).Before(t) {
				break
			}
			l.rtpPacket(rtpAt, i, dir, payload)
		}
		if msg != nil {
			l.send(t, fromCaller, msg)
		}
	}

	refused := l.d.ReInvite(false, WithDirection("sendonly"))
	at := ack.Add(refusedHoldAfter)
	send(at, false, refused.Bytes)
	send(at.Add(replyDelay), true, l.d.Response(488, "Not Acceptable Here", refused))
	send(at.Add(replyDelay+ackDelay), false, l.d.Ack(refused, 488))

	for _, step := range []struct {
		after     time.Duration
		dir, resp string
	}{{heldAfter, "sendonly", "recvonly"}, {resumedAfter, "sendrecv", "sendrecv"}} {
		re := l.d.ReInvite(false, WithDirection(step.dir))
		at := ack.Add(step.after)
		send(at, false, re.Bytes)
		send(at.Add(replyDelay), true, l.d.Response(200, "OK", re, WithDirection(step.resp)))
		send(at.Add(replyDelay+ackDelay), false, l.d.Ack(re, 200))
	}
	send(rtpAt.Add(holdCallTalk+calleeRTPOffset+time.Nanosecond), false, nil)
	l.hangup(&e, ack.Add(mediaDelay+holdCallTalk+byeDelay), true)
	return []Expect{e}, l.err
}
