// Package sdp reads the parts of an SDP body (RFC 8866) that a passive call
// tap needs to tie RTP to a call and to know whether it can record it: the
// origin (whose version says whether an offer changed, RFC 3264 §8), the
// connection addresses, and for every m= line its port, transport, payload
// formats, direction, RTCP port and encryption.
//
// Parse tries github.com/pion/sdp/v3 first. That parser is strict: it
// rejects SDP that real phones send (a= before t=, no s=, m=image for T.38,
// a last line without a newline), so a tolerant line-by-line reader takes
// over when it fails. Both feed the same interpretation step, so they give
// the same Session for valid SDP.
package sdp

import "net/netip"

// Session is what a tap needs from one SDP body (an offer or an answer).
type Session struct {
	// Origin is the o= line: the version increments on every changed
	// offer of a session (RFC 3264 §8).
	Origin Origin
	// Addr is the session-level c= address; it is invalid when absent or
	// not an IP literal.
	Addr netip.Addr
	// Direction is the session-level direction attribute, SendRecv when
	// absent (RFC 3264 §5.1).
	Direction Direction
	// Media holds one entry per m= line, in order: an answer's m= lines
	// match the offer's by position (RFC 3264 §6), so none is ever dropped.
	Media []Media
}

// Origin is the o= line of an SDP body (RFC 8866 §5.2).
type Origin struct {
	Username  string
	SessionID uint64
	// Version is <sess-version>. Values wider than 64 bits wrap, as they
	// do in pion's parser; they do not occur in practice.
	Version uint64
}

// Media is one m= line (RFC 8866 §5.14) with the attributes that apply to it.
type Media struct {
	// Type is the media type: "audio", "video", "image" (T.38)...
	Type string
	// Port is the transport port; 0 means the stream is rejected or
	// removed (RFC 3264 §6), and it is also 0 when the port is unreadable.
	Port int
	// Proto is the transport: "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF",
	// "udptl"...
	Proto string
	// Formats are the formats of the m= line in order. For RTP they are
	// payload types 0..127 without repeats (others are skipped); for other
	// transports (udptl, TCP/MRCPv2) each token is in Name and PT is 0.
	Formats []Format
	// Addr is the media-level c= address, else the session-level one.
	Addr netip.Addr
	// Direction is the media-level direction attribute, else the
	// session-level one, else SendRecv.
	Direction Direction
	// Ptime is a=ptime in milliseconds, media-level else session-level; 0
	// when absent.
	Ptime int
	// RTCPPort is a=rtcp (RFC 3605) else Port+1 (RFC 3550 §11); 0 when
	// Port is 0 or the transport is not RTP.
	RTCPPort int
	// RTCPMux is set by a=rtcp-mux (RFC 5761). In an offer it is only a
	// proposal: RTCP shares the RTP port when the answer has it too.
	RTCPMux bool
	// Crypto is set when an a=crypto line (SDES-SRTP, RFC 4568) is present.
	Crypto bool
	// Fingerprint is set when an a=fingerprint line (DTLS-SRTP, RFC 8122)
	// is present at media or session level.
	Fingerprint bool
}

// Format is one payload format of an m= line, with its a=rtpmap and a=fmtp.
type Format struct {
	PT uint8
	// Name is the encoding name as written ("PCMA", "telephone-event");
	// compare it with strings.EqualFold. Static payload types get their
	// RFC 3551 §6 name even without a=rtpmap.
	Name      string
	ClockRate int
	// Channels is the channel count of audio formats (1 when not given);
	// 0 for other media.
	Channels int
	// Fmtp is the parameter string of a=fmtp for this payload type.
	Fmtp string
}

// Direction is the media direction attribute (RFC 3264 §5.1, RFC 8866 §6.7).
type Direction uint8

// Directions, as seen by the party that wrote the SDP.
const (
	SendRecv Direction = iota + 1
	SendOnly
	RecvOnly
	Inactive
)

// String returns the attribute name of d.
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	default:
		return "unknown"
	}
}

// Sends reports whether the writer of the SDP will send media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the writer of the SDP expects to receive media at
// the address of the description.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Encrypted reports whether the stream is (or may be) SRTP: a SAVP/SAVPF
// transport, SDES keys or a DTLS fingerprint. An RTP/AVP offer with a=crypto
// (best-effort SRTP) is reported encrypted: the answer decides.
func (m Media) Encrypted() bool {
	return m.Crypto || m.Fingerprint || containsFold(m.Proto, "SAVP")
}

// IsRTP reports whether the transport carries RTP, i.e. whether the formats
// are payload types.
func (m Media) IsRTP() bool { return containsFold(m.Proto, "RTP/") }

// OnHold reports whether the description puts the stream on hold: the legacy
// c=0.0.0.0 (RFC 3264 §8.4) or a=sendonly / a=inactive from the holder.
func (m Media) OnHold() bool {
	return m.Addr.IsUnspecified() || m.Direction == SendOnly || m.Direction == Inactive
}

// RTPAddr returns where the writer of the SDP wants to receive RTP. The
// address is invalid when no c= line gave an IP literal.
func (m Media) RTPAddr() netip.AddrPort {
	return netip.AddrPortFrom(m.Addr, uint16(m.Port)) //nolint:gosec // G115: Port is checked to be 0..65535.
}

// Format returns the format with payload type pt, if the m= line lists it.
func (m Media) Format(pt uint8) (Format, bool) {
	if !m.IsRTP() {
		return Format{}, false
	}
	for _, f := range m.Formats {
		if f.PT == pt {
			return f, true
		}
	}
	return Format{}, false
}
