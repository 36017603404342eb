package tap_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// ladderCapture writes one answered call (INVITE with SDP, 100, 180, 200
// with SDP, ACK, BYE from the caller, its 200) with odd nanosecond times,
// over UDP (with the INVITE and the 180 retransmitted) or over TCP (the
// INVITE in three segments, 100 and 180 in one), and returns the messages
// the tap must keep for the leg, as sent.
type ladderCapture struct {
	w      *pcapgen.Writer
	d      *pcapgen.Dialog
	tcp    *pcapgen.TCPConn
	want   []sip.LegMessage
	err    error
	netTag string
}

// send writes segments (one UDP datagram, or TCP segments at the times
// given) carrying msgs, and expects each message at the time of the
// segment that completes it.
func (c *ladderCapture) send(fromCaller bool, times []time.Time, segments [][]byte, msgs []sip.LegMessage) {
	if c.err != nil {
		return
	}
	src, dst := c.d.Caller.Addr, c.d.Callee.Addr
	if !fromCaller {
		src, dst = dst, src
	}
	for i, seg := range segments {
		if c.tcp != nil {
			c.err = c.tcp.Send(times[i], fromCaller, seg)
		} else {
			c.err = c.w.UDP(times[i], src, dst, seg)
		}
		if c.err != nil {
			return
		}
	}
	for _, m := range msgs {
		m.At = times[len(times)-1]
		m.Src, m.Dst, m.Transport, m.FromCaller = src.String(), dst.String(), c.netTag, fromCaller
		c.want = append(c.want, m)
	}
}

func request(r pcapgen.Request, retrans bool) sip.LegMessage {
	return sip.LegMessage{Method: r.Method, CSeq: r.CSeq, CSeqMethod: r.Method, Retransmission: retrans, Raw: string(r.Bytes), Size: len(r.Bytes)}
}

func response(code int, reason string, r pcapgen.Request, raw []byte, retrans bool) sip.LegMessage {
	return sip.LegMessage{Status: code, Reason: reason, CSeq: r.CSeq, CSeqMethod: r.Method, Retransmission: retrans, Raw: string(raw), Size: len(raw)}
}

func writeLadderCall(w *pcapgen.Writer, transport string, t0 time.Time) ([]sip.LegMessage, error) {
	d := &pcapgen.Dialog{
		CallID: "ladder-" + transport + "@pcapgen.example",
		Caller: pcapgen.Party{User: "22447700", Name: "Ventanilla 3", Addr: netip.MustParseAddrPort("198.51.100.10:49152")},
		Callee: pcapgen.Party{User: "201", Addr: netip.MustParseAddrPort("192.0.2.20:5060")},
		// Built by hand, so the tags too.
		FromTag: "f1a2b3", ToTag: "t4c5d6",
		Transport: transport,
	}
	c := &ladderCapture{w: w, d: d, netTag: "udp"}
	one := func(t time.Time) []time.Time { return []time.Time{t} }
	at := func(ns int64) time.Time { return t0.Add(time.Duration(ns)) }
	inv := d.Invite()
	if transport == "TCP" {
		c.netTag = "tcp"
		c.tcp = w.TCP(d.Caller.Addr, d.Callee.Addr)
		if err := c.tcp.Handshake(t0); err != nil {
			return nil, err
		}
		b := inv.Bytes
		cut1, cut2 := len(b)/3, len(b)-40
		c.send(true, []time.Time{at(10_000_001), at(11_234_568), at(13_580_247)}, [][]byte{b[:cut1], b[cut1:cut2], b[cut2:]},
			[]sip.LegMessage{request(inv, false)})
		trying, ringing := d.Response(100, "Trying", inv), d.Response(180, "Ringing", inv)
		c.send(false, one(at(63_580_249)), [][]byte{append(append([]byte(nil), trying...), ringing...)},
			[]sip.LegMessage{response(100, "Trying", inv, trying, false), response(180, "Ringing", inv, ringing, false)})
	} else {
		c.send(true, one(at(10_000_001)), [][]byte{inv.Bytes}, []sip.LegMessage{request(inv, false)})
		// RFC 3261 §17.1.1.2: Timer A fires after T1 = 500 ms.
		c.send(true, one(at(510_000_003)), [][]byte{inv.Bytes}, []sip.LegMessage{request(inv, true)})
		trying := d.Response(100, "Trying", inv)
		c.send(false, one(at(520_000_005)), [][]byte{trying}, []sip.LegMessage{response(100, "Trying", inv, trying, false)})
		ringing := d.Response(180, "Ringing", inv)
		c.send(false, one(at(570_000_007)), [][]byte{ringing}, []sip.LegMessage{response(180, "Ringing", inv, ringing, false)})
		c.send(false, one(at(1_570_000_009)), [][]byte{ringing}, []sip.LegMessage{response(180, "Ringing", inv, ringing, true)})
	}
	ok := d.Response(200, "OK", inv)
	c.send(false, one(at(9_000_000_011)), [][]byte{ok}, []sip.LegMessage{response(200, "OK", inv, ok, false)})
	ack := d.Ack(inv, 200)
	c.send(true, one(at(9_010_000_013)), [][]byte{ack}, []sip.LegMessage{{Method: "ACK", CSeq: inv.CSeq, CSeqMethod: "ACK", Raw: string(ack), Size: len(ack)}})
	bye := d.Bye(true)
	c.send(true, one(at(60_000_000_017)), [][]byte{bye.Bytes}, []sip.LegMessage{request(bye, false)})
	byeOK := d.Response(200, "OK", bye)
	c.send(false, one(at(60_004_000_019)), [][]byte{byeOK}, []sip.LegMessage{response(200, "OK", bye, byeOK, false)})
	if c.err == nil && c.tcp != nil {
		c.err = c.tcp.Close(at(60_200_000_000))
	}
	return c.want, c.err
}

// TestPipelineLadder: the messages kept with a leg's record are the bytes
// sent, each at its packet's capture time to the nanosecond, with its
// addresses, transport, sender and retransmission mark, over UDP and over
// TCP (where a message takes the time of the segment that completes it).
func TestPipelineLadder(t *testing.T) {
	for _, transport := range []string{"UDP", "TCP"} {
		t.Run(transport, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ladder.pcap")
			var want []sip.LegMessage
			err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) (err error) {
				want, err = writeLadderCall(w, transport, pcapgen.BaseTime().Add(123456789))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			src, err := capture.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var emitted []sip.Call
			var final []sip.Call
			p := tap.NewPipeline(sip.DefaultTrackerConfig(), func(c sip.Call) { emitted = append(emitted, c) }, discard(),
				tap.WithClosed(func(c sip.Call) { final = append(final, c) }))
			if err := tap.Replay(context.Background(), src, p); err != nil {
				t.Fatal(err)
			}
			if len(final) != 1 {
				t.Fatalf("%d legs closed, want 1", len(final))
			}
			got := final[0].Messages
			if len(got) != len(want) {
				t.Fatalf("%d messages kept, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) || got[i].At.UnixNano() != want[i].At.UnixNano() {
					t.Errorf("message %d\n got %+v\nwant %+v", i, brief(got[i]), brief(want[i]))
				}
			}
			// The record stored when the BYE ended the leg has everything
			// up to the BYE; the 200 to it brings the record once more, with
			// the whole ladder, when the leg is closed.
			if len(emitted) != 2 {
				t.Fatalf("emitted %d records, want 2", len(emitted))
			}
			if !reflect.DeepEqual(emitted[0].Messages, want[:len(want)-1]) {
				t.Errorf("emitted record has %d messages, want the %d up to the BYE", len(emitted[0].Messages), len(want)-1)
			}
			if !reflect.DeepEqual(emitted[1].Messages, want) {
				t.Errorf("final emitted record has %d messages, want all %d", len(emitted[1].Messages), len(want))
			}
			if final[0].Retransmissions != countRetrans(want) {
				t.Errorf("record counts %d retransmissions, ladder marks %d", final[0].Retransmissions, countRetrans(want))
			}
		})
	}
}

func countRetrans(ms []sip.LegMessage) int {
	n := 0
	for _, m := range ms {
		if m.Retransmission {
			n++
		}
	}
	return n
}

// brief is a message with only the start line of its raw text, for
// failure output.
func brief(m sip.LegMessage) sip.LegMessage {
	line, _, _ := strings.Cut(m.Raw, "\r\n")
	m.Raw = line + " …"
	return m
}
