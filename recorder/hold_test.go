package recorder

import (
	"fmt"
	"testing"
	"time"
)

// sdpAt is one SDP of a leg: who sent it, when (after the answer at t0),
// its connection address and its direction lines.
type sdpAt struct {
	fromCaller bool
	at         time.Duration
	conn       string // c= address, the side's own when ""
	session    string // session-level attribute lines
	media      string // media-level attribute lines
	// refused: not an SDP but the final failure (488, 491) of the last
	// offer fromCaller's side made (OfferRefused).
	refused bool
}

// body writes the SDP of the caller's or the callee's address.
func (s sdpAt) body() []byte {
	addr := calleeAddr
	if s.fromCaller {
		addr = callerAddr
	}
	conn := s.conn
	if conn == "" {
		conn = addr.Addr().String()
	}
	return fmt.Appendf(nil, "v=0\r\no=- 1 %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n%sm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n%s",
		int(s.at/time.Millisecond)+2000, addr.Addr(), conn, s.session, addr.Port(), s.media)
}

var (
	offerAt = sdpAt{fromCaller: true, at: -2 * time.Second, media: "a=sendrecv\r\n"}
	answerd = sdpAt{fromCaller: false, at: 0, media: "a=sendrecv\r\n"}
)

// TestHoldSignalled: the time on hold from the SDP of the re-INVITEs and
// their answers (RFC 3264 §8.4), to the millisecond of the capture times.
// The leg is answered at t0 and ends 60 s later. The hold starts with the
// holder's offer and ends when neither side's latest SDP holds.
func TestHoldSignalled(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name string
		sdp  []sdpAt // after offerAt, answerd
		want float64
	}{
		{"no hold", nil, 0},
		{"session refresh sendrecv", []sdpAt{
			{fromCaller: true, at: 30 * time.Second, media: "a=sendrecv\r\n"},
			{fromCaller: false, at: 30*time.Second + 10*ms, media: "a=sendrecv\r\n"},
		}, 0},
		{"caller sendonly then sendrecv", []sdpAt{
			{fromCaller: true, at: 10 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: false, at: 10*time.Second + 12*ms, media: "a=recvonly\r\n"},
			{fromCaller: true, at: 25*time.Second + 250*ms, media: "a=sendrecv\r\n"},
			{fromCaller: false, at: 25*time.Second + 262*ms, media: "a=sendrecv\r\n"},
		}, 15.25},
		{"callee sendonly then no attribute", []sdpAt{
			{fromCaller: false, at: 7 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: true, at: 7*time.Second + 9*ms, media: "a=recvonly\r\n"},
			{fromCaller: false, at: 19*time.Second + 500*ms},
			{fromCaller: true, at: 19*time.Second + 509*ms},
		}, 12.5},
		{"inactive answered inactive: resumed by the answer", []sdpAt{
			{fromCaller: true, at: 5 * time.Second, media: "a=inactive\r\n"},
			{fromCaller: false, at: 5*time.Second + 20*ms, media: "a=inactive\r\n"},
			{fromCaller: true, at: 20 * time.Second, media: "a=sendrecv\r\n"},
			{fromCaller: false, at: 20*time.Second + 20*ms, media: "a=sendrecv\r\n"},
		}, 15.02},
		{"RFC 2543 c=0.0.0.0", []sdpAt{
			{fromCaller: true, at: 10 * time.Second, conn: "0.0.0.0"},
			{fromCaller: false, at: 10*time.Second + 5*ms},
			{fromCaller: true, at: 40 * time.Second},
			{fromCaller: false, at: 40*time.Second + 5*ms},
		}, 30},
		{"session-level sendonly", []sdpAt{
			{fromCaller: false, at: 3 * time.Second, session: "a=sendonly\r\n"},
			{fromCaller: true, at: 3*time.Second + 5*ms, session: "a=recvonly\r\n"},
			{fromCaller: false, at: 4*time.Second + 125*ms, session: "a=sendrecv\r\n"},
		}, 1.125},
		{"never resumed: closes at the end", []sdpAt{
			{fromCaller: false, at: 48*time.Second + 750*ms, media: "a=sendonly\r\n"},
			{fromCaller: true, at: 48*time.Second + 760*ms, media: "a=recvonly\r\n"},
		}, 11.25},
		{"two holds", []sdpAt{
			{fromCaller: false, at: 10 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: false, at: 12 * time.Second, media: "a=sendrecv\r\n"},
			{fromCaller: true, at: 30 * time.Second, media: "a=inactive\r\n"},
			{fromCaller: true, at: 33 * time.Second, media: "a=sendrecv\r\n"},
		}, 5},
		{"each holds the other: on hold until both resume", []sdpAt{
			{fromCaller: true, at: 10 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: false, at: 15 * time.Second, media: "a=inactive\r\n"},
			{fromCaller: true, at: 20 * time.Second, media: "a=recvonly\r\n"},
			{fromCaller: false, at: 26 * time.Second, media: "a=sendrecv\r\n"},
		}, 16},
		{"recvonly alone is not hold", []sdpAt{
			{fromCaller: true, at: 10 * time.Second, media: "a=recvonly\r\n"},
		}, 0},
		{"answered on hold: counted from the answer", []sdpAt{
			{fromCaller: false, at: 0, media: "a=sendonly\r\n"},
			{fromCaller: false, at: 8 * time.Second, media: "a=sendrecv\r\n"},
		}, 8},
		{"re-INVITE retransmitted", []sdpAt{
			{fromCaller: true, at: 10 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: true, at: 10*time.Second + 500*ms, media: "a=sendonly\r\n"},
			{fromCaller: true, at: 14 * time.Second, media: "a=sendrecv\r\n"},
		}, 4},
		// RFC 3264 §8: a refused offer never took effect.
		{"hold refused with 488: never on hold", []sdpAt{
			{fromCaller: true, at: 10 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: true, at: 10*time.Second + 40*ms, refused: true},
		}, 0},
		{"hold refused, then accepted", []sdpAt{
			{fromCaller: false, at: 10 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: false, at: 10*time.Second + 40*ms, refused: true},
			{fromCaller: false, at: 12 * time.Second, media: "a=inactive\r\n"},
			{fromCaller: true, at: 12*time.Second + 10*ms, media: "a=inactive\r\n"},
			{fromCaller: false, at: 20 * time.Second, media: "a=sendrecv\r\n"},
			{fromCaller: true, at: 20*time.Second + 10*ms, media: "a=sendrecv\r\n"},
		}, 8.01},
		{"resume refused: still on hold until the next resume", []sdpAt{
			{fromCaller: false, at: 5 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: true, at: 5*time.Second + 10*ms, media: "a=recvonly\r\n"},
			{fromCaller: false, at: 20 * time.Second, media: "a=sendrecv\r\n"},
			{fromCaller: false, at: 20*time.Second + 40*ms, refused: true},
			{fromCaller: false, at: 30 * time.Second, media: "a=sendrecv\r\n"},
			{fromCaller: true, at: 30*time.Second + 10*ms, media: "a=sendrecv\r\n"},
		}, 25},
		{"glare: both offers refused with 491, the old state back at the failures", []sdpAt{
			{fromCaller: true, at: 10 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: false, at: 10*time.Second + 1*ms, media: "a=sendonly\r\n"},
			{fromCaller: true, at: 10*time.Second + 20*ms, refused: true},
			{fromCaller: false, at: 10*time.Second + 21*ms, refused: true},
		}, 0.021},
		{"a later offer refused: back to the last accepted one", []sdpAt{
			{fromCaller: true, at: 10 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: false, at: 10*time.Second + 10*ms, media: "a=recvonly\r\n"},
			{fromCaller: true, at: 15 * time.Second, media: "a=sendrecv\r\n"},
			{fromCaller: false, at: 15*time.Second + 10*ms, media: "a=sendrecv\r\n"},
			{fromCaller: true, at: 30 * time.Second, media: "a=sendonly\r\n"},
			{fromCaller: true, at: 30*time.Second + 40*ms, refused: true},
			{fromCaller: true, at: 31 * time.Second, refused: true}, // nothing left to undo
		}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, Config{})
			for _, s := range append([]sdpAt{offerAt, answerd}, tt.sdp...) {
				if s.refused {
					r.OfferRefused(callID, t0.Add(s.at), s.fromCaller)
					continue
				}
				r.Media(callID, t0.Add(s.at), s.fromCaller, false, s.body())
				if s == answerd {
					r.Answered(callID, "rec-1", t0)
				}
			}
			res := r.EndResult(callID, t0.Add(60*time.Second))
			if res == nil || res.Recording.File == "" {
				t.Fatalf("result %+v: want a recorded leg", res)
			}
			var got float64
			if res.Quality != nil {
				got = res.Quality.HoldSeconds
				if res.Quality.Caller != nil || res.Quality.Callee != nil || res.Quality.HoldAudioSeconds != 0 {
					t.Errorf("no RTP, but quality %+v", *res.Quality)
				}
			}
			if got != tt.want {
				t.Errorf("hold %v s, want %v", got, tt.want)
			}
			if tt.want == 0 && res.Quality != nil {
				t.Errorf("no RTP and no hold, quality %+v", *res.Quality)
			}
		})
	}
}

// TestHoldBeforeAnswer: an early SDP on hold (a 183 with sendonly) that
// the 200 OK's SDP lifts is not time on hold; one the answer keeps counts
// from the answer only.
func TestHoldBeforeAnswer(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer string
		want   float64
	}{
		{"lifted by the answer", "a=sendrecv\r\n", 0},
		{"kept by the answer", "a=sendonly\r\n", 60},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, Config{})
			r.Media(callID, t0.Add(-5*time.Second), true, false, offerAt.body())
			r.Media(callID, t0.Add(-3*time.Second), false, true, sdpAt{media: "a=sendonly\r\n"}.body())
			r.Media(callID, t0, false, false, sdpAt{media: tt.answer}.body())
			r.Answered(callID, "rec-1", t0)
			res := r.EndResult(callID, t0.Add(60*time.Second))
			var got float64
			if res != nil && res.Quality != nil {
				got = res.Quality.HoldSeconds
			}
			if got != tt.want {
				t.Errorf("hold %v s, want %v", got, tt.want)
			}
		})
	}
}

// gapRun is a span of one direction without audio packets: from and to
// are times after the answer, cn says comfort noise is sent meanwhile.
type gapRun struct {
	caller   bool
	from, to time.Duration
	cn       bool
}

// TestHoldFromAudio: both directions send 20 ms G.711 packets for 30 s
// except in the gaps; the audio figure is the time one direction sent no
// audio for at least 2 s while the other did.
func TestHoldFromAudio(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name string
		gaps []gapRun
		want float64
	}{
		{"no gap", nil, 0},
		{"caller 5 s gap", []gapRun{{caller: true, from: 5 * s, to: 10 * s}}, 5},
		{"callee 5 s gap", []gapRun{{from: 12 * s, to: 17 * s}}, 5},
		{"comfort noise only is silence", []gapRun{{caller: true, from: 5 * s, to: 10 * s, cn: true}}, 5},
		{"1.5 s gap is network, not hold", []gapRun{{caller: true, from: 5 * s, to: 6500 * time.Millisecond}}, 0},
		{"exactly 2 s counts", []gapRun{{caller: true, from: 5 * s, to: 7 * s}}, 2},
		{"both silent together is not hold", []gapRun{{caller: true, from: 5 * s, to: 10 * s}, {from: 5 * s, to: 10 * s}}, 0},
		{"overlapping gaps: only where one talks", []gapRun{{caller: true, from: 5 * s, to: 10 * s}, {from: 8 * s, to: 13 * s}}, 6},
		{"gap within the other's gap", []gapRun{{caller: true, from: 5 * s, to: 15 * s}, {from: 8 * s, to: 11 * s}}, 7},
		{"many gaps", []gapRun{{caller: true, from: 2 * s, to: 4 * s}, {from: 5 * s, to: 8 * s}, {caller: true, from: 9 * s, to: 12 * s}, {from: 11 * s, to: 14 * s}}, 2 + 3 + 2 + 2},
		{"silent to the end", []gapRun{{from: 22 * s, to: 30 * s}}, 8},
		{"silent from the answer", []gapRun{{caller: true, from: 0, to: 3500 * time.Millisecond}}, 3.5},
		{"short silence before the end", []gapRun{{from: 28500 * time.Millisecond, to: 30 * s}}, 0},
		{"one direction never sends", []gapRun{{caller: true, from: 0, to: 30 * s}}, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, Config{})
			answer(r, sdpBody(callerAddr, "RTP/AVP", "0 13", "a=rtpmap:13 CN/8000\r\n"), sdpBody(calleeAddr, "RTP/AVP", "0 13", "a=rtpmap:13 CN/8000\r\n"))
			caller := talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
			callee := talker{src: calleeAddr, dst: callerAddr, ssrc: 2}
			for i := range 1500 {
				off := time.Duration(i) * 20 * time.Millisecond
				for _, tk := range []struct {
					k      *talker
					caller bool
				}{{&caller, true}, {&callee, false}} {
					sends, cn := true, false
					for _, g := range tt.gaps {
						if g.caller == tk.caller && off >= g.from && off < g.to {
							sends, cn = g.cn, g.cn
						}
					}
					at := t0.Add(off)
					switch {
					case cn:
						tk.k.pt = 13
						tk.k.send(t, r, at, 0x7f)
						tk.k.pt = 0
					case sends:
						tk.k.send(t, r, at, 0x55)
					default:
						tk.k.seq++ // lost, or DTX
						tk.k.ts += 160
					}
				}
			}
			res := r.EndResult(callID, t0.Add(30*time.Second))
			if res == nil || res.Quality == nil {
				t.Fatalf("result %+v", res)
			}
			if got := res.Quality.HoldAudioSeconds; got != tt.want {
				t.Errorf("hold from the audio %v s, want %v", got, tt.want)
			}
			if res.Quality.HoldSeconds != 0 {
				t.Errorf("no hold signalled, hold %v s", res.Quality.HoldSeconds)
			}
		})
	}
}

// TestAudioGapsReordered: a packet reordered or duplicated on the wire
// covers audio already known and opens no gap.
func TestAudioGapsReordered(t *testing.T) {
	var g audioGaps
	g.start(t0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	for i := 0; i < 10000; i += 20 {
		g.packet(left, ms(i), 160)
		g.packet(right, ms(i+1), 160)
		if i == 4000 {
			g.packet(left, ms(3980), 160) // duplicate
			g.packet(left, ms(100), 160)  // very late
		}
	}
	if got := g.seconds(ms(10000)); got != 0 {
		t.Errorf("hold from the audio %v s, want 0", got)
	}
}

// TestAudioGapsAllocs: the audio hold figure allocates nothing per packet
// once its gap lists have grown, gaps or not.
func TestAudioGapsAllocs(t *testing.T) {
	var g audioGaps
	g.start(t0)
	i := 0
	allocs := testing.AllocsPerRun(5000, func() {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		g.packet(right, at, 160)
		if i%500 < 300 { // the caller is silent 4 s in every 10 s
			g.packet(left, at, 160)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet", allocs)
	}
	// 5001 packets (one more for the warm-up) over 100 s, the caller
	// silent from 6 to 10 s in every 10 s: 10 gaps of 4 s.
	if got := g.seconds(t0.Add(time.Duration(i) * 20 * time.Millisecond)); got != 40 || i != 5001 {
		t.Errorf("hold from the audio %v s over %d packets, want 40 s", got, i)
	}
}
