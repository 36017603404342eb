package sip

import (
	"math"
	"net/netip"
	"strings"
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
// besides the raw text: legMessageSize per entry of the slice's capacity,
// legMessageStrings per message for the small strings it holds (a reason
// phrase that is not a common one, its share of the endpoints). The slice
// grows by at most legGrowMax entries at a time. The ladder holds
// ladderEntry, not LegMessage (TestLegMessageCost, TestLadderEntryCost):
// what is charged bounds what is held (to the allocator's size class).
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

// ladderEntry is a kept message as an open leg holds it: LegMessage's
// facts in 104 bytes instead of 176 (issue 12: an open leg's ladder was
// most of what the tracker held per call). The addresses are indexes into
// the leg's endpoints, formatted only when a record is taken; the method
// and reason are the package's constants when they are common ones, so an
// entry never keeps a string of the parsed message (and, through it, the
// header line it was cut from) alive.
type ladderEntry struct {
	at        time.Time
	raw       string
	method    string // the request's method, or the CSeq method of a response
	reason    string
	transport string
	size      uint32
	cseq      uint32
	status    int32
	src, dst  uint8
	flags     entryFlags
}

type entryFlags uint8

const (
	entryRequest entryFlags = 1 << iota
	entryFromCaller
	entryRetrans
	entryTruncated
)

// legLog is the messages kept for one leg, within the bounds above.
type legLog struct {
	msgs []ladderEntry
	// eps are the addresses the leg's messages went between (a handful:
	// caller, callee, a proxy); entries name them by index.
	eps []netip.AddrPort
	// raw is the raw text kept, cost what the log is charged in total.
	raw, cost int
}

// endpoint returns the index of ap in the leg's endpoints, added if new.
// A leg keeps at most MaxLegMessages messages, so at most 2×64 endpoints:
// an index fits a byte.
func (g *legLog) endpoint(ap netip.AddrPort) uint8 {
	for i, e := range g.eps {
		if e == ap {
			return uint8(i) //nolint:gosec // G115: < 2·MaxLegMessages
		}
	}
	g.eps = append(g.eps, ap)
	return uint8(len(g.eps) - 1) //nolint:gosec // G115: < 2·MaxLegMessages
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
		// 2, 4, 6, 8, 16, 24 … 64: a one-INVITE leg (a flood) holds two
		// entries, an answered call's INVITE, 100, 180, 200 and ACK six,
		// the whole call with its BYE and 200 eight; no step is larger
		// than legGrowMax.
		step := 2
		if cap(g.msgs) >= legGrowMax {
			step = legGrowMax
		}
		grow = min(step, MaxLegMessages-cap(g.msgs))
	}
	fixed := grow*legMessageSize + legMessageStrings
	if room < fixed {
		return 0, false
	}
	if grow > 0 {
		// By hand: append and slices.Grow would double the capacity.
		ms := make([]ladderEntry, len(g.msgs), cap(g.msgs)+grow)
		copy(ms, g.msgs)
		g.msgs = ms
	}
	n := min(len(p.Raw), MaxLegMessageRaw, MaxLegMessageBytes-g.raw, room-fixed)
	n = cutRunes(p.Raw, n)
	e := ladderEntry{
		at:        p.Time,
		raw:       string(p.Raw[:n]),
		method:    intern(m.Method),
		transport: intern(p.Transport),
		size:      uint32(min(uint64(len(p.Raw)), math.MaxUint32)), //nolint:gosec // G115: bounded
		cseq:      m.CSeq,
		src:       g.endpoint(p.Src),
		dst:       g.endpoint(p.Dst),
	}
	if m.IsRequest {
		e.flags |= entryRequest
	} else {
		e.status, e.reason = int32(min(max(m.StatusCode, math.MinInt32), math.MaxInt32)), intern(m.Reason) //nolint:gosec // G115: clamped
	}
	if fromCaller {
		e.flags |= entryFromCaller
	}
	if retrans {
		e.flags |= entryRetrans
	}
	if n < len(p.Raw) {
		e.flags |= entryTruncated
	}
	g.msgs = append(g.msgs, e)
	cost := fixed + n
	g.raw += n
	g.cost += cost
	return cost, true
}

// messages returns the ladder as the record carries it, a copy of its
// own: the leg's later messages must not show in (or be overwritten
// through) a record already handed out.
func (g *legLog) messages() []LegMessage {
	if len(g.msgs) == 0 {
		return nil
	}
	// Each endpoint formatted once, as "ip:port" ("[ip]:port" for IPv6).
	names := make([]string, len(g.eps))
	for i, ap := range g.eps {
		names[i] = ap.String()
	}
	out := make([]LegMessage, len(g.msgs))
	for i := range g.msgs {
		e := &g.msgs[i]
		lm := &out[i]
		lm.At = e.at
		lm.Src, lm.Dst = names[e.src], names[e.dst]
		lm.Transport = e.transport
		lm.CSeq, lm.CSeqMethod = e.cseq, e.method
		lm.FromCaller = e.flags&entryFromCaller != 0
		lm.Retransmission = e.flags&entryRetrans != 0
		lm.Raw, lm.Truncated, lm.Size = e.raw, e.flags&entryTruncated != 0, int(e.size)
		if e.flags&entryRequest != 0 {
			lm.Method = e.method
		} else {
			lm.Status, lm.Reason = int(e.status), e.reason
		}
	}
	return out
}

// commonTokens are the methods (RFC 3261 §27.4 and the extensions a PBX
// sends), reason phrases (RFC 3261 §21) and transports most messages
// carry: kept as these constants, a ladder entry holds no copy of them.
var commonTokens = func() map[string]string {
	m := make(map[string]string)
	for _, s := range [...]string{
		"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
		"NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE",
		"Trying", "Ringing", "Call Is Being Forwarded", "Queued", "Session Progress",
		"OK", "Accepted", "Moved Temporarily", "Moved Permanently", "Unauthorized",
		"Forbidden", "Not Found", "Proxy Authentication Required", "Request Timeout",
		"Temporarily Unavailable", "Call/Transaction Does Not Exist",
		"Busy Here", "Request Terminated", "Not Acceptable Here", "Server Internal Error",
		"Service Unavailable", "Busy Everywhere", "Decline",
		"udp", "tcp", "ws", "tls", "wss", "sctp",
	} {
		m[s] = s
	}
	return m
}()

// intern returns s as one of commonTokens, or else a copy of its own, so
// that what is kept never points into a parsed message.
func intern(s string) string {
	if c, ok := commonTokens[s]; ok {
		return c
	}
	return strings.Clone(s)
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
