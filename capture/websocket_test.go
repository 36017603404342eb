package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The opening handshake of RFC 7118 §A (a SIP WebSocket client and server).
const (
	wsClientHandshake = "GET / HTTP/1.1\r\n" +
		"Host: proxy.example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Origin: http://www.example.com\r\n" +
		"Sec-WebSocket-Protocol: sip\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	wsServerHandshake = "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: sip\r\n\r\n"
)

const wsOptions = "OPTIONS sip:proxy.example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks\r\n" +
	"Call-ID: ws-options-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"

// wsInvite is over 125 bytes, so it takes the 16-bit length form.
var wsInvite = func() string {
	sdp := "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n"
	return "INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n" +
		"From: <sip:alice@example.com>;tag=65bnmj.34asd\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: ws-invite-1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\n" +
		"Content-Type: application/sdp\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(sdp)) + sdp
}()

const wsOK = "SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n" +
	"Call-ID: ws-invite-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"

var wsKey = []byte{0x37, 0xfa, 0x21, 0x3d}

// wsFrame builds one frame: key nil sends it unmasked; form 126 or 127
// forces that length encoding (a non-minimal one is still valid to read).
func wsFrame(fin bool, op byte, key []byte, payload []byte, form int) []byte {
	b0 := op
	if fin {
		b0 |= wsFIN
	}
	var m byte
	if key != nil {
		m = wsMaskBit
	}
	out := []byte{b0}
	n := len(payload)
	switch {
	case form == 127 || n > 0xffff:
		out = append(out, m|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	case form == 126 || n > wsMaxControl:
		out = append(out, m|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, m|byte(n))
	}
	if key == nil {
		return append(out, payload...)
	}
	out = append(out, key...)
	for i, c := range payload {
		out = append(out, c^key[i&3])
	}
	return out
}

// wsRig drives a tcpAssembler with one direction's bytes, as segments in
// sequence, through the same path the decoder uses.
type wsRig struct {
	a   *tcpAssembler
	k   tcpKey
	seq uint32
	got []wsGot
}

type wsGot struct {
	data  string
	t     time.Time
	start bool
}

func newWSRig() *wsRig {
	return &wsRig{
		a: newTCPAssembler(16, 1<<20, time.Minute, time.Second),
		k: tcpKey{
			src: netip.MustParseAddrPort("192.0.2.10:50000"),
			dst: netip.MustParseAddrPort("198.51.100.1:8088"),
		},
		seq: 1000,
	}
}

func (r *wsRig) send(tb testing.TB, b []byte, ts time.Time) {
	tb.Helper()
	err := r.a.segment(r.k, r.seq, tcpFlags{}, b, ts, func(p []byte, t time.Time, start bool) {
		r.got = append(r.got, wsGot{string(p), t, start})
	})
	if err != nil {
		tb.Fatal(err)
	}
	r.seq += uint32(len(b))
}

func (r *wsRig) stream() *tcpStream { return r.a.streams[r.k] }

// wsPart is a piece of a test stream; msg, when set, is the message the
// piece's last byte completes.
type wsPart struct {
	b   []byte
	msg string
}

func raw(s string) wsPart                   { return wsPart{b: []byte(s)} }
func frame(b []byte) wsPart                 { return wsPart{b: b} }
func completes(b []byte, msg string) wsPart { return wsPart{b: b, msg: msg} }

type wsCase struct {
	name  string
	parts []wsPart
	// passthrough: the stream is not SIP over WebSocket and must come
	// out byte for byte as it went in.
	passthrough bool
	// heuristic: the stream is picked up on a frame without a handshake,
	// which needs the frame header and the SIP start line in one segment,
	// so it is not split inside them.
	heuristic bool
	want      wsCounters // the counters checked (all of them)
}

func wsCases() []wsCase {
	big := bytes.Repeat([]byte("x"), wsMaxMessage+10)
	half := []byte(wsInvite[:100])
	return []wsCase{
		{
			name: "client masked, 7 and 16 bit lengths",
			parts: []wsPart{raw(wsClientHandshake),
				completes(wsFrame(true, wsOpText, wsKey, []byte(wsOptions), 0), wsOptions),
				completes(wsFrame(true, wsOpText, wsKey, []byte(wsInvite), 0), wsInvite)},
			want: wsCounters{handshakes: 1, messages: 2, frames: 2},
		},
		{
			name: "server unmasked",
			parts: []wsPart{raw(wsServerHandshake),
				completes(wsFrame(true, wsOpText, nil, []byte(wsOK), 0), wsOK),
				completes(wsFrame(true, wsOpBinary, nil, []byte(wsInvite), 0), wsInvite)},
			want: wsCounters{handshakes: 1, messages: 2, frames: 2},
		},
		{
			name: "64 bit length, masked and not",
			parts: []wsPart{raw(wsClientHandshake),
				completes(wsFrame(true, wsOpText, wsKey, []byte(wsOptions), 127), wsOptions),
				completes(wsFrame(true, wsOpText, nil, []byte(wsOK), 127), wsOK)},
			want: wsCounters{handshakes: 1, messages: 2, frames: 2},
		},
		{
			name: "fragmented with control frames between",
			parts: []wsPart{raw(wsServerHandshake),
				frame(wsFrame(false, wsOpText, wsKey, []byte(wsInvite[:7]), 0)),
				frame(wsFrame(true, wsOpPing, wsKey, []byte("ping"), 0)),
				frame(wsFrame(false, wsOpContinuation, wsKey, []byte(wsInvite[7:300]), 0)),
				frame(wsFrame(true, wsOpPong, nil, nil, 0)),
				frame(wsFrame(false, wsOpContinuation, wsKey, nil, 0)),
				completes(wsFrame(true, wsOpContinuation, wsKey, []byte(wsInvite[300:]), 0), wsInvite),
				frame(wsFrame(true, wsOpClose, wsKey, []byte{0x03, 0xe8}, 0))},
			want: wsCounters{handshakes: 1, messages: 1, frames: 7, control: 3, skipped: 4 + 2},
		},
		{
			name: "oversized frame refused, the next kept",
			parts: []wsPart{raw(wsClientHandshake),
				frame(wsFrame(true, wsOpBinary, wsKey, big, 0)),
				completes(wsFrame(true, wsOpText, wsKey, []byte(wsOK), 0), wsOK)},
			want: wsCounters{handshakes: 1, messages: 1, frames: 2, refused: 1, skipped: uint64(len(big))},
		},
		{
			name: "oversized fragmented message refused, the next kept",
			parts: []wsPart{raw(wsClientHandshake),
				frame(wsFrame(false, wsOpText, wsKey, half, 0)),
				frame(wsFrame(false, wsOpContinuation, wsKey, big[:wsMaxMessage-50], 0)),
				frame(wsFrame(true, wsOpContinuation, wsKey, []byte("tail"), 0)),
				completes(wsFrame(true, wsOpText, wsKey, []byte(wsOK), 0), wsOK)},
			want: wsCounters{handshakes: 1, messages: 1, frames: 4, refused: 1,
				skipped: uint64(len(half) + wsMaxMessage - 50 + 4)},
		},
		{
			name: "compressed frame refused",
			parts: []wsPart{raw(wsServerHandshake),
				frame(append([]byte{wsFIN | wsRSV1 | wsOpText, 3}, 1, 2, 3)),
				completes(wsFrame(true, wsOpText, nil, []byte(wsOK), 0), wsOK)},
			want: wsCounters{handshakes: 1, messages: 1, frames: 2, compressed: 1, skipped: 3},
		},
		{
			name: "empty message",
			parts: []wsPart{raw(wsServerHandshake),
				frame(wsFrame(true, wsOpText, nil, nil, 0)),
				completes(wsFrame(true, wsOpText, nil, []byte(wsOK), 0), wsOK)},
			want: wsCounters{handshakes: 1, messages: 2, frames: 2},
		},
		{
			name: "picked up mid-connection",
			parts: []wsPart{
				completes(wsFrame(true, wsOpText, wsKey, []byte(wsInvite), 0), wsInvite),
				frame(wsFrame(true, wsOpPing, wsKey, nil, 0)),
				completes(wsFrame(true, wsOpText, wsKey, []byte(wsOptions), 0), wsOptions)},
			heuristic: true,
			want:      wsCounters{pickups: 1, messages: 2, frames: 3, control: 1},
		},
		{
			name: "protocol error resynchronises",
			parts: []wsPart{raw(wsClientHandshake),
				raw("\x8f\x00junk"), // reserved opcode 0xf
				completes(wsFrame(true, wsOpText, wsKey, []byte(wsOptions), 0), wsOptions)},
			heuristic: true,
			want:      wsCounters{handshakes: 1, pickups: 1, errors: 1, messages: 1, frames: 1, skipped: 6},
		},
		{
			name:        "SIP over TCP",
			parts:       []wsPart{raw(wsInvite), raw(wsOK), raw("\r\n\r\n"), raw(wsOptions)},
			passthrough: true,
		},
		{
			name: "WebSocket without the sip subprotocol",
			parts: []wsPart{raw(strings.Replace(wsClientHandshake, "Protocol: sip", "Protocol: chat", 1)),
				frame(wsFrame(true, wsOpText, wsKey, []byte("hello"), 0))},
			passthrough: true,
		},
		{
			name: "refused upgrade",
			parts: []wsPart{raw(strings.Replace(wsServerHandshake, "101 Switching Protocols", "400 Bad Request", 1)),
				raw("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")},
			passthrough: true,
		},
		{
			name:        "binary that is not WebSocket",
			parts:       []wsPart{raw("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), raw("GE"), raw("\x81\x05hello")},
			passthrough: true,
		},
	}
}

func (c wsCase) stream() ([]byte, []int, []string) {
	var b []byte
	var ends []int
	var msgs []string
	for _, p := range c.parts {
		b = append(b, p.b...)
		if p.msg != "" {
			ends = append(ends, len(b))
			msgs = append(msgs, p.msg)
		}
	}
	return b, ends, msgs
}

// TestWebSocketDeframer feeds every case whole, split in two at every byte
// and one byte per segment, and checks the messages, their capture times
// (the segment that completed each), StreamStart and the counters.
func TestWebSocketDeframer(t *testing.T) {
	for _, tc := range wsCases() {
		t.Run(tc.name, func(t *testing.T) {
			in, ends, msgs := tc.stream()
			check := func(t *testing.T, r *wsRig, when func(end int) time.Time) {
				t.Helper()
				if tc.passthrough {
					var out strings.Builder
					for i, g := range r.got {
						out.WriteString(g.data)
						if g.start != (i == 0) {
							t.Errorf("run %d start = %v", i, g.start)
						}
					}
					if out.String() != string(in) {
						t.Fatalf("passthrough changed the stream:\n got %q\nwant %q", out.String(), in)
					}
					if r.a.ws.messages != 0 || r.a.ws.handshakes != 0 {
						t.Errorf("counted as WebSocket: %+v", r.a.ws)
					}
					return
				}
				if len(r.got) != len(msgs) {
					t.Fatalf("%d messages, want %d: %+v", len(r.got), len(msgs), r.got)
				}
				for i, g := range r.got {
					if g.data != msgs[i] {
						t.Errorf("message %d = %q, want %q", i, g.data, msgs[i])
					}
					if !g.t.Equal(when(ends[i])) {
						t.Errorf("message %d at %s, want %s", i, g.t, when(ends[i]))
					}
					if !g.start {
						t.Errorf("message %d without StreamStart", i)
					}
				}
				if r.a.ws != tc.want {
					t.Errorf("counters %+v, want %+v", r.a.ws, tc.want)
				}
				if s := r.stream(); s.ws.conn != nil && (len(s.ws.conn.msg) != 0 || cap(s.ws.conn.msg) > wsKeepBuffer) {
					t.Errorf("message buffer left at %d/%d bytes", len(s.ws.conn.msg), cap(s.ws.conn.msg))
				}
			}
			t.Run("whole", func(t *testing.T) {
				r := newWSRig()
				r.send(t, in, t0)
				check(t, r, func(int) time.Time { return t0 })
			})
			t.Run("per part", func(t *testing.T) {
				r := newWSRig()
				for i, p := range tc.parts {
					r.send(t, p.b, t0.Add(time.Duration(i)*time.Millisecond))
				}
				partOf := func(end int) time.Time {
					n := 0
					for i, p := range tc.parts {
						n += len(p.b)
						if end <= n {
							return t0.Add(time.Duration(i) * time.Millisecond)
						}
					}
					return time.Time{}
				}
				check(t, r, partOf)
			})
			if tc.heuristic {
				return
			}
			if len(in) > 4096 {
				// Large cases: a few cuts around the frame edges.
				for _, cut := range []int{1, 2, 9, 10, 13, 14, len(in) / 2, len(in) - 1} {
					r := newWSRig()
					r.send(t, in[:cut], t0)
					r.send(t, in[cut:], t0.Add(time.Second))
					check(t, r, func(end int) time.Time {
						if end <= cut {
							return t0
						}
						return t0.Add(time.Second)
					})
				}
				return
			}
			t.Run("split at every byte", func(t *testing.T) {
				for cut := 1; cut < len(in); cut++ {
					r := newWSRig()
					r.send(t, in[:cut], t0)
					r.send(t, in[cut:], t0.Add(time.Second))
					check(t, r, func(end int) time.Time {
						if end <= cut {
							return t0
						}
						return t0.Add(time.Second)
					})
					if t.Failed() {
						t.Fatalf("cut at %d", cut)
					}
				}
			})
			t.Run("one byte per segment", func(t *testing.T) {
				r := newWSRig()
				for i := range in {
					r.send(t, in[i:i+1], t0.Add(time.Duration(i)*time.Microsecond))
				}
				check(t, r, func(end int) time.Time { return t0.Add(time.Duration(end-1) * time.Microsecond) })
			})
		})
	}
}

// TestWebSocketGap: a segment lost inside a message drops that message
// only; the stream resynchronises on the next frame that starts a SIP
// message, and a new connection on the same ports starts afresh.
func TestWebSocketGap(t *testing.T) {
	r := newWSRig()
	r.send(t, []byte(wsClientHandshake), t0)
	f1 := wsFrame(true, wsOpText, wsKey, []byte(wsInvite), 0)
	f2 := wsFrame(true, wsOpText, wsKey, []byte(wsOptions), 0)
	r.send(t, f1[:50], t0)
	r.seq += 100 // lose 100 bytes
	r.send(t, append(f1[150:], f2...), t0.Add(2*time.Second))
	// The gap is skipped when a later segment comes after the gap timeout.
	r.send(t, wsFrame(true, wsOpText, wsKey, []byte(wsOK), 0), t0.Add(4*time.Second))
	var got []string
	for _, g := range r.got {
		got = append(got, g.data)
	}
	want := []string{wsOptions, wsOK}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("messages %q, want %q", got, want)
	}
	// Skipped: the 42 payload bytes held of the lost message (50 less its
	// 8 byte header) and what followed the gap up to the next frame.
	if r.a.ws.pickups != 1 || r.a.ws.skipped != uint64(42+len(f1)-150) {
		t.Errorf("counters %+v", r.a.ws)
	}
	// SYN on the same ports: a new connection, undecided again.
	r.got = nil
	if err := r.a.segment(r.k, 5000, tcpFlags{syn: true}, nil, t0.Add(5*time.Second),
		func([]byte, time.Time, bool) {}); err != nil {
		t.Fatal(err)
	}
	r.seq = 5001
	r.send(t, []byte(wsInvite), t0.Add(6*time.Second))
	if len(r.got) != 1 || r.got[0].data != wsInvite || r.stream().ws.state != wsPlain {
		t.Errorf("new connection: %+v, state %d", r.got, r.stream().ws.state)
	}
}

// TestWebSocketHandshakeLimit: a header block that never ends is given up
// at wsMaxHandshake and its bytes passed on.
func TestWebSocketHandshakeLimit(t *testing.T) {
	r := newWSRig()
	in := []byte("GET / HTTP/1.1\r\nUpgrade: websocket\r\n" + strings.Repeat("X-Pad: 0123456789\r\n", 1000))
	for i := 0; i < len(in); i += 100 {
		r.send(t, in[i:min(i+100, len(in))], t0)
		if c := r.stream().ws.conn; c != nil && len(c.http) > wsMaxHandshake+1 {
			t.Fatalf("holding %d handshake bytes", len(c.http))
		}
	}
	var out []byte
	for _, g := range r.got {
		out = append(out, g.data...)
	}
	if !bytes.Equal(out, in) {
		t.Errorf("%d bytes passed on, want %d", len(out), len(in))
	}
}

func TestUnmask(t *testing.T) {
	p := []byte(wsInvite)
	for phase := 0; phase < 4; phase++ {
		for n := 0; n < 40; n++ {
			want := make([]byte, n)
			for i := range want {
				want[i] = p[i] ^ wsKey[(phase+i)&3]
			}
			got := unmask([]byte("pre"), p[:n], [4]byte(wsKey), phase)
			if string(got[:3]) != "pre" || !bytes.Equal(got[3:], want) {
				t.Fatalf("phase %d n %d: %x, want %x", phase, n, got[3:], want)
			}
		}
	}
}
