package pcapgen

import "time"

// Delays of the transfer scenarios.
const (
	referAfter  = 5 * time.Second
	replyDelay  = 9876543 * time.Nanosecond
	targetRing  = 3200 * time.Millisecond
	afterNotify = 100 * time.Millisecond
	targetTalk  = 10 * time.Second
)

// answerQuiet writes 100, 180 (unless noRing), 200 after ring and ACK,
// without media, and fills e.
func (l *leg) answerQuiet(e *Expect, inv Request, at time.Time, ring time.Duration, noRing bool) (ackAt time.Time) {
	ackAt = l.answerOnly(e, inv, at, ring, noRing).Add(ackDelay)
	l.send(ackAt, true, l.d.Ack(inv, 200))
	return ackAt
}

// answerOnly writes 100, 180 (unless noRing) and the 200 after ring, fills
// e and returns the 200's capture time; the caller sends the ACK.
func (l *leg) answerOnly(e *Expect, inv Request, at time.Time, ring time.Duration, noRing bool) (ans time.Time) {
	d := l.d
	trying := at.Add(tryingDelay)
	l.send(trying, false, d.Response(100, "Trying", inv))
	ans = trying.Add(ring)
	if !noRing {
		ringAt := trying.Add(ringingDelay)
		l.send(ringAt, false, d.Response(180, "Ringing", inv))
		e.RingingAt = ptr(ringAt)
		ans = ringAt.Add(ring)
	}
	l.send(ans, false, d.Response(200, "OK", inv))
	e.AnsweredAt = ptr(ans)
	return ans
}

// blindTransfer: the receptionist (callee of leg A) REFERs the caller to
// 2002 (RFC 5589 6); the caller places leg B with Referred-By and reports
// its progress in NOTIFYs on A (RFC 3515 2.4.4).
func blindTransfer(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	caller, recep, target := extCaller(), receptionist(), extension("2002", 32)
	a := newLeg(w, newDialog(callIDFor(name, "a"), caller, recep))
	inv := a.d.Invite()
	a.send(t0, true, inv.Bytes)
	ea := expectFor(a.d, t0)
	ack := a.answerQuiet(&ea, inv, t0, ringTime, false)

	referAt := ack.Add(referAfter)
	refer := a.d.Refer(false, target.uri(""), nil)
	a.send(referAt, false, refer.Bytes)
	acceptAt := referAt.Add(replyDelay)
	a.send(acceptAt, true, a.d.Response(202, "Accepted", refer))
	trying := a.d.Notify(true, "SIP/2.0 100 Trying")
	a.send(acceptAt.Add(replyDelay), true, trying.Bytes)
	a.send(acceptAt.Add(2*replyDelay), false, a.d.Response(200, "OK", trying))

	b := newLeg(w, newDialog(callIDFor(name, "b"), caller, target))
	binv := b.d.Invite(WithReferredBy(recep))
	bAt := acceptAt.Add(3 * replyDelay)
	b.send(bAt, true, binv.Bytes)
	eb := expectFor(b.d, bAt)
	eb.ReferredBy = recep.User
	b.answerQuiet(&eb, binv, bAt, targetRing, false)

	doneAt := eb.AnsweredAt.Add(40 * time.Millisecond)
	done := a.d.Notify(true, "SIP/2.0 200 OK")
	a.send(doneAt, true, done.Bytes)
	a.send(doneAt.Add(replyDelay), false, a.d.Response(200, "OK", done))
	a.hangup(&ea, doneAt.Add(afterNotify), false)
	ea.Transfer = &ExpectTransfer{
		Kind: "blind", RequestedAt: referAt, Target: target.User,
		AcceptedAt: ptr(acceptAt), CompletedAt: ptr(doneAt), Result: "200",
		TargetCallID: b.d.CallID,
	}
	b.hangup(&eb, eb.AnsweredAt.Add(targetTalk), false)
	if a.err != nil {
		return nil, a.err
	}
	return []Expect{ea, eb}, b.err
}

// attendedTransfer: the receptionist holds leg A (re-INVITE sendonly),
// consults 2003 on leg C, then REFERs A with Refer-To carrying Replaces
// of C (RFC 5589 7); the caller sends the target an INVITE with Replaces
// (leg D, RFC 3891), and the target hangs up C.
func attendedTransfer(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	caller, recep, target := extCaller(), receptionist(), extension("2003", 33)
	a := newLeg(w, newDialog(callIDFor(name, "a"), caller, recep))
	inv := a.d.Invite()
	a.send(t0, true, inv.Bytes)
	ea := expectFor(a.d, t0)
	ack := a.answerQuiet(&ea, inv, t0, 4*time.Second, false)

	// Hold (RFC 3264 8.4): a re-INVITE, not a new call.
	holdAt := ack.Add(8 * time.Second)
	hold := a.d.ReInvite(false, WithDirection("sendonly"))
	a.send(holdAt, false, hold.Bytes)
	a.send(holdAt.Add(replyDelay), true, a.d.Response(200, "OK", hold, WithDirection("recvonly")))
	a.send(holdAt.Add(replyDelay+ackDelay), false, a.d.Ack(hold, 200))

	c := newLeg(w, newDialog(callIDFor(name, "c"), recep, target))
	cAt := holdAt.Add(time.Second)
	cinv := c.d.Invite()
	c.send(cAt, true, cinv.Bytes)
	ec := expectFor(c.d, cAt)
	cAck := c.answerQuiet(&ec, cinv, cAt, 3*time.Second, false)

	referAt := cAck.Add(6 * time.Second)
	repl := Replaces{CallID: c.d.CallID, ToTag: c.d.ToTag, FromTag: c.d.FromTag}
	refer := a.d.Refer(false, target.uri(""), &repl)
	a.send(referAt, false, refer.Bytes)
	acceptAt := referAt.Add(replyDelay)
	a.send(acceptAt, true, a.d.Response(202, "Accepted", refer))

	dl := newLeg(w, newDialog(callIDFor(name, "d"), caller, target))
	dAt := acceptAt.Add(replyDelay)
	dinv := dl.d.Invite(WithReplaces(repl), WithReferredBy(recep))
	dl.send(dAt, true, dinv.Bytes)
	ed := expectFor(dl.d, dAt)
	ed.ReplacesCallID, ed.ReferredBy = c.d.CallID, recep.User
	// RFC 3891 3: the target answers a matching Replaces at once, no 180.
	dl.answerQuiet(&ed, dinv, dAt, 50*time.Millisecond, true)

	// The target ends the replaced dialog (RFC 3891 3).
	c.hangup(&ec, ed.AnsweredAt.Add(50*time.Millisecond), false)

	doneAt := ed.AnsweredAt.Add(80 * time.Millisecond)
	done := a.d.Notify(true, "SIP/2.0 200 OK")
	a.send(doneAt, true, done.Bytes)
	a.send(doneAt.Add(replyDelay), false, a.d.Response(200, "OK", done))
	a.hangup(&ea, doneAt.Add(afterNotify), false)
	ea.Transfer = &ExpectTransfer{
		Kind: "attended", RequestedAt: referAt, Target: target.User,
		AcceptedAt: ptr(acceptAt), CompletedAt: ptr(doneAt), Result: "200",
		TargetCallID: dl.d.CallID, ReplacesCallID: c.d.CallID,
	}
	dl.hangup(&ed, ed.AnsweredAt.Add(targetTalk), true)
	for _, l := range []*leg{a, c, dl} {
		if l.err != nil {
			return nil, l.err
		}
	}
	return []Expect{ea, ec, ed}, nil
}

// tcpSplit writes the answered call over SIP/TCP (RFC 3261 18.3): the
// INVITE in three segments, 100 and 180 in one segment, CRLF keep-alives
// (RFC 5626 4.4.1) between messages, and a FIN exchange at the end.
func tcpSplit(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	caller, recep := extCaller(), receptionist()
	caller.Addr = ap("198.51.100.10:49152")
	d := newDialog(callIDFor(name, "a"), caller, recep)
	d.Transport = "TCP"
	l := newLeg(w, d)
	l.tcp = w.TCP(caller.Addr, recep.Addr)
	if err := l.tcp.Handshake(t0); err != nil {
		return nil, err
	}
	inv := d.Invite()
	msg := inv.Bytes
	cut1, cut2 := len(msg)/3, len(msg)-40 // the last cut falls in the SDP
	s1 := t0.Add(10 * time.Millisecond)
	s2 := s1.Add(1234567 * time.Nanosecond)
	inviteAt := s2.Add(2345678 * time.Nanosecond)
	l.send(s1, true, msg[:cut1])
	l.send(s2, true, msg[cut1:cut2])
	l.send(inviteAt, true, msg[cut2:])

	ringAt := inviteAt.Add(tryingDelay)
	both := append(d.Response(100, "Trying", inv), d.Response(180, "Ringing", inv)...)
	l.send(ringAt, false, both)
	l.send(ringAt.Add(3*time.Second), true, []byte("\r\n\r\n"))
	ans := ringAt.Add(ringTime)
	l.send(ans, false, d.Response(200, "OK", inv))
	ack := ans.Add(ackDelay)
	l.send(ack, true, d.Ack(inv, 200))
	l.media(ack.Add(mediaDelay), talkTime)
	l.send(ack.Add(mediaDelay+talkTime), true, []byte("\r\n\r\n"))
	e := expectFor(d, inviteAt)
	e.RingingAt, e.AnsweredAt = ptr(ringAt), ptr(ans)
	byeAt := ack.Add(mediaDelay + talkTime + byeDelay)
	l.hangup(&e, byeAt, false)
	if l.err != nil {
		return nil, l.err
	}
	if err := l.tcp.Close(byeAt.Add(200 * time.Millisecond)); err != nil {
		return nil, err
	}
	return []Expect{e}, nil
}
