package pcapgen

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/pion/rtp"
)

const (
	ipv4HeaderLen     = 20
	ipv6HeaderLen     = 40
	ipv6FragHeaderLen = 8
	udpHeaderLen      = 8
	maxUDPLen         = 65535
	defaultTTL        = 64
)

var serializeOpts = gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true} //nolint:gochecknoglobals // immutable options value

// UDP writes one UDP datagram from src to dst at time t, over IPv4 or IPv6
// according to the address family. A datagram larger than the MTU is
// fragmented: IPv4 fragments (RFC 791) or the IPv6 Fragment extension
// header (RFC 8200 4.5). All fragments get time t unless WithFragmentGap is
// given, in which case the datagram's capture time is its last fragment's.
func (w *Writer) UDP(t time.Time, src, dst netip.AddrPort, payload []byte, opts ...PacketOption) error {
	pc := w.packetConfig(opts)
	srcIP, dstIP, err := addrPair(src.Addr(), dst.Addr())
	if err != nil {
		return err
	}
	if udpHeaderLen+len(payload) > maxUDPLen {
		return fmt.Errorf("%w: udp payload %d > %d", ErrTooBig, len(payload), maxUDPLen-udpHeaderLen)
	}
	link, err := w.linkLayers(srcIP, dstIP, pc.vlans)
	if err != nil {
		return err
	}
	if srcIP.Is4() {
		return w.udp4(t, srcIP, dstIP, src.Port(), dst.Port(), payload, pc, link)
	}
	return w.udp6(t, srcIP, dstIP, src.Port(), dst.Port(), payload, pc, link)
}

// RTP marshals an RTP packet with github.com/pion/rtp and writes it as a
// UDP datagram. A zero hdr.Version is taken as 2 (RFC 3550 5.1), so callers
// need set only what matters to them; to write another version, set it.
func (w *Writer) RTP(t time.Time, src, dst netip.AddrPort, hdr rtp.Header, payload []byte, opts ...PacketOption) error {
	if hdr.Version == 0 {
		hdr.Version = 2
	}
	p := rtp.Packet{Header: hdr, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		return fmt.Errorf("marshal rtp: %w", err)
	}
	return w.UDP(t, src, dst, b, opts...)
}

func (w *Writer) packetConfig(opts []PacketOption) packetConfig {
	pc := packetConfig{mtu: w.cfg.mtu}
	for _, o := range opts {
		o.applyPacket(&pc)
	}
	return pc
}

// udpBytes returns the UDP header and payload with the checksum computed
// over the pseudo-header of ip (RFC 768, RFC 8200 8.1).
// The result lives in w.udpBuf until the next call.
func (w *Writer) udpBytes(ip gopacket.NetworkLayer, sport, dport uint16, payload []byte) ([]byte, error) {
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, fmt.Errorf("udp checksum: %w", err)
	}
	if err := gopacket.SerializeLayers(w.udpBuf, serializeOpts, udp, gopacket.Payload(payload)); err != nil {
		return nil, fmt.Errorf("serialize udp: %w", err)
	}
	return w.udpBuf.Bytes(), nil
}

func (w *Writer) udp4(t time.Time, src, dst netip.Addr, sport, dport uint16, payload []byte, pc packetConfig, link []gopacket.SerializableLayer) error {
	ip := w.newIPv4(src, dst, layers.IPProtocolUDP)
	dgram, err := w.udpBytes(ip, sport, dport, payload)
	if err != nil {
		return err
	}
	if ipv4HeaderLen+len(dgram) <= pc.mtu {
		return w.serialize(t, append(link, ip, gopacket.Payload(dgram)))
	}
	// RFC 791: every fragment but the last carries a multiple of 8 bytes.
	chunk := (pc.mtu - ipv4HeaderLen) &^ 7
	if chunk < 8 {
		return fmt.Errorf("%w: %d", ErrMTU, pc.mtu)
	}
	for i, off := 0, 0; off < len(dgram); i, off = i+1, off+chunk {
		end := min(off+chunk, len(dgram))
		frag := *ip
		frag.FragOffset = uint16(off / 8) //nolint:gosec // G115: off < 65536 checked above
		if end < len(dgram) {
			frag.Flags = layers.IPv4MoreFragments
		}
		at := t.Add(time.Duration(i) * pc.fragmentGap)
		if err := w.serialize(at, append(link, &frag, gopacket.Payload(dgram[off:end]))); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) udp6(t time.Time, src, dst netip.Addr, sport, dport uint16, payload []byte, pc packetConfig, link []gopacket.SerializableLayer) error {
	ip := newIPv6(src, dst, layers.IPProtocolUDP)
	dgram, err := w.udpBytes(ip, sport, dport, payload)
	if err != nil {
		return err
	}
	if ipv6HeaderLen+len(dgram) <= pc.mtu {
		return w.serialize(t, append(link, ip, gopacket.Payload(dgram)))
	}
	// RFC 8200 4.5: the fragmentable part is split in multiples of 8 bytes,
	// each fragment carrying the same Identification.
	chunk := (pc.mtu - ipv6HeaderLen - ipv6FragHeaderLen) &^ 7
	if chunk < 8 {
		return fmt.Errorf("%w: %d", ErrMTU, pc.mtu)
	}
	w.fragID++
	ip.NextHeader = layers.IPProtocolIPv6Fragment
	for i, off := 0, 0; off < len(dgram); i, off = i+1, off+chunk {
		end := min(off+chunk, len(dgram))
		fh := &layers.IPv6Fragment{
			NextHeader:     layers.IPProtocolUDP,
			FragmentOffset: uint16(off / 8), //nolint:gosec // G115: off < 65536 checked above
			MoreFragments:  end < len(dgram),
			Identification: w.fragID,
		}
		hdr := *ip
		at := t.Add(time.Duration(i) * pc.fragmentGap)
		if err := w.serialize(at, append(link, &hdr, fh, gopacket.Payload(dgram[off:end]))); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) serialize(t time.Time, ls []gopacket.SerializableLayer) error {
	if err := gopacket.SerializeLayers(w.buf, serializeOpts, ls...); err != nil {
		return fmt.Errorf("serialize frame: %w", err)
	}
	return w.writeFrame(t, w.buf.Bytes())
}

func (w *Writer) newIPv4(src, dst netip.Addr, proto layers.IPProtocol) *layers.IPv4 {
	w.ipID++
	return &layers.IPv4{
		Version:  4,
		IHL:      5,
		TTL:      defaultTTL,
		Id:       w.ipID,
		Protocol: proto,
		SrcIP:    net.IP(src.AsSlice()),
		DstIP:    net.IP(dst.AsSlice()),
	}
}

func newIPv6(src, dst netip.Addr, proto layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{
		Version:    6,
		NextHeader: proto,
		HopLimit:   defaultTTL,
		SrcIP:      net.IP(src.AsSlice()),
		DstIP:      net.IP(dst.AsSlice()),
	}
}

// addrPair checks that src and dst are valid addresses of one family and
// unmaps IPv4-mapped IPv6 addresses.
func addrPair(src, dst netip.Addr) (netip.Addr, netip.Addr, error) {
	src, dst = src.Unmap(), dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return src, dst, fmt.Errorf("%w: %v -> %v", ErrAddress, src, dst)
	}
	return src, dst, nil
}

// linkLayers returns the link-layer headers for a packet between src and
// dst, with the VLAN tags asked for (Ethernet only).
func (w *Writer) linkLayers(src, dst netip.Addr, vlans []uint16) ([]gopacket.SerializableLayer, error) {
	etype := layers.EthernetTypeIPv4
	if src.Is6() {
		etype = layers.EthernetTypeIPv6
	}
	if len(vlans) > 0 && w.cfg.linkType != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("%w: %d tags on link type %s", ErrVLAN, len(vlans), w.cfg.linkType)
	}
	switch w.cfg.linkType {
	case layers.LinkTypeLinuxSLL:
		return []gopacket.SerializableLayer{sllHeader{src: macFor(src), proto: etype}}, nil
	case layers.LinkTypeRaw:
		return nil, nil
	}
	eth := &layers.Ethernet{SrcMAC: macFor(src), DstMAC: macFor(dst), EthernetType: etype}
	switch len(vlans) {
	case 0:
		return []gopacket.SerializableLayer{eth}, nil
	case 1:
		eth.EthernetType = layers.EthernetTypeDot1Q
		return []gopacket.SerializableLayer{eth, &layers.Dot1Q{VLANIdentifier: vlans[0], Type: etype}}, nil
	case 2:
		// IEEE 802.1ad: outer service tag 0x88a8, inner customer tag 0x8100.
		eth.EthernetType = layers.EthernetTypeQinQ
		return []gopacket.SerializableLayer{
			eth,
			&layers.Dot1Q{VLANIdentifier: vlans[0], Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: vlans[1], Type: etype},
		}, nil
	}
	return nil, fmt.Errorf("%w: %d tags", ErrVLAN, len(vlans))
}

// macFor derives a locally administered unicast MAC address from an IP
// address, so that a host keeps one MAC across a capture.
func macFor(a netip.Addr) net.HardwareAddr {
	b := a.As16()
	if a.Is4() {
		return net.HardwareAddr{0x02, 0x00, b[12], b[13], b[14], b[15]}
	}
	return net.HardwareAddr{0x02, b[11], b[12], b[13], b[14], b[15]}
}

// sllHeader is the Linux cooked capture (v1) header. gopacket decodes it
// but cannot serialize it.
type sllHeader struct {
	src   net.HardwareAddr
	proto layers.EthernetType
}

const (
	sllHeaderLen = 16
	sllHost      = 0 // packet type: addressed to this host
	arphrdEther  = 1
)

func (s sllHeader) LayerType() gopacket.LayerType { return layers.LayerTypeLinuxSLL }

func (s sllHeader) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	h, err := b.PrependBytes(sllHeaderLen)
	if err != nil {
		return fmt.Errorf("sll header: %w", err)
	}
	clear(h)
	binary.BigEndian.PutUint16(h[0:2], sllHost)
	binary.BigEndian.PutUint16(h[2:4], arphrdEther)
	binary.BigEndian.PutUint16(h[4:6], uint16(len(s.src))) //nolint:gosec // G115: a MAC is 6 bytes
	copy(h[6:14], s.src)
	binary.BigEndian.PutUint16(h[14:16], uint16(s.proto))
	return nil
}

// FragmentCount returns how many IP packets a UDP payload of payloadLen
// bytes takes at the given MTU (1 when it fits), as UDP writes it.
func FragmentCount(payloadLen int, ipv6 bool, mtu int) int {
	hdr, fragHdr := ipv4HeaderLen, 0
	if ipv6 {
		hdr, fragHdr = ipv6HeaderLen, ipv6FragHeaderLen
	}
	dgram := udpHeaderLen + payloadLen
	if hdr+dgram <= mtu {
		return 1
	}
	chunk := (mtu - hdr - fragHdr) &^ 7
	if chunk < 8 {
		return 0
	}
	return (dgram + chunk - 1) / chunk
}
