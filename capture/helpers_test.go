package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 123456789, time.UTC)

// serialize builds packet bytes, fixing lengths and checksums.
func serialize(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		tb.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, Id: 0x1234,
		SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func ip6(src, dst string, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next,
		SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
}

// udpPacket returns an IP packet (no link layer) carrying one UDP datagram.
func udpPacket(tb testing.TB, v6 bool, src, dst string, sport, dport uint16, payload []byte) []byte {
	tb.Helper()
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if v6 {
		ip := ip6(src, dst, layers.IPProtocolUDP)
		_ = u.SetNetworkLayerForChecksum(ip)
		return serialize(tb, ip, u, gopacket.Payload(payload))
	}
	ip := ip4(src, dst, layers.IPProtocolUDP)
	_ = u.SetNetworkLayerForChecksum(ip)
	return serialize(tb, ip, u, gopacket.Payload(payload))
}

// tcpSeg describes one TCP segment.
type tcpSeg struct {
	seq           uint32
	syn, fin, rst bool
	payload       string
}

// tcpPacket returns an IPv4 packet carrying one TCP segment.
func tcpPacket(tb testing.TB, src, dst string, sport, dport uint16, s tcpSeg) []byte {
	tb.Helper()
	ip := ip4(src, dst, layers.IPProtocolTCP)
	tc := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport),
		Seq: s.seq, Ack: 1, ACK: !s.syn, SYN: s.syn, FIN: s.fin, RST: s.rst, PSH: s.payload != "", Window: 65535}
	_ = tc.SetNetworkLayerForChecksum(ip)
	return serialize(tb, ip, tc, gopacket.Payload(s.payload))
}

// ether wraps an IP packet in Ethernet with the given VLAN tags (outermost
// first), each tag given as TPID and VLAN ID.
func ether(ipPacket []byte, tags ...[2]uint16) []byte {
	et := uint16(etherTypeIPv4)
	if len(ipPacket) > 0 && ipPacket[0]>>4 == 6 {
		et = etherTypeIPv6
	}
	b := []byte{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2}
	for _, tg := range tags {
		b = binary.BigEndian.AppendUint16(b, tg[0])
		b = binary.BigEndian.AppendUint16(b, tg[1])
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, ipPacket...)
}

func etherType(ipPacket []byte) uint16 {
	if len(ipPacket) > 0 && ipPacket[0]>>4 == 6 {
		return etherTypeIPv6
	}
	return etherTypeIPv4
}

// sll wraps an IP packet in a Linux cooked (v1) header.
func sll(ipPacket []byte) []byte {
	b := make([]byte, 16, 16+len(ipPacket))
	binary.BigEndian.PutUint16(b[0:], 0) // to us
	binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(b[4:], 6)
	copy(b[6:], []byte{0x02, 0, 0, 0, 0, 2})
	binary.BigEndian.PutUint16(b[14:], etherType(ipPacket))
	return append(b, ipPacket...)
}

// sll2 wraps an IP packet in a Linux cooked v2 header.
func sll2(ipPacket []byte) []byte {
	b := make([]byte, 20, 20+len(ipPacket))
	binary.BigEndian.PutUint16(b[0:], etherType(ipPacket))
	binary.BigEndian.PutUint32(b[4:], 3) // interface index
	binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
	b[10] = 0                            // to us
	b[11] = 6
	copy(b[12:], []byte{0x02, 0, 0, 0, 0, 2})
	return append(b, ipPacket...)
}

// null wraps an IP packet in a BSD loopback header (host order, little-endian).
func null(ipPacket []byte) []byte {
	fam := uint32(afInet)
	if etherType(ipPacket) == etherTypeIPv6 {
		fam = afInet6BSD
	}
	return append(binary.LittleEndian.AppendUint32(nil, fam), ipPacket...)
}

// frag4 splits an IPv4 packet into fragments carrying at most size payload
// bytes each (size a multiple of 8).
func frag4(tb testing.TB, packet []byte, size int) [][]byte {
	tb.Helper()
	var ip layers.IPv4
	if err := ip.DecodeFromBytes(packet, gopacket.NilDecodeFeedback); err != nil {
		tb.Fatal(err)
	}
	payload := ip.Payload
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		f := ip4(ip.SrcIP.String(), ip.DstIP.String(), ip.Protocol)
		f.Id = ip.Id
		f.FragOffset = uint16(off / 8)
		if end < len(payload) {
			f.Flags = layers.IPv4MoreFragments
		}
		out = append(out, serialize(tb, f, gopacket.Payload(payload[off:end])))
	}
	return out
}

// frag6 splits an IPv6 packet (no extension headers) into fragments
// carrying at most size payload bytes each.
func frag6(tb testing.TB, packet []byte, size int, id uint32) [][]byte {
	tb.Helper()
	var ip layers.IPv6
	if err := ip.DecodeFromBytes(packet, gopacket.NilDecodeFeedback); err != nil {
		tb.Fatal(err)
	}
	payload := ip.Payload
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		h := ip6(ip.SrcIP.String(), ip.DstIP.String(), layers.IPProtocolIPv6Fragment)
		fh := make([]byte, 8)
		fh[0] = byte(ip.NextHeader)
		fo := uint16(off/8) << 3
		if end < len(payload) {
			fo |= 1
		}
		binary.BigEndian.PutUint16(fh[2:], fo)
		binary.BigEndian.PutUint32(fh[4:], id)
		out = append(out, serialize(tb, h, gopacket.Payload(append(fh, payload[off:end]...))))
	}
	return out
}

// got is one delivered Datagram, copied.
type got struct {
	Time      time.Time
	Src, Dst  netip.AddrPort
	Transport Transport
	VLAN      uint16
	Payload   string
	Start     bool
}

// collect returns a callback that records Datagrams into *out.
func collect(out *[]got) func(*Datagram) {
	return func(d *Datagram) {
		*out = append(*out, got{d.Time, d.Src, d.Dst, d.Transport, d.VLAN, string(d.Payload), d.StreamStart})
	}
}

func ci(t time.Time, n int) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: t, CaptureLength: n, Length: n}
}
