package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Decoder defaults.
const (
	defaultFragDatagrams  = 1024
	defaultFragBytes      = 4 << 20
	defaultFragTimeout    = 30 * time.Second // Linux ipfrag_time
	defaultTCPStreams     = 8192
	defaultTCPBuffered    = 256 << 10
	defaultTCPIdle        = 5 * time.Minute
	defaultTCPGapTimeout  = time.Second
	maxVLANTags           = 2
	linkTypeDLTRaw12      = layers.LinkType(12) // DLT_RAW on most BSDs
	linkTypeDLTRaw14      = layers.LinkType(14) // DLT_RAW on OpenBSD
	sllHeaderLen          = 16
	sll2HeaderLen         = 20
	ethernetHeaderLen     = 14
	vlanTagLen            = 4
	loopbackHeaderLen     = 4
	afInet                = 2
	afInet6BSD            = 24
	afInet6FreeBSD        = 28
	afInet6Darwin         = 30
	vlanIDMask            = 0x0fff
	ipv4MoreFragmentsFlag = layers.IPv4MoreFragments
)

// DecoderOption configures a Decoder.
type DecoderOption func(*decoderConfig)

type decoderConfig struct {
	fragDatagrams int
	fragBytes     int
	fragTimeout   time.Duration
	tcpStreams    int
	tcpBuffered   int
	tcpIdle       time.Duration
	tcpGap        time.Duration
}

// WithFragmentLimits bounds IP reassembly: at most datagrams pending and
// bytes of fragment payload held; the oldest are dropped first.
func WithFragmentLimits(datagrams, bytes int) DecoderOption {
	return func(c *decoderConfig) { c.fragDatagrams, c.fragBytes = datagrams, bytes }
}

// WithFragmentTimeout sets how long fragments wait for the rest of their
// datagram, in capture time (default 30 s).
func WithFragmentTimeout(d time.Duration) DecoderOption {
	return func(c *decoderConfig) { c.fragTimeout = d }
}

// WithTCPLimits bounds TCP reassembly: at most streams directions followed
// and buffered out-of-order bytes held per direction.
func WithTCPLimits(streams, buffered int) DecoderOption {
	return func(c *decoderConfig) { c.tcpStreams, c.tcpBuffered = streams, buffered }
}

// WithTCPTimeouts sets how long an idle TCP direction is remembered and how
// long a missing segment is waited for before its gap is skipped, both in
// capture time (defaults 5 min and 1 s).
func WithTCPTimeouts(idle, gap time.Duration) DecoderOption {
	return func(c *decoderConfig) { c.tcpIdle, c.tcpGap = idle, gap }
}

// Decoder decodes frames down to Datagrams: link layer, VLAN tags, PPPoE,
// IPv4 and IPv6, IP reassembly, the tunnels of a remote mirror (GRE with
// ERSPAN or Ethernet, VXLAN, IP-in-IP), UDP, and TCP stream reassembly. It
// is not safe for concurrent use.
type Decoder struct {
	ip4   layers.IPv4
	ip6   layers.IPv6
	ext   layers.IPv6ExtensionSkipper
	frag6 layers.IPv6Fragment
	udp   layers.UDP
	tcp   layers.TCP

	// The link layer and VLAN tags are read by hand (see link): the
	// parsers start at the IP header.
	parse4, parse6 *gopacket.DecodingLayerParser
	decoded        []gopacket.LayerType

	defrag *defragmenter
	tcpa   *tcpAssembler

	// dg is the Datagram handed to callbacks, reused to avoid allocation.
	dg Datagram
	fn func(*Datagram)
	// emitTCP is bound once so the TCP path does not allocate a closure.
	emitTCP func([]byte, time.Time, bool)

	// next is the frame a tunnel carried, left by network for Decode, and
	// depth the tunnels crossed so far in the frame being decoded.
	next  tunnel
	depth int

	stats       DecoderStats
	undecodable [4]uint64
}

// NewDecoder returns a Decoder.
func NewDecoder(opts ...DecoderOption) *Decoder {
	c := decoderConfig{
		fragDatagrams: defaultFragDatagrams,
		fragBytes:     defaultFragBytes,
		fragTimeout:   defaultFragTimeout,
		tcpStreams:    defaultTCPStreams,
		tcpBuffered:   defaultTCPBuffered,
		tcpIdle:       defaultTCPIdle,
		tcpGap:        defaultTCPGapTimeout,
	}
	for _, o := range opts {
		o(&c)
	}
	d := &Decoder{
		decoded: make([]gopacket.LayerType, 0, 8),
		defrag:  newDefragmenter(c.fragDatagrams, c.fragBytes, c.fragTimeout),
		tcpa:    newTCPAssembler(c.tcpStreams, c.tcpBuffered, c.tcpIdle, c.tcpGap),
	}
	// The skipper comes before the fragment layer so that the fragment
	// layer, not the skipper, decodes Fragment headers.
	layersIn := []gopacket.DecodingLayer{&d.ip4, &d.ip6, &d.ext, &d.frag6, &d.udp, &d.tcp}
	d.parse4 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv4, layersIn...)
	d.parse6 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv6, layersIn...)
	// Anything past UDP or TCP (their payload) or an unknown protocol ends
	// the parse without an error; what was reached is looked at below.
	d.parse4.IgnoreUnsupported = true
	d.parse6.IgnoreUnsupported = true
	d.emitTCP = d.deliverTCP
	return d
}

// Decode decodes one frame and calls fn for every Datagram it completes
// (0, 1 or several). The Datagram and its Payload are valid only during fn.
// Frames that arrive over the network in GRE (ERSPAN, transparent Ethernet
// bridging), VXLAN or IP-in-IP, or in PPPoE, are decoded as the frame they
// carry, up to maxEncapDepth tunnels deep (see encap.go).
// A frame that cannot be decoded returns an error wrapping ErrTruncated,
// ErrMalformed, ErrUnsupportedLink, ErrFragment, ErrStreamLimit or
// ErrEncapDepth, and is counted; frames that carry neither UDP nor TCP are
// counted as skipped and return nil.
func (d *Decoder) Decode(link layers.LinkType, frame []byte, ci gopacket.CaptureInfo, fn func(*Datagram)) error {
	d.stats.Frames++
	d.fn = fn
	defer func() { d.fn = nil }()
	d.depth = 0
	b, hint := frame, uint16(0)
	for {
		vlan, etherType, ip, err := d.link(link, b)
		if err != nil {
			return err
		}
		if vlan == 0 {
			vlan = hint
		}
		if err := d.network(etherType, ip, vlan, ci.Timestamp); err != nil || d.next.b == nil {
			return err
		}
		if d.depth++; d.depth > maxEncapDepth {
			d.next.b = nil
			return d.fail(ReasonEncapDepth, fmt.Errorf("%w: %d tunnels", ErrEncapDepth, d.depth))
		}
		link, b, hint = d.next.link, d.next.b, d.next.vlan
		d.next.b = nil
	}
}

// network decodes an IP packet and what it carries: it delivers UDP and TCP
// payloads, or leaves in d.next the frame a tunnel in it carries. IP-in-IP
// headers the parser went through are added to d.depth here, the tunnel
// left in d.next by Decode.
func (d *Decoder) network(etherType uint16, ip []byte, vlan uint16, ts time.Time) error {
	var parser *gopacket.DecodingLayerParser
	switch etherType {
	case etherTypeIPv4:
		parser = d.parse4
	case etherTypeIPv6:
		parser = d.parse6
	default:
		d.stats.Skipped++
		return nil
	}
	d.decoded = d.decoded[:0]
	if err := parser.DecodeLayers(ip, &d.decoded); err != nil {
		if parser.Truncated {
			return d.fail(ReasonTruncated, fmt.Errorf("%w: %v", ErrTruncated, err)) //nolint:errorlint // gopacket's errors are plain strings
		}
		return d.fail(ReasonMalformed, fmt.Errorf("%w: %v", ErrMalformed, err)) //nolint:errorlint // gopacket's errors are plain strings
	}
	if parser.Truncated {
		return d.fail(ReasonTruncated, fmt.Errorf("%w: %d byte packet", ErrTruncated, len(ip)))
	}
	d.dg = Datagram{Time: ts, VLAN: vlan}

	// The parser follows IPv4 and IPv6 headers nested in each other
	// (protocols 4 and 41) on its own: the last one is the inner packet.
	var (
		netLayer, last, transport gopacket.LayerType
		fragment                  bool
		ips                       int
	)
	for _, lt := range d.decoded {
		last = lt
		switch lt {
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6:
			netLayer, fragment = lt, false
			ips++
		case layers.LayerTypeIPv6Fragment:
			fragment = d.frag6.FragmentOffset != 0 || d.frag6.MoreFragments
		case layers.LayerTypeUDP, layers.LayerTypeTCP:
			transport = lt
		}
	}
	if ips > 1 {
		if d.depth += ips - 1; d.depth > maxEncapDepth {
			return d.fail(ReasonEncapDepth, fmt.Errorf("%w: %d tunnels", ErrEncapDepth, d.depth))
		}
	}
	var src, dst netip.Addr
	switch netLayer {
	case layers.LayerTypeIPv4:
		src, _ = netip.AddrFromSlice(d.ip4.SrcIP)
		dst, _ = netip.AddrFromSlice(d.ip4.DstIP)
		if d.ip4.Flags&ipv4MoreFragmentsFlag != 0 || d.ip4.FragOffset != 0 {
			return d.defrag4(src, dst, ts)
		}
	case layers.LayerTypeIPv6:
		src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
		dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
		if fragment {
			return d.defrag6(src, dst, ts)
		}
	default:
		d.stats.Skipped++
		return nil
	}
	switch transport {
	case layers.LayerTypeUDP:
		d.deliverUDP(src, dst, &d.udp)
		return nil
	case layers.LayerTypeTCP:
		return d.segment(src, dst, &d.tcp, ts)
	}
	// Neither UDP nor TCP: GRE, or IP-in-IP the parser did not follow.
	var (
		proto   layers.IPProtocol
		payload []byte
	)
	switch {
	case last == layers.LayerTypeIPv4:
		proto, payload = d.ip4.Protocol, d.ip4.Payload
	case last == layers.LayerTypeIPv6 && d.ip6.HopByHop != nil:
		proto, payload = d.ip6.HopByHop.NextHeader, d.ip6.Payload
	case last == layers.LayerTypeIPv6:
		proto, payload = d.ip6.NextHeader, d.ip6.Payload
	case last == layers.LayerTypeIPv6Fragment:
		proto, payload = d.frag6.NextHeader, d.frag6.Payload
	default: // extension headers
		proto, payload = d.ext.NextHeader, d.ext.Payload
	}
	return d.tunnel(proto, payload)
}

// tunnel leaves in d.next the frame an IP payload of protocol proto
// carries when it is a tunnel (GRE, IP-in-IP); anything else is skipped.
func (d *Decoder) tunnel(proto layers.IPProtocol, b []byte) error {
	var (
		t   tunnel
		err error
	)
	switch proto {
	case protoGRE:
		t, err = decapGRE(b)
	case protoIPIP:
		t = tunnel{link: layers.LinkTypeIPv4, b: b}
	case protoIPv6Encap:
		t = tunnel{link: layers.LinkTypeIPv6, b: b}
	default:
		err = errSkip
	}
	switch {
	case err == nil && t.b == nil:
		// An empty inner frame is truncated, and d.next.b must be set for
		// Decode to go on.
		return d.fail(ReasonTruncated, fmt.Errorf("%w: empty tunnel payload", ErrTruncated))
	case err == nil:
		d.next = t
		return nil
	case errors.Is(err, errSkip):
		d.stats.Skipped++
		return nil
	case errors.Is(err, ErrTruncated):
		return d.fail(ReasonTruncated, err)
	}
	return d.fail(ReasonMalformed, err)
}

// fail counts an undecodable frame.
func (d *Decoder) fail(reason string, err error) error {
	switch reason {
	case ReasonTruncated:
		d.undecodable[0]++
	case ReasonMalformed:
		d.undecodable[1]++
	case ReasonUnsupportedLink:
		d.undecodable[2]++
	default:
		d.undecodable[3]++
	}
	return err
}

// link reads the link-layer header, up to two VLAN tags and a PPPoE
// session header by hand. This is
// zero-copy like gopacket's layers, but also knows the pre-standard 0x9100
// tag and keeps the outermost VLAN ID (gopacket's one Dot1Q layer would be
// overwritten by the inner tag of a QinQ frame). It returns the outermost
// VLAN ID, the ethertype of the network layer and its bytes.
func (d *Decoder) link(link layers.LinkType, b []byte) (vlan, etherType uint16, ip []byte, err error) {
	switch link {
	case layers.LinkTypeEthernet:
		if len(b) < ethernetHeaderLen {
			return 0, 0, nil, d.fail(ReasonTruncated, fmt.Errorf("%w: ethernet %d < %d", ErrTruncated, len(b), ethernetHeaderLen))
		}
		etherType, b = binary.BigEndian.Uint16(b[12:14]), b[ethernetHeaderLen:]
	case layers.LinkTypeLinuxSLL:
		if len(b) < sllHeaderLen {
			return 0, 0, nil, d.fail(ReasonTruncated, fmt.Errorf("%w: sll %d < %d", ErrTruncated, len(b), sllHeaderLen))
		}
		etherType, b = binary.BigEndian.Uint16(b[14:16]), b[sllHeaderLen:]
	case layers.LinkTypeLinuxSLL2:
		if len(b) < sll2HeaderLen {
			return 0, 0, nil, d.fail(ReasonTruncated, fmt.Errorf("%w: sll2 %d < %d", ErrTruncated, len(b), sll2HeaderLen))
		}
		etherType, b = binary.BigEndian.Uint16(b[0:2]), b[sll2HeaderLen:]
	case layers.LinkTypeRaw, linkTypeDLTRaw12, linkTypeDLTRaw14, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		if len(b) < 1 {
			return 0, 0, nil, d.fail(ReasonTruncated, fmt.Errorf("%w: empty raw ip frame", ErrTruncated))
		}
		switch b[0] >> 4 {
		case 4:
			etherType = etherTypeIPv4
		case 6:
			etherType = etherTypeIPv6
		default:
			return 0, 0, nil, d.fail(ReasonMalformed, fmt.Errorf("%w: ip version %d", ErrMalformed, b[0]>>4))
		}
		return 0, etherType, b, nil
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(b) < loopbackHeaderLen {
			return 0, 0, nil, d.fail(ReasonTruncated, fmt.Errorf("%w: loopback %d < %d", ErrTruncated, len(b), loopbackHeaderLen))
		}
		// The family is in the writer's byte order (big-endian for LOOP).
		fam := binary.LittleEndian.Uint32(b)
		if fam > 0xffff {
			fam = binary.BigEndian.Uint32(b)
		}
		switch fam {
		case afInet:
			etherType = etherTypeIPv4
		case afInet6BSD, afInet6FreeBSD, afInet6Darwin:
			etherType = etherTypeIPv6
		}
		return 0, etherType, b[loopbackHeaderLen:], nil
	default:
		return 0, 0, nil, d.fail(ReasonUnsupportedLink, fmt.Errorf("%w: %d", ErrUnsupportedLink, link))
	}
	for tags := 0; tags < maxVLANTags && isVLAN(etherType); tags++ {
		if len(b) < vlanTagLen {
			return 0, 0, nil, d.fail(ReasonTruncated, fmt.Errorf("%w: vlan tag %d < %d", ErrTruncated, len(b), vlanTagLen))
		}
		if tags == 0 {
			vlan = binary.BigEndian.Uint16(b[0:2]) & vlanIDMask
		}
		etherType, b = binary.BigEndian.Uint16(b[2:4]), b[vlanTagLen:]
	}
	if etherType == etherTypePPPoESession {
		if etherType, b, err = pppoe(b); err != nil {
			if errors.Is(err, ErrTruncated) {
				return 0, 0, nil, d.fail(ReasonTruncated, err)
			}
			return 0, 0, nil, d.fail(ReasonMalformed, err)
		}
	}
	return vlan, etherType, b, nil
}

func isVLAN(etherType uint16) bool {
	return etherType == etherTypeDot1Q || etherType == etherTypeQinQ || etherType == etherType9100
}

// deliverUDP hands one UDP datagram to the callback, or leaves in d.next
// the frame it carries when it is VXLAN.
func (d *Decoder) deliverUDP(src, dst netip.Addr, u *layers.UDP) {
	if u.DstPort == vxlanPort {
		if t, ok := decapVXLAN(u.Payload); ok {
			d.next = t
			return
		}
	}
	d.dg.Transport = UDP
	d.dg.Src = netip.AddrPortFrom(src, uint16(u.SrcPort))
	d.dg.Dst = netip.AddrPortFrom(dst, uint16(u.DstPort))
	d.dg.Payload = u.Payload
	d.dg.StreamStart = false
	d.stats.UDP++
	d.stats.Datagrams++
	d.fn(&d.dg)
}

// segment feeds one TCP segment to the stream reassembler.
func (d *Decoder) segment(src, dst netip.Addr, t *layers.TCP, ts time.Time) error {
	d.dg.Transport = TCP
	d.dg.Src = netip.AddrPortFrom(src, uint16(t.SrcPort))
	d.dg.Dst = netip.AddrPortFrom(dst, uint16(t.DstPort))
	k := tcpKey{src: d.dg.Src, dst: d.dg.Dst, vlan: d.dg.VLAN}
	return d.tcpa.segment(k, t.Seq, tcpFlags{syn: t.SYN, fin: t.FIN, rst: t.RST}, t.Payload, ts, d.emitTCP)
}

// deliverTCP hands a run of in-order stream bytes to the callback; the
// addresses were set by segment.
func (d *Decoder) deliverTCP(b []byte, ts time.Time, start bool) {
	d.dg.Time = ts
	d.dg.Payload = b
	d.dg.StreamStart = start
	d.dg.Message = d.tcpa.wsMessage
	d.stats.Datagrams++
	d.fn(&d.dg)
	d.dg.Message = false // the Datagram is reused: deliverUDP does not clear it
}

// defrag4 feeds the IPv4 fragment in d.ip4 to reassembly and decodes the
// datagram it completes.
func (d *Decoder) defrag4(src, dst netip.Addr, ts time.Time) error {
	out, err := d.defrag.ipv4(&d.ip4, src, dst, ts)
	if err != nil || out == nil {
		return err
	}
	return d.transport(out.Protocol, out.Payload, src, dst, ts)
}

// defrag6 feeds the IPv6 fragment in d.frag6 to reassembly and decodes the
// packet it completes.
func (d *Decoder) defrag6(src, dst netip.Addr, ts time.Time) error {
	out := d.defrag.ipv6(&d.ip6, &d.frag6, src, dst, ts)
	if out == nil {
		return nil
	}
	return d.transport(out.NextHeader, out.Payload, src, dst, ts)
}

// transport decodes the UDP or TCP header of a reassembled datagram, or
// leaves in d.next the frame it carries when it is a tunnel (a large
// mirrored frame makes GRE fragments).
func (d *Decoder) transport(proto layers.IPProtocol, b []byte, src, dst netip.Addr, ts time.Time) error {
	var fb truncFeedback
	switch proto {
	case layers.IPProtocolUDP:
		if err := d.udp.DecodeFromBytes(b, &fb); err != nil {
			return d.fail(ReasonMalformed, fmt.Errorf("%w: reassembled udp: %v", ErrMalformed, err)) //nolint:errorlint // plain string
		}
		if fb.truncated {
			return d.fail(ReasonTruncated, fmt.Errorf("%w: reassembled udp length %d > %d", ErrTruncated, d.udp.Length, len(b)))
		}
		d.deliverUDP(src, dst, &d.udp)
		return nil
	case layers.IPProtocolTCP:
		if err := d.tcp.DecodeFromBytes(b, &fb); err != nil || fb.truncated {
			return d.fail(ReasonMalformed, fmt.Errorf("%w: reassembled tcp: %v", ErrMalformed, err)) //nolint:errorlint // plain string
		}
		return d.segment(src, dst, &d.tcp, ts)
	}
	return d.tunnel(proto, b)
}

// Expire drops fragment and TCP state idle since before now minus the
// configured timeouts, now being a capture time. It scans all state: call
// it periodically (about once a second of capture time), not per frame.
func (d *Decoder) Expire(now time.Time) {
	d.defrag.expire(now)
	d.tcpa.expire(now)
}

// Stats returns the counters.
func (d *Decoder) Stats() DecoderStats {
	s := d.stats
	s.Undecodable = map[string]uint64{
		ReasonTruncated:       d.undecodable[0],
		ReasonMalformed:       d.undecodable[1],
		ReasonUnsupportedLink: d.undecodable[2],
		ReasonEncapDepth:      d.undecodable[3],
	}
	s.FragmentsPending = len(d.defrag.t4.entries) + len(d.defrag.t6.entries)
	s.FragmentBytesPending = d.defrag.t4.bytes + d.defrag.t6.bytes
	s.FragmentsReassembled = d.defrag.reassembled
	s.FragmentsDropped = d.defrag.dropped
	a := d.tcpa
	s.TCPSegments = a.segments
	s.TCPBytes = a.delivered
	s.TCPStreamsOpen = a.open()
	s.TCPStreamsRefused = a.refused
	s.TCPStreamsExpired = a.expired
	s.TCPBytesRetransmitted = a.retransmitted
	s.TCPBytesSkipped = a.skipped
	s.TCPBytesDropped = a.dropped
	s.WebSocket = d.WebSocketStats()
	return s
}
