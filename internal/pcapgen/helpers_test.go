package pcapgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// frame is one frame read back from a capture.
type frame struct {
	ci   gopacket.CaptureInfo
	data []byte
}

// readFrames reads every frame of a pcap (or pcapng) stream.
func readFrames(t *testing.T, b []byte, ng bool) ([]frame, layers.LinkType) {
	t.Helper()
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var lt layers.LinkType
	if ng {
		nr, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("pcapng reader: %v", err)
		}
		r, lt = nr, nr.LinkType()
	} else {
		pr, err := pcapgo.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("pcap reader: %v", err)
		}
		if pr.Resolution() != gopacket.TimestampResolutionNanosecond {
			t.Fatalf("resolution %v, want ns", pr.Resolution())
		}
		r, lt = pr, pr.LinkType()
	}
	var out []frame
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, lt
		}
		if err != nil {
			t.Fatalf("read frame %d: %v", len(out), err)
		}
		out = append(out, frame{ci: ci, data: append([]byte(nil), data...)})
	}
}

// datagram is a transport payload recovered from the capture, with the
// capture time of the packet that completed it.
type datagram struct {
	at       time.Time
	src, dst netip.AddrPort
	tcp      bool
	payload  []byte
	vlans    []uint16
	frags    int // IP fragments it came in (1 when not fragmented)
}

// decoder turns frames back into datagrams the way a tap would: IP
// defragmentation, checksum checks; TCP payloads are returned per segment.
type decoder struct {
	t      *testing.T
	lt     layers.LinkType
	v4     *ip4defrag.IPv4Defragmenter
	v6     *ip6defrag.IPv6Defragmenter
	nfrags map[string]int
}

func newDecoder(t *testing.T, lt layers.LinkType) *decoder {
	t.Helper()
	return &decoder{t: t, lt: lt, v4: ip4defrag.NewIPv4Defragmenter(), v6: ip6defrag.NewIPv6Defragmenter(), nfrags: map[string]int{}}
}

func (d *decoder) decodeAll(frames []frame) []datagram {
	d.t.Helper()
	var out []datagram
	for i, f := range frames {
		dg, ok, err := d.decode(f)
		if err != nil {
			d.t.Fatalf("frame %d at %v: %v", i, f.ci.Timestamp, err)
		}
		if ok {
			out = append(out, dg)
		}
	}
	return out
}

func (d *decoder) decode(f frame) (datagram, bool, error) {
	p := gopacket.NewPacket(f.data, d.lt, gopacket.Default)
	// An error above the transport layer (gopacket's own SIP decoder on
	// port 5060 given a non-SIP payload) is not the writer's concern.
	if el := p.ErrorLayer(); el != nil && p.TransportLayer() == nil {
		return datagram{}, false, fmt.Errorf("decode: %w", el.Error())
	}
	dg := datagram{at: f.ci.Timestamp, frags: 1}
	for _, l := range p.Layers() {
		if q, ok := l.(*layers.Dot1Q); ok {
			dg.vlans = append(dg.vlans, q.VLANIdentifier)
		}
	}
	var netLayer gopacket.NetworkLayer
	var transport []byte
	var proto layers.IPProtocol
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		if _, res := ip.VerifyChecksum(); !res.Valid {
			return dg, false, fmt.Errorf("bad ipv4 checksum %#x", res.Actual)
		}
		key := fmt.Sprintf("4/%v/%v/%d", ip.SrcIP, ip.DstIP, ip.Id)
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			d.nfrags[key]++
			cp := *ip // ip4defrag keeps the layer it is given
			whole, err := d.v4.DefragIPv4WithTimestamp(&cp, f.ci.Timestamp)
			if err != nil {
				return dg, false, fmt.Errorf("defrag ipv4: %w", err)
			}
			if whole == nil {
				return dg, false, nil
			}
			dg.frags = d.nfrags[key]
			ip = whole
		}
		netLayer, transport, proto = ip, ip.Payload, ip.Protocol
	case *layers.IPv6:
		netLayer, transport, proto = ip, ip.Payload, ip.NextHeader
		if fl := p.Layer(layers.LayerTypeIPv6Fragment); fl != nil {
			fh, _ := fl.(*layers.IPv6Fragment)
			key := fmt.Sprintf("6/%v/%v/%d", ip.SrcIP, ip.DstIP, fh.Identification)
			d.nfrags[key]++
			whole := d.v6.DefragIPv6(ip, fh)
			if whole == nil {
				return dg, false, nil
			}
			dg.frags = d.nfrags[key]
			netLayer, transport, proto = whole, whole.Payload, whole.NextHeader
		}
	default:
		return dg, false, fmt.Errorf("no ip layer in %x", f.data)
	}
	src, dst := netLayer.NetworkFlow().Endpoints()
	srcIP, _ := netip.AddrFromSlice(src.Raw())
	dstIP, _ := netip.AddrFromSlice(dst.Raw())
	switch proto {
	case layers.IPProtocolUDP:
		tp := gopacket.NewPacket(transport, layers.LayerTypeUDP, gopacket.Default)
		udp, ok := tp.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			return dg, false, fmt.Errorf("no udp in %x", transport)
		}
		if err := udp.SetNetworkLayerForChecksum(netLayer); err != nil {
			return dg, false, err
		}
		if _, res := udp.VerifyChecksum(); !res.Valid || udp.Checksum == 0 {
			return dg, false, fmt.Errorf("bad udp checksum %#x", res.Actual)
		}
		if int(udp.Length) != len(transport) {
			return dg, false, fmt.Errorf("udp length %d, datagram %d", udp.Length, len(transport))
		}
		dg.src = netip.AddrPortFrom(srcIP, uint16(udp.SrcPort))
		dg.dst = netip.AddrPortFrom(dstIP, uint16(udp.DstPort))
		dg.payload = udp.Payload
	case layers.IPProtocolTCP:
		tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			return dg, false, errors.New("no tcp layer")
		}
		if err := tcp.SetNetworkLayerForChecksum(netLayer); err != nil {
			return dg, false, err
		}
		if _, res := tcp.VerifyChecksum(); !res.Valid {
			return dg, false, fmt.Errorf("bad tcp checksum %#x", res.Actual)
		}
		dg.tcp = true
		dg.src = netip.AddrPortFrom(srcIP, uint16(tcp.SrcPort))
		dg.dst = netip.AddrPortFrom(dstIP, uint16(tcp.DstPort))
		dg.payload = tcp.Payload
	default:
		return dg, false, fmt.Errorf("unexpected protocol %v", proto)
	}
	return dg, true, nil
}

// sipMsg is a parsed SIP message with the capture time of the datagram or
// segment that completed it.
type sipMsg struct {
	at  time.Time
	msg sip.Message
	raw string
	dg  datagram
}

// isSIP says whether a datagram is signalling (port 5060) rather than RTP.
func isSIP(dg datagram) bool { return dg.src.Port() == 5060 || dg.dst.Port() == 5060 }

// parseSIP parses every SIP datagram and TCP stream of dgs with sipgo.
func parseSIP(t *testing.T, dgs []datagram) []sipMsg {
	t.Helper()
	var out []sipMsg
	streams := map[string]*sip.ParserStream{}
	parser := sip.NewParser()
	for _, dg := range dgs {
		if !isSIP(dg) {
			continue
		}
		if !dg.tcp {
			m, err := sip.ParseMessage(dg.payload)
			if err != nil {
				t.Fatalf("sipgo cannot parse datagram at %v: %v\n%s", dg.at, err, dg.payload)
			}
			out = append(out, sipMsg{at: dg.at, msg: m, raw: string(dg.payload), dg: dg})
			continue
		}
		if len(dg.payload) == 0 {
			continue
		}
		key := dg.src.String() + ">" + dg.dst.String()
		ps, ok := streams[key]
		if !ok {
			ps = parser.NewSIPStream()
			streams[key] = ps
		}
		err := ps.ParseSIPStream(dg.payload, func(m sip.Message) {
			out = append(out, sipMsg{at: dg.at, msg: m, raw: m.String(), dg: dg})
		})
		if err != nil && !errors.Is(err, sip.ErrParseSipPartial) {
			t.Fatalf("sipgo stream at %v: %v", dg.at, err)
		}
	}
	return out
}
