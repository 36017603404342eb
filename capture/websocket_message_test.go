package capture

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// An INVITE as a WebRTC phone may send it over WebSocket: RFC 7118 §5 makes
// Content-Length optional there, so it has a body and no Content-Length.
const wsInviteNoLength = "INVITE sip:bob@example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnolen\r\n" +
	"From: <sip:alice@example.com>;tag=65bnmj.34asd\r\n" +
	"To: <sip:bob@example.com>\r\n" +
	"Call-ID: ws-nolen-1\r\nCSeq: 1 INVITE\r\n" +
	"Content-Type: application/sdp\r\n\r\n" +
	"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// msgGot is what the decoder handed on, with the Message flag.
type msgGot struct {
	transport Transport
	payload   string
	start     bool
	message   bool
}

// TestWebSocketMessageFlag checks that only whole WebSocket messages are
// marked Datagram.Message, through the decoder as the pipeline uses it:
// unfragmented, split across segments, fragmented; and that plain SIP over
// TCP, a stream that is not a SIP WebSocket and a UDP datagram after a
// WebSocket message are not.
func TestWebSocketMessageFlag(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	const (
		phone = "192.0.2.10"
		pbx   = "198.51.100.1"
	)
	msg := []byte(wsInviteNoLength)
	whole := wsFrame(true, wsOpText, wsKey, msg, 0)
	type seg struct {
		udp     bool
		payload []byte
	}
	cases := []struct {
		name string
		segs []seg
		want []msgGot
	}{
		{
			name: "unfragmented",
			segs: []seg{{payload: []byte(wsClientHandshake)}, {payload: whole}},
			want: []msgGot{{TCP, wsInviteNoLength, true, true}},
		},
		{
			name: "split across segments",
			segs: []seg{{payload: []byte(wsClientHandshake)}, {payload: whole[:100]}, {payload: whole[100:]}},
			want: []msgGot{{TCP, wsInviteNoLength, true, true}},
		},
		{
			name: "fragmented",
			segs: []seg{
				{payload: []byte(wsClientHandshake)},
				{payload: wsFrame(false, wsOpText, wsKey, msg[:150], 0)},
				{payload: wsFrame(true, wsOpContinuation, wsKey, msg[150:], 0)},
			},
			want: []msgGot{{TCP, wsInviteNoLength, true, true}},
		},
		{
			name: "picked up mid-connection",
			segs: []seg{{payload: whole}},
			want: []msgGot{{TCP, wsInviteNoLength, true, true}},
		},
		{
			name: "plain SIP over TCP",
			segs: []seg{{payload: msg[:200]}, {payload: msg[200:]}},
			want: []msgGot{{TCP, wsInviteNoLength[:200], true, false}, {TCP, wsInviteNoLength[200:], false, false}},
		},
		{
			name: "HTTP that is not a SIP WebSocket",
			segs: []seg{{payload: []byte("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")}},
			want: []msgGot{{TCP, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", true, false}},
		},
		{
			name: "UDP after a WebSocket message",
			segs: []seg{{payload: []byte(wsClientHandshake)}, {payload: whole}, {udp: true, payload: []byte(wsOK)}},
			want: []msgGot{{TCP, wsInviteNoLength, true, true}, {UDP, wsOK, false, false}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			var out []msgGot
			fn := func(dg *Datagram) {
				out = append(out, msgGot{dg.Transport, string(dg.Payload), dg.StreamStart, dg.Message})
			}
			seq := uint32(1000)
			for i, s := range tc.segs {
				var frame []byte
				if s.udp {
					frame = ether(udpPacket(t, false, pbx, phone, 5060, 5060, s.payload))
				} else {
					frame = ether(tcpPacket(t, phone, pbx, 52100, 8089, tcpSeg{seq: seq, payload: string(s.payload)}))
					seq += uint32(len(s.payload)) //nolint:gosec // G115: a test segment is small
				}
				at := t0.Add(time.Duration(i) * time.Millisecond)
				if err := d.Decode(layers.LinkTypeEthernet, frame, ci(at, len(frame)), fn); err != nil {
					t.Fatalf("segment %d: %v", i, err)
				}
			}
			if len(out) != len(tc.want) {
				t.Fatalf("%d datagrams, want %d: %+v", len(out), len(tc.want), out)
			}
			for i := range out {
				if out[i] != tc.want[i] {
					t.Errorf("datagram %d = %+v, want %+v", i, out[i], tc.want[i])
				}
			}
		})
	}
}

// TestWebSocketMessageFlagCleared checks that wsEmit does not leave the
// assembler marking the runs emitted after a message (a plain run on
// another stream of the same assembler).
func TestWebSocketMessageFlagCleared(t *testing.T) {
	r := newWSRig()
	var flags []bool
	emit := func([]byte, time.Time, bool) { flags = append(flags, r.a.wsMessage) }
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	b := append([]byte(wsClientHandshake), wsFrame(true, wsOpText, wsKey, []byte(wsOptions), 0)...)
	if err := r.a.segment(r.k, r.seq, tcpFlags{}, b, t0, emit); err != nil {
		t.Fatal(err)
	}
	plain := tcpKey{src: r.k.dst, dst: r.k.src}
	if err := r.a.segment(plain, 1, tcpFlags{}, []byte(wsOK), t0, emit); err != nil {
		t.Fatal(err)
	}
	if len(flags) != 2 || !flags[0] || flags[1] || r.a.wsMessage {
		t.Errorf("message flags during emit %v, after %v; want [true false], false", flags, r.a.wsMessage)
	}
}
