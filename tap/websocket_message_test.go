package tap_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// RFC 7118 §5: each WebSocket message is one SIP message, so Content-Length
// is not needed to find its end and WebRTC stacks may leave it out. These
// tests replay one call, over WebSocket and over plain TCP, with and
// without Content-Length, through the real pipeline.

var (
	wsmPhone = netip.MustParseAddrPort("192.0.2.20:52200")
	wsmPBX   = netip.MustParseAddrPort("198.51.100.2:8088")
	wsmT0    = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
)

const wsmCallID = "nolen-7118@webrtc.example"

func wsmSDP(ip string, port int) string {
	return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\n" +
		fmt.Sprintf("m=audio %d RTP/AVP 0\r\n", port) + "a=rtpmap:0 PCMU/8000\r\n"
}

// wsmMessage is one step of the call.
type wsmMessage struct {
	fromPhone bool
	text      string
}

// wsmCall returns the call's messages; withLength adds Content-Length to
// each, as RFC 3261 §18.3 requires on TCP and RFC 7118 does not.
func wsmCall(withLength bool) []wsmMessage {
	const tag = ";tag=srv77"
	msg := func(start, branch, toTag, cseq, extra, body string) string {
		s := start + "\r\n" +
			"Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK" + branch + "\r\n" +
			"From: <sip:101@pbx.example>;tag=ph01\r\n" +
			"To: <sip:200@pbx.example>" + toTag + "\r\n" +
			"Call-ID: " + wsmCallID + "\r\nCSeq: " + cseq + "\r\n" + extra
		if withLength {
			s += fmt.Sprintf("Content-Length: %d\r\n", len(body))
		}
		return s + "\r\n" + body
	}
	sdpType := "Content-Type: application/sdp\r\n"
	return []wsmMessage{
		{true, msg("INVITE sip:200@pbx.example SIP/2.0", "inv1", "", "1 INVITE",
			"Max-Forwards: 70\r\nContact: <sip:101@df7jal23ls0d.invalid;transport=ws>\r\n"+sdpType,
			wsmSDP(wsmPhone.Addr().String(), 40000))},
		{false, msg("SIP/2.0 200 OK", "inv1", tag, "1 INVITE",
			"Contact: <sip:200@198.51.100.2:8088;transport=ws>\r\n"+sdpType, wsmSDP(wsmPBX.Addr().String(), 30000))},
		{true, msg("ACK sip:200@198.51.100.2:8088;transport=ws SIP/2.0", "ack1", tag, "1 ACK", "Max-Forwards: 70\r\n", "")},
		{true, msg("BYE sip:200@198.51.100.2:8088;transport=ws SIP/2.0", "bye1", tag, "2 BYE", "Max-Forwards: 70\r\n", "")},
		{false, msg("SIP/2.0 200 OK", "bye1", tag, "2 BYE", "", "")},
	}
}

// wsmFrame builds one WebSocket text frame, masked when key is set.
func wsmFrame(key []byte, p []byte) []byte {
	out := []byte{0x81}
	var m byte
	if key != nil {
		m = 0x80
	}
	if n := len(p); n > 125 {
		out = binary.BigEndian.AppendUint16(append(out, m|126), uint16(n)) //nolint:gosec // G115: a test message is small
	} else {
		out = append(out, m|byte(n))
	}
	if key == nil {
		return append(out, p...)
	}
	out = append(out, key...)
	for i, c := range p {
		out = append(out, c^key[i&3])
	}
	return out
}

// wsmNotSIP is a WebSocket message that is not SIP, sent before the call.
const wsmNotSIP = "hello"

// writeWSMCall writes the call over one TCP connection, each message in a
// segment of its own, after a WebSocket handshake when ws is set.
func writeWSMCall(t *testing.T, ws bool, msgs []wsmMessage) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "call.pcap")
	key := []byte{0x5e, 0x01, 0xa7, 0x42}
	err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) error {
		c := w.TCP(wsmPhone, wsmPBX)
		if err := c.Handshake(wsmT0); err != nil {
			return err
		}
		at := wsmT0.Add(10 * time.Millisecond)
		if ws {
			up := "GET /ws HTTP/1.1\r\nHost: pbx.example:8088\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"
			ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
			if err := c.Send(at, true, []byte(up)); err != nil {
				return err
			}
			if err := c.Send(at.Add(time.Millisecond), false, []byte(ok)); err != nil {
				return err
			}
			if err := c.Send(at.Add(2*time.Millisecond), true, wsmFrame(key, []byte(wsmNotSIP))); err != nil {
				return err
			}
		}
		for i, m := range msgs {
			b := []byte(m.text)
			if ws {
				k := key
				if !m.fromPhone {
					k = nil
				}
				b = wsmFrame(k, b)
			}
			if err := c.Send(at.Add(time.Duration(i+1)*time.Second), m.fromPhone, b); err != nil {
				return err
			}
		}
		return c.Close(at.Add(time.Duration(len(msgs)+1) * time.Second))
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWebSocketMessageWhole replays the call and checks that over
// WebSocket every message reaches the parser whole, body and all, even
// without Content-Length, and the leg says "ws"; over plain TCP the
// framer still cuts by Content-Length (RFC 3261 §18.3), so there a
// missing one still means an empty body.
func TestWebSocketMessageWhole(t *testing.T) {
	bodies := func(msgs []wsmMessage) (n int) {
		for _, m := range msgs {
			_, b, _ := strings.Cut(m.text, "\r\n\r\n")
			n += len(b)
		}
		return n
	}
	cases := []struct {
		name       string
		ws         bool
		withLength bool
		transport  string
		// keepsBody: the INVITE and 200 OK are parsed with their SDP.
		keepsBody bool
		// discarded is Stats.StreamBytesDiscarded.
		discarded uint64
	}{
		{"websocket without Content-Length", true, false, "ws", true, uint64(len(wsmNotSIP))},
		{"websocket with Content-Length", true, true, "ws", true, uint64(len(wsmNotSIP))},
		{"tcp with Content-Length", false, true, "tcp", true, 0},
		{"tcp without Content-Length", false, false, "tcp", false, uint64(bodies(wsmCall(false)))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs := wsmCall(tc.withLength)
			src, err := capture.OpenFiles([]string{writeWSMCall(t, tc.ws, msgs)})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var parsed []*sip.Message
			var final []sip.Call // with their messages, which Collector drops
			p := tap.NewPipeline(sip.DefaultTrackerConfig(), func(sip.Call) {}, slog.New(slog.NewTextHandler(io.Discard, nil)),
				tap.WithSIP(func(_ []byte, m *sip.Message, _ *capture.Datagram) { parsed = append(parsed, m) }),
				tap.WithClosed(func(c sip.Call) { final = append(final, c) }))
			if err := tap.Replay(context.Background(), src, p); err != nil {
				t.Fatal(err)
			}
			st := p.Stats()
			if len(parsed) != len(msgs) || st.SIPMessages != uint64(len(msgs)) {
				t.Fatalf("%d SIP messages parsed (%d counted), want %d (errors %v)", len(parsed), st.SIPMessages, len(msgs), st.SIPErrors)
			}
			if n := len(st.SIPErrors); n != 0 {
				t.Errorf("SIP errors %v, want none", st.SIPErrors)
			}
			if st.StreamBytesDiscarded != tc.discarded {
				t.Errorf("stream bytes discarded %d, want %d", st.StreamBytesDiscarded, tc.discarded)
			}
			for i, m := range parsed {
				_, body, _ := strings.Cut(msgs[i].text, "\r\n\r\n")
				if !tc.keepsBody {
					body = ""
				}
				if string(m.Body) != body {
					t.Errorf("message %d body %q, want %q", i, m.Body, body)
				}
			}
			if len(final) != 1 {
				t.Fatalf("%d legs closed, want 1", len(final))
			}
			c := final[0]
			if c.CallID != wsmCallID || c.Transport != tc.transport || c.EndReason != sip.EndCompleted {
				t.Errorf("record call_id %q transport %q end %q, want %q %q %q",
					c.CallID, c.Transport, c.EndReason, wsmCallID, tc.transport, sip.EndCompleted)
			}
			if len(c.Messages) != len(msgs) {
				t.Fatalf("%d leg messages, want %d", len(c.Messages), len(msgs))
			}
			for i, lm := range c.Messages {
				want := len(msgs[i].text)
				if !tc.keepsBody {
					h, _, _ := strings.Cut(msgs[i].text, "\r\n\r\n")
					want = len(h) + 4
				}
				if lm.Size != want || lm.Transport != tc.transport {
					t.Errorf("leg message %d: size %d transport %q, want %d %q", i, lm.Size, lm.Transport, want, tc.transport)
				}
			}
		})
	}
}
