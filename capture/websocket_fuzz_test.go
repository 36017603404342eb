package capture

import (
	"bytes"
	"testing"
	"time"
)

// FuzzWebSocketStream feeds arbitrary bytes, after a SIP WebSocket
// handshake or not, in segments of a fuzzed size: the layer must never
// hold more than its limits, never hand on more bytes than it was given,
// and never hand on a WebSocket message over wsMaxMessage.
func FuzzWebSocketStream(f *testing.F) {
	for _, tc := range wsCases() {
		in, _, _ := tc.stream()
		if len(in) < 4096 {
			f.Add(in, uint8(7), false)
			f.Add(in, uint8(0), false)
		}
	}
	f.Add(wsFrame(true, wsOpText, wsKey, []byte(wsInvite), 0), uint8(3), true)
	f.Add([]byte("\x01\x7f\xff\xff\xff\xff\xff\xff\xff\xff"), uint8(1), true)
	f.Fuzz(func(t *testing.T, data []byte, seg uint8, handshake bool) {
		r := newWSRig()
		var in int
		if handshake {
			r.send(t, []byte(wsClientHandshake), t0)
			in += len(wsClientHandshake)
		}
		n := int(seg)%64 + 1
		for i := 0; i < len(data); i += n {
			r.send(t, data[i:min(i+n, len(data))], t0)
			in += min(n, len(data)-i)
			s := r.stream()
			if s == nil || s.ws.conn == nil {
				continue
			}
			c := s.ws.conn
			if len(c.msg) > wsMaxMessage || len(c.http) > wsMaxHandshake+1 || c.nhdr > wsMaxHeader {
				t.Fatalf("holding msg %d, http %d, header %d bytes", len(c.msg), len(c.http), c.nhdr)
			}
		}
		out := 0
		for _, g := range r.got {
			out += len(g.data)
		}
		if out > in {
			t.Fatalf("%d bytes handed on from %d", out, in)
		}
		if st := r.stream(); st != nil && (st.ws.state == wsFrames || st.ws.state == wsResync) {
			for _, g := range r.got {
				if len(g.data) > wsMaxMessage && g.start {
					t.Fatalf("message of %d bytes", len(g.data))
				}
			}
		}
	})
}

// FuzzWebSocketRoundTrip sends a message as fuzzed fragments (masked or
// not, pings between them) in segments of a fuzzed size, followed by a
// second message: both must come out exactly, whatever the cuts.
func FuzzWebSocketRoundTrip(f *testing.F) {
	f.Add([]byte(wsInvite), uint8(10), uint8(5), true, true)
	f.Add([]byte(wsOK), uint8(255), uint8(0), false, false)
	f.Add(bytes.Repeat([]byte{0x81}, 300), uint8(125), uint8(13), true, false)
	f.Fuzz(func(t *testing.T, msg []byte, frag, seg uint8, masked, pings bool) {
		if len(msg) == 0 || len(msg) > wsMaxMessage {
			return
		}
		var key []byte
		if masked {
			key = wsKey
		}
		in := []byte(wsClientHandshake)
		fs := int(frag) + 1
		for i := 0; i < len(msg); i += fs {
			end := min(i+fs, len(msg))
			op := byte(wsOpContinuation)
			if i == 0 {
				op = wsOpBinary
			}
			in = append(in, wsFrame(end == len(msg), op, key, msg[i:end], 0)...)
			if pings && end < len(msg) {
				in = append(in, wsFrame(true, wsOpPing, key, msg[:min(len(msg), 5)], 0)...)
			}
		}
		in = append(in, wsFrame(true, wsOpText, key, []byte(wsOptions), 0)...)
		r := newWSRig()
		n := int(seg) + 1
		for i := 0; i < len(in); i += n {
			r.send(t, in[i:min(i+n, len(in))], t0.Add(time.Duration(i)))
		}
		if len(r.got) != 2 || r.got[0].data != string(msg) || r.got[1].data != wsOptions {
			t.Fatalf("got %d messages: %+v", len(r.got), r.got)
		}
		last := time.Duration((len(in) - 1) / n * n)
		if !r.got[1].t.Equal(t0.Add(last)) {
			t.Errorf("second message at %s, want %s", r.got[1].t, t0.Add(last))
		}
	})
}
