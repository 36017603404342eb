package sip

import "reflect"

// keep adds m to the leg's ladder, within the leg's bounds and the
// tracker's budget; what does not fit is counted. A leg not of a flood
// first takes back, from the flood's legs that never rang, the room its
// message needs (issue 9 §2).
func (t *Tracker) keep(l *leg, m *Message, p Packet, retrans bool) {
	if !l.flood && t.floodLegs.n > 0 {
		t.reclaim(legGrowMax*legMessageSize+legMessageStrings+min(len(p.Raw), MaxLegMessageRaw), p.Time)
	}
	cost, ok := l.log.add(m, p, l.sentByCaller(m, p), retrans, t.cfg.MaxMessageBytes-t.msgBytes)
	if !ok {
		l.call.MessagesDropped++
		t.stats.MessagesDropped++
		return
	}
	t.msgBytes += cost
}

// sentByCaller says m was sent by the side that sent the leg's first
// INVITE. A request is sent by the party its From names, a response by the
// other one (RFC 3261 §8.2.6.2: a response echoes the request's From). A
// peer that sends no From tag (RFC 2543) is told by its address instead.
func (l *leg) sentByCaller(m *Message, p Packet) bool {
	if l.callerTag == "" && m.FromTag == "" {
		return p.Src == l.callerAddr
	}
	return (m.FromTag == l.callerTag) == m.IsRequest
}

// unchanged says the record c is the one already emitted, e, but for the
// messages of the ladder: messages that change nothing else (the 200 to a
// BYE, an ACK) do not make a leg's record be emitted again.
func unchanged(c Call, e *Call) bool {
	if e == nil {
		return false
	}
	c.Messages = nil
	return reflect.DeepEqual(c, *e)
}
