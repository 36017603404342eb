package sip

import (
	"net/netip"
	"time"
	"unicode/utf8"
)

// MaxLegMessages bounds the SIP messages kept with a leg's record (for the
// console's ladder diagram); later messages are counted in
// Call.MessagesDropped, not kept.
const MaxLegMessages = 64

// MaxLegMessageRaw bounds the raw text kept of one message; the rest is
// cut and Truncated is set.
const MaxLegMessageRaw = 4096

// MaxLegMessageBytes bounds the raw text kept of all the messages of one
// leg. A message that does not fit in what is left is still kept, its raw
// text cut to the rest (possibly to nothing) and Truncated set, so the
// ladder keeps every arrow up to MaxLegMessages. With the entries
// themselves, a leg holds at most MaxLegMessageBytes + MaxLegMessages ×
// (legMessageSize + legMessageStrings) = 30 KiB; TrackerConfig.MaxMessageBytes
// bounds the sum over all open legs.
const MaxLegMessageBytes = 16 << 10

// What the ladders are charged against TrackerConfig.MaxMessageBytes,
// besides the raw text: legMessageSize per entry of the slice's capacity
// (the struct on 64-bit; TestLegMessageCost checks it), legMessageStrings
// per message for the small strings it holds (reason phrase, its share of
// the address names). The slice grows by at most legGrowMax entries at a
// time, so what is charged is what is held (to the allocator's size class).
const (
	legMessageSize    = 192
	legMessageStrings = 32
	legGrowMax        = 8
)

// LegMessage is one SIP message of a leg as the tap saw it, kept with the
// record so the console can draw the leg's ladder.
type LegMessage struct {
	// At is the capture time of the packet that carried the message.
	At time.Time `json:"at"`
	// Src and Dst are "ip:port" of the packet.
	Src string `json:"src"`
	Dst string `json:"dst"`
	// Transport is "udp", "tcp" or "ws" (a WebSocket message, RFC 7118).
	Transport string `json:"transport"`
	// Method is the request method, empty for a response.
	Method string `json:"method,omitempty"`
	// Status is the response's status code, 0 for a request.
	Status int    `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	// CSeq is the CSeq number and CSeqMethod its method.
	CSeq       uint32 `json:"cseq"`
	CSeqMethod string `json:"cseq_method"`
	// FromCaller says the message was sent by the side that sent the
	// first INVITE.
	FromCaller bool `json:"from_caller"`
	// Retransmission marks a copy of a message already seen.
	Retransmission bool `json:"retransmission,omitempty"`
	// Raw is the message text, at most MaxLegMessageRaw bytes.
	Raw       string `json:"raw"`
	Truncated bool   `json:"truncated,omitempty"`
	// Size is the length in bytes of the whole message as captured, so a
	// cut Raw can say how much is missing.
	Size int `json:"size"`
}

// legLog is the messages kept for one leg, within the bounds above.
type legLog struct {
	msgs []LegMessage
	// raw is the raw text kept, cost what the log is charged in total.
	raw, cost int
	// names caches the "ip:port" strings of the leg's endpoints: a leg's
	// messages go between a handful of them, so each is formatted once.
	names [4]addrName
	next  int
}

type addrName struct {
	ap   netip.AddrPort
	name string
}

// name returns ap as "ip:port" ("[ip]:port" for IPv6).
func (g *legLog) name(ap netip.AddrPort) string {
	for _, n := range g.names {
		if n.name != "" && n.ap == ap {
			return n.name
		}
	}
	s := ap.String()
	g.names[g.next] = addrName{ap: ap, name: s}
	g.next = (g.next + 1) % len(g.names)
	return s
}

// add keeps m, as carried by p, if the leg's bounds and the tracker-wide
// budget room (bytes still free) allow; it returns the bytes charged, or
// false when the message is to be counted as dropped.
func (g *legLog) add(m *Message, p Packet, fromCaller, retrans bool, room int) (int, bool) {
	if len(g.msgs) >= MaxLegMessages {
		return 0, false
	}
	grow := 0
	if len(g.msgs) == cap(g.msgs) {
		// 2, 4, 8, 16, 24 … 64: a one-INVITE leg (a flood) holds two
		// entries, and no step is larger than legGrowMax.
		grow = min(max(2, cap(g.msgs)), legGrowMax, MaxLegMessages-cap(g.msgs))
	}
	fixed := grow*legMessageSize + legMessageStrings
	if room < fixed {
		return 0, false
	}
	if grow > 0 {
		// By hand: append and slices.Grow would double the capacity.
		ms := make([]LegMessage, len(g.msgs), cap(g.msgs)+grow)
		copy(ms, g.msgs)
		g.msgs = ms
	}
	n := min(len(p.Raw), MaxLegMessageRaw, MaxLegMessageBytes-g.raw, room-fixed)
	n = cutRunes(p.Raw, n)
	lm := LegMessage{
		At:             p.Time,
		Src:            g.name(p.Src),
		Dst:            g.name(p.Dst),
		Transport:      p.Transport,
		CSeq:           m.CSeq,
		CSeqMethod:     m.Method,
		FromCaller:     fromCaller,
		Retransmission: retrans,
		Raw:            string(p.Raw[:n]),
		Truncated:      n < len(p.Raw),
		Size:           len(p.Raw),
	}
	if m.IsRequest {
		lm.Method = m.Method
	} else {
		lm.Status, lm.Reason = m.StatusCode, m.Reason
	}
	g.msgs = append(g.msgs, lm)
	cost := fixed + n
	g.raw += n
	g.cost += cost
	return cost, true
}

// cutRunes returns n, moved back (by at most three bytes) so that b[:n]
// does not end inside a UTF-8 sequence when n cuts b: the raw text is shown
// as text, and JSON would turn a split rune into U+FFFD.
func cutRunes(b []byte, n int) int {
	if n <= 0 {
		return 0
	}
	if n >= len(b) {
		return len(b)
	}
	for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(b[n]); i++ {
		n--
	}
	return n
}
