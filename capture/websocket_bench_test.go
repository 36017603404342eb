package capture

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// BenchmarkWebSocket measures the layer in the steady state, one frame
// (one SIP message) per iteration, through the assembler's segment path:
// a frame per segment masked and not, a frame split over two segments
// (the message buffer path), and plain SIP over TCP for the cost of the
// hook on a stream that is not WebSocket.
func BenchmarkWebSocket(b *testing.B) {
	masked := wsFrame(true, wsOpText, wsKey, []byte(wsInvite), 0)
	plain := wsFrame(true, wsOpText, nil, []byte(wsInvite), 0)
	cases := []struct {
		name      string
		handshake string
		segs      [][]byte
	}{
		{"masked", wsClientHandshake, [][]byte{masked}},
		{"unmasked", wsServerHandshake, [][]byte{plain}},
		{"masked split", wsClientHandshake, [][]byte{masked[:200], masked[200:]}},
		{"sip over tcp", "", [][]byte{[]byte(wsInvite)}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			r := newWSRig()
			if bc.handshake != "" {
				r.send(b, []byte(bc.handshake), t0)
			}
			var got int
			emit := func(p []byte, _ time.Time, _ bool) { got += len(p) }
			size := 0
			for _, s := range bc.segs {
				size += len(s)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range bc.segs {
					if err := r.a.segment(r.k, r.seq, tcpFlags{}, s, t0, emit); err != nil {
						b.Fatal(err)
					}
					r.seq += uint32(len(s))
				}
			}
			if want := b.N * len(wsInvite); got < want {
				b.Fatalf("%d bytes handed on, want %d", got, want)
			}
		})
	}
}

// BenchmarkWebSocketDecode is the whole decode path of one Ethernet frame
// carrying one masked SIP WebSocket frame, against the same frame
// carrying the bare SIP message over TCP.
func BenchmarkWebSocketDecode(b *testing.B) {
	for _, bc := range []struct {
		name, handshake string
		payload         []byte
	}{
		{"websocket", wsClientHandshake, wsFrame(true, wsOpText, wsKey, []byte(wsInvite), 0)},
		{"sip over tcp", "", []byte(wsInvite)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := NewDecoder()
			var n int
			fn := func(dg *Datagram) { n += len(dg.Payload) }
			seq := uint32(1000)
			pkt := func(p string) []byte {
				return ether(tcpPacket(b, "192.0.2.10", "198.51.100.1", 50000, 8088, tcpSeg{seq: seq, payload: p}))
			}
			ci := gopacket.CaptureInfo{Timestamp: t0}
			if bc.handshake != "" {
				f := pkt(bc.handshake)
				ci.CaptureLength, ci.Length = len(f), len(f)
				if err := d.Decode(layers.LinkTypeEthernet, f, ci, fn); err != nil {
					b.Fatal(err)
				}
				seq += uint32(len(bc.handshake))
			}
			f := pkt(string(bc.payload))
			ci.CaptureLength, ci.Length = len(f), len(f)
			// The sequence number sits 4 bytes into the TCP header.
			seqAt := ethernetHeaderLen + 20 + 4
			b.SetBytes(int64(len(bc.payload)))
			b.ReportAllocs()
			n = 0
			for b.Loop() {
				binary.BigEndian.PutUint32(f[seqAt:], seq)
				seq += uint32(len(bc.payload))
				if err := d.Decode(layers.LinkTypeEthernet, f, ci, fn); err != nil {
					b.Fatal(err)
				}
			}
			if n < b.N*len(wsInvite) {
				b.Fatalf("%d bytes handed on for %d frames", n, b.N)
			}
		})
	}
}
