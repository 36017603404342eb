// Package capture reads frames from a live interface or from pcap/pcapng
// files and decodes them down to transport payloads (UDP datagrams and
// in-order TCP stream bytes) stamped with their capture time.
package capture

import (
	"net/netip"
	"time"
)

// Transport is the transport protocol that carried a payload.
type Transport uint8

// Transports.
const (
	UDP Transport = iota + 1
	TCP
)

// String returns "udp" or "tcp".
func (t Transport) String() string {
	switch t {
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	default:
		return "unknown"
	}
}

// Datagram is one transport payload with its capture time.
//
// For UDP it is one whole datagram (after IP reassembly); Time is the capture
// time of the frame that completed it (the last fragment, as tshark reports).
// For TCP it is a run of in-order stream bytes for one direction of one
// connection; Time is the capture time of the segment that carried them.
// Payload aliases decoder buffers: it is valid only until the callback that
// received it returns.
type Datagram struct {
	Time      time.Time
	Src, Dst  netip.AddrPort
	Transport Transport
	// VLAN is the outermost 802.1Q VLAN ID, 0 when untagged. For a frame
	// that came through a tunnel (GRE, ERSPAN, VXLAN, PPPoE, IP-in-IP) it is
	// the inner frame's outermost tag, or the ERSPAN II header's VLAN when
	// the switch stripped the tag from the copy; 0 for a tunnel carrying IP
	// with no inner Ethernet.
	VLAN    uint16
	Payload []byte
	// StreamStart is set on the first bytes of a TCP stream seen after a
	// gap (connection start, or bytes skipped because segments were lost):
	// a stream framer must drop any partial message it holds.
	StreamStart bool
	// Message is set when Payload is one whole SIP message: a WebSocket
	// message (RFC 7118 §5). It must not go through a stream framer, which
	// cuts by Content-Length: over WebSocket that header is optional and a
	// body without it would be lost. StreamStart is set too.
	Message bool
}
