package pcapgen

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TCPStep is the time between the segments of a handshake or of a close:
// Handshake(t) writes SYN at t, SYN/ACK at t+TCPStep and ACK at t+2*TCPStep.
const TCPStep = 500 * time.Microsecond

const (
	tcpHeaderLen = 20
	tcpWindow    = 64240
	tcpMSS       = 1460
)

// TCPConn writes the segments of one TCP connection between a client and a
// server, keeping sequence and acknowledgement numbers consistent.
type TCPConn struct {
	w              *Writer
	client, server netip.AddrPort
	opts           []PacketOption
	next           [2]uint32 // next sequence number: [0] client, [1] server
	closed         bool
}

// TCP returns a connection from client src to server dst. The initial
// sequence numbers derive from the addresses, so output is reproducible.
// opts (a VLAN, say) apply to every segment of the connection. Send may be
// used without Handshake, to model a capture that starts mid-connection.
func (w *Writer) TCP(src, dst netip.AddrPort, opts ...PacketOption) *TCPConn {
	h := fnv.New32a()
	_, _ = h.Write([]byte(src.String() + ">" + dst.String()))
	isn := h.Sum32()
	return &TCPConn{
		w: w, client: src, server: dst,
		opts: append([]PacketOption(nil), opts...),
		next: [2]uint32{isn, isn ^ 0x5a5a5a5a},
	}
}

// Handshake writes the three-way handshake (RFC 9293 3.5): SYN at t,
// SYN/ACK at t+TCPStep, ACK at t+2*TCPStep.
func (c *TCPConn) Handshake(t time.Time) error {
	if c.closed {
		return fmt.Errorf("%w: handshake after close", ErrTCPState)
	}
	steps := []struct {
		fromClient bool
		syn, ack   bool
	}{{true, true, false}, {false, true, true}, {true, false, true}}
	for i, s := range steps {
		if err := c.segment(t.Add(time.Duration(i)*TCPStep), s.fromClient, tcpFlags{syn: s.syn, ack: s.ack}, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// Send writes one PSH/ACK segment carrying payload, from the client when
// fromClient is true, else from the server. Callers split messages
// themselves to exercise reassembly; a segment larger than the MTU is an
// error (TCP does not rely on IP fragmentation).
func (c *TCPConn) Send(t time.Time, fromClient bool, payload []byte, opts ...PacketOption) error {
	if c.closed {
		return fmt.Errorf("%w: send after close", ErrTCPState)
	}
	return c.segment(t, fromClient, tcpFlags{psh: true, ack: true}, payload, opts)
}

// Close writes the FIN exchange started by the client (RFC 9293 3.6):
// FIN/ACK at t, FIN/ACK from the server at t+TCPStep, ACK at t+2*TCPStep.
func (c *TCPConn) Close(t time.Time) error {
	if c.closed {
		return fmt.Errorf("%w: close twice", ErrTCPState)
	}
	steps := []struct {
		fromClient, fin bool
	}{{true, true}, {false, true}, {true, false}}
	for i, s := range steps {
		if err := c.segment(t.Add(time.Duration(i)*TCPStep), s.fromClient, tcpFlags{fin: s.fin, ack: true}, nil, nil); err != nil {
			return err
		}
	}
	c.closed = true
	return nil
}

type tcpFlags struct{ syn, ack, psh, fin bool }

func (c *TCPConn) segment(t time.Time, fromClient bool, f tcpFlags, payload []byte, opts []PacketOption) error {
	src, dst, me, peer := c.client, c.server, 0, 1
	if !fromClient {
		src, dst, me, peer = c.server, c.client, 1, 0
	}
	pc := c.w.packetConfig(append(append([]PacketOption(nil), c.opts...), opts...))
	srcIP, dstIP, err := addrPair(src.Addr(), dst.Addr())
	if err != nil {
		return err
	}
	link, err := c.w.linkLayers(srcIP, dstIP, pc.vlans)
	if err != nil {
		return err
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()),
		DstPort: layers.TCPPort(dst.Port()),
		Seq:     c.next[me],
		SYN:     f.syn, ACK: f.ack, PSH: f.psh, FIN: f.fin,
		Window: tcpWindow,
	}
	if f.ack {
		tcp.Ack = c.next[peer]
	}
	if f.syn {
		// RFC 9293 3.7.1: announce the MSS in the SYN.
		tcp.Options = []layers.TCPOption{{
			OptionType: layers.TCPOptionKindMSS, OptionLength: 4,
			OptionData: []byte{tcpMSS >> 8, tcpMSS & 0xff},
		}}
	}
	var ip gopacket.NetworkLayer
	var ipLayer gopacket.SerializableLayer
	hdr := ipv6HeaderLen
	if srcIP.Is4() {
		v4 := c.w.newIPv4(srcIP, dstIP, layers.IPProtocolTCP)
		v4.Flags = layers.IPv4DontFragment
		ip, ipLayer, hdr = v4, v4, ipv4HeaderLen
	} else {
		v6 := newIPv6(srcIP, dstIP, layers.IPProtocolTCP)
		ip, ipLayer = v6, v6
	}
	if size := hdr + tcpHeaderLen + len(payload); size > pc.mtu {
		return fmt.Errorf("%w: tcp segment %d > mtu %d", ErrTooBig, size, pc.mtu)
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		return fmt.Errorf("tcp checksum: %w", err)
	}
	// SYN and FIN each take one sequence number (RFC 9293 3.4).
	c.next[me] += uint32(len(payload)) //nolint:gosec // G115: bounded by the MTU
	if f.syn || f.fin {
		c.next[me]++
	}
	return c.w.serialize(t, append(link, ipLayer, tcp, gopacket.Payload(payload)))
}
