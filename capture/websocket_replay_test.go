package capture_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// A WebRTC phone's call over SIP WebSocket (RFC 7118), on a port that is
// neither 80 nor 5060: the phone (client, masked frames) calls extension
// 200 through the PBX (server, unmasked frames).
var (
	wsPhone = netip.MustParseAddrPort("192.0.2.10:52100")
	wsPBX   = netip.MustParseAddrPort("198.51.100.1:8089")
	wsT0    = time.Date(2026, 12, 2, 9, 15, 0, 250_000_000, time.UTC)
)

const wsCallID = "a84b4c76e66710@webrtc.example"

// wsStep is one SIP message of the call and when its last byte is sent.
type wsStep struct {
	fromPhone bool
	at        time.Duration
	msg       string
}

func wsCallSteps() []wsStep {
	via := "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK%s\r\n"
	dlg := "From: \"Recepción\" <sip:101@pbx.example>;tag=9fxced76sl\r\n" +
		"To: <sip:200@pbx.example>%s\r\n" +
		"Call-ID: " + wsCallID + "\r\n"
	sdp := "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	msg := func(start, branch, toTag, cseq, extra, body string) string {
		return start + "\r\n" + fmt.Sprintf(via, branch) + fmt.Sprintf(dlg, toTag) +
			"CSeq: " + cseq + "\r\n" + extra + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
	}
	invite := msg("INVITE sip:200@pbx.example SIP/2.0", "776asdhds", "", "1 INVITE",
		"Max-Forwards: 70\r\nContact: <sip:101@df7jal23ls0d.invalid;transport=ws>\r\nContent-Type: application/sdp\r\n", sdp)
	const tag = ";tag=as5f0e2c"
	return []wsStep{
		{true, 100 * time.Millisecond, invite},
		{false, 120 * time.Millisecond, msg("SIP/2.0 100 Trying", "776asdhds", "", "1 INVITE", "", "")},
		{false, 300 * time.Millisecond, msg("SIP/2.0 180 Ringing", "776asdhds", tag, "1 INVITE", "Contact: <sip:200@198.51.100.1:8089;transport=ws>\r\n", "")},
		{false, 4 * time.Second, msg("SIP/2.0 200 OK", "776asdhds", tag, "1 INVITE",
			"Contact: <sip:200@198.51.100.1:8089;transport=ws>\r\nContent-Type: application/sdp\r\n",
			strings.ReplaceAll(sdp, "192.0.2.10", "198.51.100.1"))},
		{true, 4*time.Second + 30*time.Millisecond, msg("ACK sip:200@198.51.100.1:8089;transport=ws SIP/2.0", "776asdhdt", tag, "1 ACK", "Max-Forwards: 70\r\n", "")},
		{true, 34 * time.Second, msg("BYE sip:200@198.51.100.1:8089;transport=ws SIP/2.0", "776asdhdu", tag, "2 BYE", "Max-Forwards: 70\r\n", "")},
		{false, 34*time.Second + 20*time.Millisecond, msg("SIP/2.0 200 OK", "776asdhdu", tag, "2 BYE", "", "")},
	}
}

// frameWS builds one WebSocket frame (masked when key is set).
func frameWS(fin bool, op byte, key []byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var m byte
	if key != nil {
		m = 0x80
	}
	out := []byte{b0}
	switch n := len(p); {
	case n > 0xffff:
		out = binary.BigEndian.AppendUint64(append(out, m|127), uint64(n))
	case n > 125:
		out = binary.BigEndian.AppendUint16(append(out, m|126), uint16(n))
	default:
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

// writeWSCall writes the call: TCP handshake, WebSocket handshake, every
// SIP message in its own frame, the INVITE's frame split across two
// segments 5 ms apart and the 200 OK sent as two fragments with a ping
// between them; the capture time of each message is that of the segment
// carrying its last byte. It returns the path and those times.
func writeWSCall(t *testing.T, dir string) (string, []time.Time) {
	t.Helper()
	path := filepath.Join(dir, "ws-call.pcap")
	key := []byte{0x1f, 0x8b, 0x3c, 0x99}
	var times []time.Time
	err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) error {
		c := w.TCP(wsPhone, wsPBX)
		if err := c.Handshake(wsT0); err != nil {
			return err
		}
		up := "GET /ws HTTP/1.1\r\nHost: pbx.example:8089\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"
		if err := c.Send(wsT0.Add(10*time.Millisecond), true, []byte(up)); err != nil {
			return err
		}
		ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
		if err := c.Send(wsT0.Add(20*time.Millisecond), false, []byte(ok)); err != nil {
			return err
		}
		for i, s := range wsCallSteps() {
			at := wsT0.Add(s.at)
			var k []byte
			if s.fromPhone {
				k = key
			}
			switch i {
			case 0: // the INVITE, split
				f := frameWS(true, 0x1, k, []byte(s.msg))
				if err := c.Send(at.Add(-5*time.Millisecond), true, f[:300]); err != nil {
					return err
				}
				if err := c.Send(at, true, f[300:]); err != nil {
					return err
				}
			case 3: // the 200 OK, fragmented around a ping
				f := frameWS(false, 0x1, nil, []byte(s.msg[:200]))
				f = append(f, frameWS(true, 0x9, nil, []byte("keepalive"))...)
				if err := c.Send(at.Add(-time.Millisecond), false, f); err != nil {
					return err
				}
				if err := c.Send(at, false, frameWS(true, 0x0, nil, []byte(s.msg[200:]))); err != nil {
					return err
				}
			default:
				if err := c.Send(at, s.fromPhone, frameWS(true, 0x1, k, []byte(s.msg))); err != nil {
					return err
				}
			}
			times = append(times, at)
		}
		if err := c.Send(wsT0.Add(35*time.Second), true, frameWS(true, 0x8, key, []byte{0x03, 0xe8})); err != nil {
			return err
		}
		return c.Close(wsT0.Add(35*time.Second + time.Millisecond))
	})
	if err != nil {
		t.Fatal(err)
	}
	return path, times
}

// TestWebSocketCallReplay replays the call through the real pipeline
// (tap.Replay, as `switchtap replay` does) and checks the record.
func TestWebSocketCallReplay(t *testing.T) {
	path, times := writeWSCall(t, t.TempDir())
	src, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var col tap.Collector
	var seen []time.Time
	p := tap.NewPipeline(sip.DefaultTrackerConfig(), col.Add, slog.New(slog.NewTextHandler(io.Discard, nil)),
		tap.WithSIP(func(_ []byte, _ *sip.Message, d *capture.Datagram) { seen = append(seen, d.Time) }))
	if err := tap.Replay(context.Background(), src, p); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.SIPMessages != uint64(len(times)) {
		t.Errorf("%d SIP messages parsed, want %d (errors %v)", st.SIPMessages, len(times), st.SIPErrors)
	}
	for i := range min(len(seen), len(times)) {
		if !seen[i].Equal(times[i]) {
			t.Errorf("message %d at %s, want %s", i, seen[i], times[i])
		}
	}
	calls := col.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d records, want 1: %+v", len(calls), calls)
	}
	c := calls[0]
	if c.CallID != wsCallID {
		t.Errorf("call_id %q, want %q", c.CallID, wsCallID)
	}
	check := func(field string, got *time.Time, want time.Time) {
		t.Helper()
		if got == nil || !got.Equal(want) {
			t.Errorf("%s = %v, want %s", field, got, want)
		}
	}
	check("invite_at", &c.InviteAt, times[0])
	check("ringing_at", c.RingingAt, times[2])
	check("answered_at", c.AnsweredAt, times[3])
	check("ended_at", c.EndedAt, times[5])
	if c.From != "101" || c.To != "200" || c.SrcIP != wsPhone.Addr().String() || c.DstIP != wsPBX.Addr().String() {
		t.Errorf("from %q to %q src %q dst %q", c.From, c.To, c.SrcIP, c.DstIP)
	}
	if c.EndReason != sip.EndCompleted || c.HangupBy != "caller" {
		t.Errorf("end %q by %q", c.EndReason, c.HangupBy)
	}
}

// TestWebSocketTshark checks the same capture against tshark's own
// WebSocket and SIP dissectors: the same SIP messages in the same frames.
func TestWebSocketTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		testenv.SkipOrFail(t, "tshark not installed")
	}
	path, times := writeWSCall(t, t.TempDir())
	// The port is not one tshark knows for HTTP: tell it, and it follows
	// the upgrade to WebSocket and the "sip" subprotocol to SIP.
	out, err := exec.Command(tshark, "-r", path, "-d", "tcp.port=="+strconv.Itoa(int(wsPBX.Port()))+",http",
		"-Y", "sip", "-T", "fields", "-E", "separator=/t",
		"-e", "frame.time_epoch", "-e", "sip.Call-ID", "-e", "sip.CSeq", "-e", "sip.Status-Code").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	steps := wsCallSteps()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(steps) {
		t.Fatalf("tshark sees %d SIP messages, want %d:\n%s", len(lines), len(steps), out)
	}
	for i, line := range lines {
		f := strings.Split(line, "\t")
		if len(f) < 3 || f[1] != wsCallID {
			t.Errorf("tshark line %d: %q", i, line)
			continue
		}
		at := epoch(t, f[0])
		if at.Sub(times[i]).Abs() > time.Microsecond {
			t.Errorf("tshark message %d at %s, we said %s", i, at, times[i])
		}
	}
	_ = os.Remove(path)
}

func epoch(t *testing.T, s string) time.Time {
	t.Helper()
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		t.Fatalf("bad time %q", s)
	}
	ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	return time.Unix(secs, ns).UTC()
}
