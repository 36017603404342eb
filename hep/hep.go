// Package hep mirrors SIP messages to an existing Homer (or any HEP
// collector) as HEP v3 packets: an encoder of its own (the Go HEP
// libraries are AGPL) and a sender that never holds up the capture.
//
// HEP3 is a header ("HEP3" and the total length) followed by chunks, each
// a vendor ID, a type ID and a length that counts its own 6-byte header
// (https://github.com/sipcapture/HEP, docs/domain.md §8).
package hep

import (
	"net/netip"
	"time"
)

// Transport is the IP protocol that carried the mirrored message, with
// its IANA protocol number as value (the HEP chunk 0x0002 carries it).
type Transport uint8

// Transports.
const (
	TCP Transport = 0x06
	UDP Transport = 0x11
)

// String returns "udp", "tcp" or "unknown".
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

// Packet is one captured SIP message to mirror.
type Packet struct {
	// Time is the capture time of the message (never the time it is
	// sent): Homer orders a call's messages by it. The zero Time is sent
	// as 0 s 0 µs, which heplify-server replaces with its own clock.
	Time time.Time
	// Src and Dst are the message's original addresses, both IPv4 or
	// both IPv6 (IPv4-mapped IPv6 counts as IPv4).
	Src, Dst  netip.AddrPort
	Transport Transport
	// VLAN is the 802.1Q VLAN ID, sent only when not 0.
	VLAN uint16
	// CallID goes in the correlation chunk (0x0011) when not empty.
	CallID string
	// Payload is the SIP message as captured.
	Payload []byte
}
