package pcapgen

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestLoadWith checks each timing of LoadWith against the packets it
// wrote: the SIP oracle must derive the very expectations returned, the
// INVITEs must be Interval apart, ringing Ring and talk Talk long, every
// RTP stream gapless with Talk/RTPInterval packets carrying LoadPayload,
// and as many calls up at once as Concurrent says.
func TestLoadWith(t *testing.T) {
	tests := []struct {
		name           string
		n              int
		opts           LoadOptions
		wantConcurrent int
	}{
		// Zero options are Load's: 2.151 s of call every 100 ms.
		{name: "defaults", n: 25, wantConcurrent: 25},
		// The capacity test's shape: every call up at once.
		{name: "all at once", n: 30, opts: LoadOptions{Interval: 10 * time.Millisecond, Ring: 500 * time.Millisecond, Talk: time.Second}, wantConcurrent: 30},
		{name: "apart", n: 3, opts: LoadOptions{Interval: 5 * time.Second, Ring: time.Second, Talk: 400 * time.Millisecond}, wantConcurrent: 1},
		// A talk that is not a whole number of packets: the BYE still
		// comes Talk after the first packet, 10 ms after the last one.
		{name: "odd talk", n: 4, opts: LoadOptions{Interval: 700 * time.Millisecond, Ring: 300 * time.Millisecond, Talk: 1010 * time.Millisecond}, wantConcurrent: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.opts.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			w, buf := newTestWriter(t, false)
			calls, packets, err := LoadWith(w, tc.n, testTime, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != tc.n || packets != tc.n*o.CallPackets() || w.Frames() != packets {
				t.Fatalf("%d calls, %d packets (writer %d), want %d and %d", len(calls), packets, w.Frames(), tc.n, tc.n*o.CallPackets())
			}
			if got := o.Concurrent(tc.n); got != tc.wantConcurrent || got != peakUp(calls) {
				t.Errorf("Concurrent = %d, want %d; the expectations have %d calls up at once", got, tc.wantConcurrent, peakUp(calls))
			}
			frames, dgs := readBack(t, w, buf, false)
			for i := 1; i < len(frames); i++ {
				if frames[i].ci.Timestamp.Before(frames[i-1].ci.Timestamp) {
					t.Fatalf("frame %d goes back in time", i)
				}
			}
			for i, c := range calls {
				if want := testTime.Add(time.Duration(i) * o.Interval); !c.InviteAt.Equal(want) {
					t.Errorf("call %d invited at %v, want %v", i, c.InviteAt, want)
				}
				if got := c.AnsweredAt.Sub(*c.RingingAt); got != o.Ring {
					t.Errorf("call %d rings %v, want %v", i, got, o.Ring)
				}
				if got := c.EndedAt.Sub(*c.AnsweredAt); got != ackDelay+mediaDelay+o.Talk {
					t.Errorf("call %d talks %v after its ACK and first packet, want %v", i, got, ackDelay+mediaDelay+o.Talk)
				}
				if got := c.EndedAt.Sub(c.InviteAt); got != o.CallLength() {
					t.Errorf("call %d lasts %v, CallLength says %v", i, got, o.CallLength())
				}
			}
			o2 := newOracle()
			for _, m := range parseSIP(t, dgs) {
				o2.feed(t, m)
			}
			if got, want := jsonLines(t, o2.result()), jsonLines(t, calls); got != want {
				t.Errorf("packets say\n%s\nexpectations say\n%s", got, want)
			}
			checkLoadRTP(t, dgs, calls, o)
		})
	}
}

// checkLoadRTP checks every RTP packet of a load: its stream (caller's
// SSRC 2i+1, callee's 2i+2) is gapless, packet k of a direction is sent
// at the first packet's time + k·RTPInterval (the callee's 10 ms later),
// carries LoadPayload(k) and comes before the BYE, and each stream has
// RTPPackets packets.
func checkLoadRTP(t *testing.T, dgs []datagram, calls []Expect, o LoadOptions) {
	t.Helper()
	type stream struct {
		n    int
		next uint16
	}
	streams := map[uint32]*stream{}
	want := make([]byte, RTPPayloadSize)
	for _, dg := range dgs {
		if isSIP(dg) {
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(dg.payload); err != nil {
			t.Fatal(err)
		}
		call, caller := int(p.SSRC-1)/2, p.SSRC%2 == 1
		if p.SSRC == 0 || call >= len(calls) {
			t.Fatalf("SSRC %d of no call", p.SSRC)
		}
		s := streams[p.SSRC]
		if s == nil {
			s = &stream{next: p.SequenceNumber}
			streams[p.SSRC] = s
		}
		if p.SequenceNumber != s.next {
			t.Fatalf("SSRC %d seq %d, want %d", p.SSRC, p.SequenceNumber, s.next)
		}
		if fromCaller := dg.src.Addr().As4()[0] == 198; fromCaller != caller {
			t.Fatalf("SSRC %d sent by %v", p.SSRC, dg.src)
		}
		at := calls[call].AnsweredAt.Add(ackDelay + mediaDelay + time.Duration(s.n)*RTPInterval)
		if !caller {
			at = at.Add(calleeRTPOffset)
		}
		if !dg.at.Equal(at) || !dg.at.Before(*calls[call].EndedAt) {
			t.Fatalf("SSRC %d packet %d at %v, want %v (BYE at %v)", p.SSRC, s.n, dg.at, at, *calls[call].EndedAt)
		}
		LoadPayload(want, s.n, caller)
		if !bytes.Equal(p.Payload, want) {
			t.Fatalf("SSRC %d packet %d payload differs from LoadPayload", p.SSRC, s.n)
		}
		s.n++
		s.next++
	}
	if len(streams) != 2*len(calls) {
		t.Errorf("%d RTP streams, want %d", len(streams), 2*len(calls))
	}
	for ssrc, s := range streams {
		if s.n != o.RTPPackets() {
			t.Errorf("SSRC %d: %d packets, want %d", ssrc, s.n, o.RTPPackets())
		}
	}
}

// peakUp counts the most calls between INVITE and BYE at one instant.
func peakUp(calls []Expect) int {
	peak := 0
	for _, c := range calls {
		n := 0
		for _, o := range calls {
			if !o.InviteAt.After(c.InviteAt) && o.EndedAt.After(c.InviteAt) {
				n++
			}
		}
		peak = max(peak, n)
	}
	return peak
}

// TestLoadDefaults: Load is LoadWith with zero options and with its own
// constants spelt out, byte for byte.
func TestLoadDefaults(t *testing.T) {
	write := func(f func(w *Writer) ([]Expect, int, error)) []byte {
		w, buf := newTestWriter(t, false)
		if _, _, err := f(w); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	load := write(func(w *Writer) ([]Expect, int, error) { return Load(w, 40, testTime) })
	for name, o := range map[string]LoadOptions{
		"zero":     {},
		"explicit": {Interval: LoadInterval, Ring: LoadRing, Talk: LoadTalk},
	} {
		got := write(func(w *Writer) ([]Expect, int, error) { return LoadWith(w, 40, testTime, o) })
		if !bytes.Equal(got, load) {
			t.Errorf("LoadWith(%s) wrote %d bytes unlike Load's %d", name, len(got), len(load))
		}
	}
}

func TestLoadWithInvalid(t *testing.T) {
	for name, o := range map[string]LoadOptions{
		"negative interval":   {Interval: -time.Millisecond},
		"negative ring":       {Ring: -time.Second},
		"negative talk":       {Talk: -time.Second},
		"talk under a packet": {Talk: RTPInterval - time.Nanosecond},
	} {
		w, err := NewWriter(io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadWith(w, 2, testTime, o); !errors.Is(err, ErrLoadOptions) {
			t.Errorf("%s: err = %v, want ErrLoadOptions", name, err)
		}
		if w.Frames() != 0 {
			t.Errorf("%s: %d frames written", name, w.Frames())
		}
	}
}

// TestLoadUnique: up to LoadMaxCalls calls, each has its own Call-ID,
// caller number and media addresses (so its own RTP 5-tuples), and the
// next call is the first to reuse media addresses.
func TestLoadUnique(t *testing.T) {
	w, err := NewWriter(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ids, users := map[string]bool{}, map[string]bool{}
	media := map[netip.AddrPort]int{}
	for i := range LoadMaxCalls {
		c := newLoadCall(w, i, testTime, LoadOptions{})
		d := c.l.d
		if ids[d.CallID] || users[d.Caller.User] {
			t.Fatalf("call %d: Call-ID %s or caller %s already used", i, d.CallID, d.Caller.User)
		}
		ids[d.CallID], users[d.Caller.User] = true, true
		for _, a := range []netip.AddrPort{d.Caller.MediaAddr(), d.Callee.MediaAddr()} {
			if j, dup := media[a]; dup {
				t.Fatalf("calls %d and %d both use media address %v", j, i, a)
			}
			media[a] = i
		}
	}
	c := newLoadCall(w, LoadMaxCalls, testTime, LoadOptions{})
	if _, dup := media[c.l.d.Caller.MediaAddr()]; !dup {
		t.Errorf("call %d has new media addresses: LoadMaxCalls is not the bound", LoadMaxCalls)
	}
}

// TestLoadPayload: what the capacity test relies on to find a packet in a
// recording: a payload is not found across two consecutive ones, and
// repeats only after 256 packets.
func TestLoadPayload(t *testing.T) {
	for _, caller := range []bool{true, false} {
		all := map[string]int{}
		for k := range 256 {
			p := make([]byte, RTPPayloadSize)
			LoadPayload(p, k, caller)
			if j, dup := all[string(p)]; dup {
				t.Fatalf("caller %v: packets %d and %d carry the same payload", caller, j, k)
			}
			all[string(p)] = k
		}
		p, q := make([]byte, RTPPayloadSize), make([]byte, RTPPayloadSize)
		for k := range 256 {
			LoadPayload(p, k, caller)
			LoadPayload(q, k+256, caller)
			if !bytes.Equal(p, q) {
				t.Fatalf("caller %v: packets %d and %d differ", caller, k, k+256)
			}
			two := make([]byte, 0, 2*RTPPayloadSize)
			two = append(append(two, p...), make([]byte, RTPPayloadSize)...)
			LoadPayload(two[RTPPayloadSize:], k+1, caller)
			for off := 1; off < RTPPayloadSize; off++ {
				if j, found := all[string(two[off:off+RTPPayloadSize])]; found {
					t.Fatalf("caller %v: packet %d found at offset %d of packets %d and %d", caller, j, off, k, k+1)
				}
			}
		}
	}
	a, b := make([]byte, RTPPayloadSize), make([]byte, RTPPayloadSize)
	LoadPayload(a, 7, true)
	LoadPayload(b, 7, false)
	if bytes.Equal(a, b) {
		t.Error("caller and callee payloads of one packet are equal: a swapped recording would pass for a right one")
	}
}
