package capture

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopacket/gopacket/layers"
)

// A box in another room gets the mirror over the network: the switch wraps
// each mirrored frame in GRE (ERSPAN, transparent Ethernet bridging) or
// VXLAN, or the traffic itself runs in PPPoE or an IP-in-IP tunnel. The
// decoder unwraps these by hand, zero-copy, and decodes the inner frame as
// if it had been captured directly: its addresses, ports and VLAN; only the
// capture time stays the outer frame's.

// maxEncapDepth bounds the tunnels crossed in one frame (GRE, VXLAN and
// IP-in-IP each count one): a real mirror nests one or two; more is a loop
// or an attack, refused and counted as ReasonEncapDepth.
const maxEncapDepth = 4

// ReasonEncapDepth is the DecoderStats.Undecodable key of frames refused
// for nesting more than maxEncapDepth tunnels.
const ReasonEncapDepth = "encapsulation_depth"

// ErrEncapDepth means a frame nests more tunnels than the decoder follows.
var ErrEncapDepth = errors.New("encapsulation nested too deep")

// Ethertypes, GRE protocol types and ports of the encapsulations.
const (
	etherTypePPPoESession = 0x8864 // RFC 2516 session stage
	greProtoTEB           = 0x6558 // transparent Ethernet bridging
	greProtoERSPAN2       = 0x88be // ERSPAN type I and II
	greProtoERSPAN3       = 0x22eb // ERSPAN type III
	protoIPIP             = 4
	protoIPv6Encap        = 41
	protoGRE              = 47
	vxlanPort             = 4789 // RFC 7348

	pppoeHeaderLen   = 6
	pppIPv4          = 0x0021
	pppIPv6          = 0x0057
	greHeaderLen     = 4
	greFlagChecksum  = 0x8000
	greFlagRouting   = 0x4000
	greFlagKey       = 0x2000
	greFlagSeq       = 0x1000
	greVersionMask   = 0x0007
	erspan2HeaderLen = 8
	erspan3HeaderLen = 12
	erspan3SubLen    = 8 // platform-specific sub-header, when the O bit is set
	erspanFTEthernet = 0
	erspanFTIP       = 2
	vxlanHeaderLen   = 8
	vxlanFlagI       = 0x08
)

// tunnel is what one decapsulation left to decode: an Ethernet frame, or an
// IP packet (link LinkTypeIPv4 or LinkTypeIPv6), and for a mirrored frame
// whose tag the switch stripped, the VLAN the ERSPAN header reports.
type tunnel struct {
	link layers.LinkType
	b    []byte
	vlan uint16
}

// errSkip is returned by the decapsulators for payloads that are neither
// broken nor ours (GRE version 1, another GRE protocol…): the frame is
// skipped like ARP, not counted undecodable.
var errSkip = errors.New("not an encapsulation the decoder follows")

// decapGRE unwraps a GRE packet (RFC 2784, with the key and sequence
// number of RFC 2890) carrying ERSPAN type I, II or III, an Ethernet frame
// (0x6558), or an IPv4 or IPv6 packet.
func decapGRE(b []byte) (tunnel, error) {
	if len(b) < greHeaderLen {
		return tunnel{}, fmt.Errorf("%w: gre header %d < %d", ErrTruncated, len(b), greHeaderLen)
	}
	flags, proto := binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4])
	if flags&greVersionMask != 0 {
		// Version 1 is PPTP's enhanced GRE: PPP control traffic.
		return tunnel{}, errSkip
	}
	if flags&greFlagRouting != 0 {
		// RFC 2784 2.3: a receiver that does not implement RFC 1701's
		// source routing must discard the packet.
		return tunnel{}, fmt.Errorf("%w: gre routing present", ErrMalformed)
	}
	n := greHeaderLen
	for _, f := range [...]uint16{greFlagChecksum, greFlagKey, greFlagSeq} {
		if flags&f != 0 {
			n += 4
		}
	}
	if len(b) < n {
		return tunnel{}, fmt.Errorf("%w: gre header %d < %d", ErrTruncated, len(b), n)
	}
	b = b[n:]
	switch proto {
	case etherTypeIPv4:
		return tunnel{link: layers.LinkTypeIPv4, b: b}, nil
	case etherTypeIPv6:
		return tunnel{link: layers.LinkTypeIPv6, b: b}, nil
	case greProtoTEB:
		return tunnel{link: layers.LinkTypeEthernet, b: b}, nil
	case greProtoERSPAN2:
		if flags&greFlagSeq == 0 {
			// Type I has no sequence number and no ERSPAN header
			// (Wireshark tells the types apart the same way).
			return tunnel{link: layers.LinkTypeEthernet, b: b}, nil
		}
		return decapERSPAN2(b)
	case greProtoERSPAN3:
		return decapERSPAN3(b)
	}
	return tunnel{}, errSkip
}

// decapERSPAN2 reads the ERSPAN type II header (draft-foschiano-erspan 4.2):
// Ver(4)=1 VLAN(12), COS(3) En(2) T(1) Session(10), Reserved(12) Index(20).
func decapERSPAN2(b []byte) (tunnel, error) {
	if len(b) < erspan2HeaderLen {
		return tunnel{}, fmt.Errorf("%w: erspan ii header %d < %d", ErrTruncated, len(b), erspan2HeaderLen)
	}
	if v := b[0] >> 4; v != 1 {
		return tunnel{}, fmt.Errorf("%w: erspan ii version %d", ErrMalformed, v)
	}
	t := tunnel{link: layers.LinkTypeEthernet, b: b[erspan2HeaderLen:]}
	// En 1 (ISL) and 2 (802.1Q): the source port was a trunk and the copy
	// lost its tag; the VLAN field is the one the frame had. With 0 the
	// frame had none, with 3 the tag is kept in the copy.
	if en := b[2] >> 3 & 3; en == 1 || en == 2 {
		t.vlan = binary.BigEndian.Uint16(b[0:2]) & vlanIDMask
	}
	return t, nil
}

// decapERSPAN3 reads the ERSPAN type III header (draft-foschiano-erspan
// 4.3): Ver(4)=2 VLAN(12), COS(3) BSO(2) T(1) Session(10), Timestamp(32),
// SGT(16), P(1) FT(5) HW ID(6) D(1) Gra(2) O(1), and when O is set the
// 8-byte platform-specific sub-header. FT 0 is an Ethernet frame, 2 an IP
// packet.
func decapERSPAN3(b []byte) (tunnel, error) {
	if len(b) < erspan3HeaderLen {
		return tunnel{}, fmt.Errorf("%w: erspan iii header %d < %d", ErrTruncated, len(b), erspan3HeaderLen)
	}
	if v := b[0] >> 4; v != 2 {
		return tunnel{}, fmt.Errorf("%w: erspan iii version %d", ErrMalformed, v)
	}
	ft := b[10] >> 2 & 0x1f
	n := erspan3HeaderLen
	if b[11]&1 != 0 {
		n += erspan3SubLen
	}
	if len(b) < n {
		return tunnel{}, fmt.Errorf("%w: erspan iii platform sub-header %d < %d", ErrTruncated, len(b), n)
	}
	switch ft {
	case erspanFTEthernet:
		return tunnel{link: layers.LinkTypeEthernet, b: b[n:]}, nil
	case erspanFTIP:
		// The version nibble tells IPv4 from IPv6.
		return tunnel{link: layers.LinkTypeRaw, b: b[n:]}, nil
	}
	return tunnel{}, errSkip
}

// decapVXLAN unwraps a VXLAN payload (RFC 7348 5): flags(8) with I set,
// reserved(24), VNI(24), reserved(8), then an Ethernet frame. ok is false
// when the datagram does not look like VXLAN (no I flag, too short for a
// frame): it is then delivered as the plain UDP datagram it may be.
func decapVXLAN(b []byte) (t tunnel, ok bool) {
	if len(b) < vxlanHeaderLen+ethernetHeaderLen || b[0]&vxlanFlagI == 0 {
		return tunnel{}, false
	}
	return tunnel{link: layers.LinkTypeEthernet, b: b[vxlanHeaderLen:]}, true
}

// pppoe reads a PPPoE session header (RFC 2516 5.4: ver 1, type 1, code
// 0, session id, length) and the PPP protocol field (RFC 1661 2, one byte
// when compressed, RFC 1661 6.5) and returns the ethertype of what PPP
// carries (0 for LCP and other control protocols) and its bytes, trimmed
// to the PPPoE length so that Ethernet padding is not taken for data.
func pppoe(b []byte) (etherType uint16, rest []byte, err error) {
	if len(b) < pppoeHeaderLen+1 {
		return 0, nil, fmt.Errorf("%w: pppoe header %d < %d", ErrTruncated, len(b), pppoeHeaderLen+1)
	}
	if b[0] != 0x11 || b[1] != 0 {
		return 0, nil, fmt.Errorf("%w: pppoe session ver/type %#x code %#x", ErrMalformed, b[0], b[1])
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	b = b[pppoeHeaderLen:]
	if n > len(b) {
		return 0, nil, fmt.Errorf("%w: pppoe length %d > %d", ErrTruncated, n, len(b))
	}
	b = b[:n]
	var proto uint16
	switch {
	case len(b) >= 1 && b[0]&1 == 1:
		proto, b = uint16(b[0]), b[1:]
	case len(b) >= 2:
		proto, b = binary.BigEndian.Uint16(b[0:2]), b[2:]
	default:
		return 0, nil, fmt.Errorf("%w: ppp protocol in %d bytes", ErrTruncated, len(b))
	}
	switch proto {
	case pppIPv4:
		return etherTypeIPv4, b, nil
	case pppIPv6:
		return etherTypeIPv6, b, nil
	}
	return 0, b, nil
}
