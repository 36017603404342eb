package capture

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The mirror's own addresses: the switch that sends it and the box.
const (
	mirrorSrc4 = "198.51.100.1"
	mirrorDst4 = "198.51.100.2"
	mirrorSrc6 = "2001:db8:ffff::1"
	mirrorDst6 = "2001:db8:ffff::2"
)

// sipInvite is an INVITE whose Call-ID names the case, so that tshark's
// rows can be told apart.
func sipInvite(callID string) []byte {
	return fmt.Appendf(nil, "INVITE sip:100@192.0.2.2 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-%s\r\n"+
		"From: <sip:200@192.0.2.1>;tag=1\r\nTo: <sip:100@192.0.2.2>\r\n"+
		"Call-ID: %s\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", callID, callID)
}

// etherT wraps a payload of the given ethertype in Ethernet with VLAN tags
// (outermost first). The MACs differ from ether's so that a frame's inner
// and outer headers are told apart in a dump.
func etherT(etherType uint16, payload []byte, tags ...[2]uint16) []byte {
	b := []byte{0x02, 0, 0, 0, 0xee, 1, 0x02, 0, 0, 0, 0xee, 2}
	for _, tg := range tags {
		b = binary.BigEndian.AppendUint16(b, tg[0])
		b = binary.BigEndian.AppendUint16(b, tg[1])
	}
	b = binary.BigEndian.AppendUint16(b, etherType)
	return append(b, payload...)
}

// outerIP returns the IP packet (no link layer) from the switch to the box
// carrying payload as protocol proto.
func outerIP(tb testing.TB, v6 bool, proto layers.IPProtocol, payload []byte) []byte {
	tb.Helper()
	if v6 {
		return serialize(tb, ip6(mirrorSrc6, mirrorDst6, proto), gopacket.Payload(payload))
	}
	return serialize(tb, ip4(mirrorSrc4, mirrorDst4, proto), gopacket.Payload(payload))
}

// greOver returns the outer Ethernet frame of a GRE packet over IPv4 or
// IPv6 carrying payload.
func greOver(tb testing.TB, v6 bool, g *layers.GRE, payload []byte) []byte {
	tb.Helper()
	return etherOf(outerIP(tb, v6, layers.IPProtocolGRE, serialize(tb, g, gopacket.Payload(payload))))
}

// etherOf wraps an IP packet in the mirror's outer Ethernet header.
func etherOf(ipPacket []byte) []byte {
	return etherT(etherType(ipPacket), ipPacket)
}

// erspan2Header builds an ERSPAN type II header by hand (gopacket's
// layer cannot write En): Ver 1, VLAN, COS 0, En, T 0, session, index.
func erspan2Header(vlan uint16, en uint8, session uint16, index uint32) []byte {
	b := binary.BigEndian.AppendUint16(nil, 1<<12|vlan&vlanIDMask)
	b = binary.BigEndian.AppendUint16(b, uint16(en&3)<<11|session&0x3ff)
	return binary.BigEndian.AppendUint32(b, index&0xfffff)
}

// erspan3Header builds an ERSPAN type III header by hand: Ver 2, VLAN,
// session, timestamp, SGT, frame type, hardware ID 5, granularity 3 and,
// when sub is set, the O bit and an 8-byte platform sub-header (platform
// ID 3: a port ID and a timestamp's upper bits).
func erspan3Header(vlan, session uint16, ts uint32, ft uint8, sub bool) []byte {
	b := binary.BigEndian.AppendUint16(nil, 2<<12|vlan&vlanIDMask)
	b = binary.BigEndian.AppendUint16(b, session&0x3ff)
	b = binary.BigEndian.AppendUint32(b, ts)
	b = binary.BigEndian.AppendUint16(b, 0) // SGT
	w := uint16(ft&0x1f)<<10 | 5<<4 | 3<<1
	if sub {
		w |= 1
	}
	b = binary.BigEndian.AppendUint16(b, w)
	if sub {
		b = binary.BigEndian.AppendUint32(b, 3<<26|0x0007) // platform 3, port 7
		b = binary.BigEndian.AppendUint32(b, 0x0000_1234)
	}
	return b
}

// vxlanOver returns the outer Ethernet frame of a VXLAN datagram (VNI
// 5001) to port 4789 carrying an Ethernet frame.
func vxlanOver(tb testing.TB, v6 bool, frame []byte) []byte {
	tb.Helper()
	vx := serialize(tb, &layers.VXLAN{ValidIDFlag: true, VNI: 5001}, gopacket.Payload(frame))
	src, dst := mirrorSrc4, mirrorDst4
	if v6 {
		src, dst = mirrorSrc6, mirrorDst6
	}
	return etherOf(udpPacket(tb, v6, src, dst, 49152, vxlanPort, vx))
}

// pppoeOver returns an Ethernet frame carrying an IP packet in a PPPoE
// session (0x1234), with VLAN tags outside PPPoE.
func pppoeOver(tb testing.TB, ipPacket []byte, tags ...[2]uint16) []byte {
	tb.Helper()
	typ := layers.PPPTypeIPv4
	if etherType(ipPacket) == etherTypeIPv6 {
		typ = layers.PPPTypeIPv6
	}
	p := serialize(tb, &layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 0x1234},
		&layers.PPP{PPPType: typ}, gopacket.Payload(ipPacket))
	return etherT(etherTypePPPoESession, p, tags...)
}

// ipInIP wraps an IP packet in n outer headers, alternately IPv4 and IPv6
// when mixed, outermost last in the loop, and returns the Ethernet frame.
func ipInIP(tb testing.TB, inner []byte, v6 ...bool) []byte {
	tb.Helper()
	p := inner
	for i := len(v6) - 1; i >= 0; i-- {
		proto := layers.IPProtocolIPv4
		if etherType(p) == etherTypeIPv6 {
			proto = layers.IPProtocolIPv6
		}
		p = outerIP(tb, v6[i], proto, p)
	}
	return etherOf(p)
}

// stripEther returns the IP packet in an Ethernet frame built by etherOf.
func stripEther(frame []byte) []byte { return frame[ethernetHeaderLen:] }
