package recorder

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/sip"
)

// nowhere is a placer that keeps nothing.
type nowhere struct{}

func (nowhere) place(int64, kind, []byte) {}

// legQuality drains the leg's streams (as finish does) and returns its
// quality.
func legQuality(t *testing.T, r *Recorder, id string) *sip.Quality {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.legs[id]
	if l == nil {
		t.Fatalf("no leg %q", id)
	}
	for _, f := range l.flows {
		f.st.drain()
	}
	return l.quality()
}

// TestQualityLossBands sends 400 s of G.711 each way with random loss
// injected on the caller's direction and checks the loss and the MOS
// through the recorder's streams. The bands are G.107 eq. (7-1), (7-29)
// and (B-4) worked by hand with the Table 1 defaults, G.711 with PLC
// (G.113 Appendix I: Ie 0, Bpl 25.1), random loss (BurstR 1) and T = 60 ms
// (the assumed base delay; the jitter here is 0): MOS 4.375, 4.284, 3.853,
// 3.328 at exactly 0, 1, 5 and 10 %. Each band covers the MOS of the loss
// drawn within about ±0.45 % of the target (±0.35 % at 1 %): several σ of
// 20,000 draws (σ = 0.07, 0.15, 0.21 %); this seed draws 0.97, 5.25 and
// 10.13 %. The loss itself is checked exactly against the drops.
func TestQualityLossBands(t *testing.T) {
	tests := []struct {
		lossPct  float64
		lo, hi   float64
		mosCheck float64 // the hand-worked MOS at exactly lossPct
	}{
		{0, 4.37, 4.38, 4.375},
		{1, 4.25, 4.31, 4.284},
		{5, 3.80, 3.90, 3.853},
		{10, 3.27, 3.38, 3.328},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.lossPct, 'f', -1, 64)+"%", func(t *testing.T) {
			r := newRecorder(t, Config{})
			answer(r, sdpBody(callerAddr, "RTP/AVP", "0 101", g711Attrs), sdpBody(calleeAddr, "RTP/AVP", "0 101", g711Attrs))
			rng := rand.New(rand.NewPCG(13, uint64(tt.lossPct*100)))
			caller := talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
			callee := talker{src: calleeAddr, dst: callerAddr, ssrc: 2}
			const n = 20000
			first, last, dropped := -1, -1, 0
			for i := range n {
				at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
				if rng.Float64()*100 < tt.lossPct {
					caller.seq++
					caller.ts += 160
					dropped++
					continue
				}
				if first < 0 {
					first, dropped = i, 0
				}
				last = i
				caller.send(t, r, at, 0x55)
				callee.send(t, r, at.Add(time.Millisecond), 0x2a)
			}
			q := legQuality(t, r, callID)
			if q == nil || q.Caller == nil || q.Callee == nil {
				t.Fatalf("quality %+v", q)
			}
			// RFC 3550 A.3 counts from the first to the highest received:
			// drops after the last are not known to be losses yet.
			trailing := n - 1 - last
			expected := last - first + 1
			wantLoss := float64(dropped-trailing) / float64(expected) * 100
			if math.Abs(q.Caller.LossPercent-wantLoss) > 1e-9 {
				t.Errorf("caller loss %.4f %%, injected %.4f %%", q.Caller.LossPercent, wantLoss)
			}
			if q.Callee.LossPercent != 0 || q.Callee.MOS < 4.37 || q.Callee.MOS > 4.38 {
				t.Errorf("callee %+v, want no loss and MOS 4.375", *q.Callee)
			}
			if q.Caller.MOS < tt.lo || q.Caller.MOS > tt.hi {
				t.Errorf("caller MOS %.3f at %.2f %% loss, want %.2f–%.2f (G.107: %.3f at %.0f %%)",
					q.Caller.MOS, q.Caller.LossPercent, tt.lo, tt.hi, tt.mosCheck, tt.lossPct)
			}
			if q.Caller.JitterMaxMs > 1e-6 || q.OneWayAudio {
				t.Errorf("caller %+v one-way %v: paced packets have no jitter", *q.Caller, q.OneWayAudio)
			}
			t.Logf("loss %.3f %%: R %.2f MOS %.3f", q.Caller.LossPercent, q.Caller.RFactor, q.Caller.MOS)
		})
	}
}

// TestQualityOneWayAudio: one direction without audio packets (none, or
// only comfort noise) while the other has some.
func TestQualityOneWayAudio(t *testing.T) {
	tests := []struct {
		name        string
		calleePT    uint8 // 0 audio, 13 comfort noise
		calleeSends bool
		oneWay      bool
		calleeIsNil bool
		callerSends bool
		wantQualNil bool
	}{
		{"both talk", 0, true, false, false, true, false},
		{"callee silent", 0, false, true, true, true, false},
		{"callee only comfort noise", 13, true, true, false, true, false},
		{"nothing either way", 0, false, false, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, Config{})
			answer(r, sdpBody(callerAddr, "RTP/AVP", "0 13", "a=rtpmap:13 CN/8000\r\n"), sdpBody(calleeAddr, "RTP/AVP", "0 13", "a=rtpmap:13 CN/8000\r\n"))
			caller := talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
			callee := talker{src: calleeAddr, dst: callerAddr, ssrc: 2, pt: tt.calleePT}
			for i := range 50 {
				at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
				if tt.callerSends {
					caller.send(t, r, at, 0x55)
				}
				if tt.calleeSends {
					callee.send(t, r, at, 0x2a)
				}
			}
			q := legQuality(t, r, callID)
			if (q == nil) != tt.wantQualNil {
				t.Fatalf("quality %+v", q)
			}
			if q == nil {
				return
			}
			if q.OneWayAudio != tt.oneWay || (q.Callee == nil) != tt.calleeIsNil || q.Caller == nil {
				t.Errorf("one-way %v caller %+v callee %+v", q.OneWayAudio, q.Caller, q.Callee)
			}
			if q.Callee != nil && tt.calleePT == 13 && q.Callee.MOS != 0 {
				t.Errorf("comfort noise only: MOS %v, want none (no codec)", q.Callee.MOS)
			}
		})
	}
}

// TestQualityWeightsFlows: two flows on one channel, their estimates
// pooled. Flow 1 (packets at 0, 20, 48 ms) has estimates 0 and 0.5 ms,
// flow 2 (paced) 0, 0, 0: the mean is 0.5/5 = 0.1 ms (the mean of the
// flows' means would be 0.125), the max 0.5 ms.
func TestQualityWeightsFlows(t *testing.T) {
	table := defaultTable()
	l := &leg{}
	for i, arrivals := range [][]int{{0, 20, 48}, {0, 20, 40, 60}} {
		st := newStream(t0, DefaultMaxJump, 8, tableOf(&table), nowhere{}, &dtmf{})
		for j, ms := range arrivals {
			h := rtp.Header{Version: 2, SequenceNumber: uint16(j), Timestamp: uint32(j) * 160, SSRC: uint32(i + 1)}
			st.push(t0.Add(time.Duration(ms)*time.Millisecond), &h, make([]byte, 160))
		}
		st.drain()
		l.flows = append(l.flows, &flow{channel: left, st: *st})
	}
	q := l.channelQuality(left)
	if q == nil {
		t.Fatal("no quality")
	}
	if math.Abs(q.JitterMeanMs-0.1) > 1e-9 || math.Abs(q.JitterMaxMs-0.5) > 1e-9 {
		t.Errorf("jitter mean %.6f max %.6f ms, want 0.1 and 0.5", q.JitterMeanMs, q.JitterMaxMs)
	}
	if l.channelQuality(right) != nil {
		t.Error("quality for a channel without flows")
	}
}

// TestQualityLateAndDuplicates: a reordered packet beyond the window is
// late (received: not a network loss, but missed by the listener), a copy
// is a duplicate; the jitter counts both as they arrive.
func TestQualityLateAndDuplicates(t *testing.T) {
	table := defaultTable()
	st := newStream(t0, DefaultMaxJump, 2, tableOf(&table), nowhere{}, &dtmf{})
	send := func(seq uint16, ms int) {
		h := rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 7}
		st.push(t0.Add(time.Duration(ms)*time.Millisecond), &h, make([]byte, 160))
	}
	// 0..9 with 2 arriving after 3, 4 and 5 (window 2: it is late) and 6
	// twice.
	for _, p := range [][2]int{{0, 0}, {1, 20}, {3, 60}, {4, 80}, {5, 100}, {2, 101}, {6, 120}, {6, 121}, {7, 140}, {8, 160}, {9, 180}} {
		send(uint16(p[0]), p[1])
	}
	st.drain()
	l := &leg{flows: []*flow{{channel: left, st: *st}}}
	q := l.channelQuality(left)
	if q.Late != 1 || q.Duplicates != 1 || q.LossPercent != 0 {
		t.Errorf("late %d dups %d loss %v, want 1, 1, 0", q.Late, q.Duplicates, q.LossPercent)
	}
	// The listener missed 1 of 10: Ppl 10 %, MOS 3.328 (see the bands).
	if q.MOS > 3.4 || q.MOS < 3.2 {
		t.Errorf("MOS %.3f, want about 3.3 (10 %% missed)", q.MOS)
	}
	// 11 arrivals: the first sets the reference, 10 update the estimate,
	// and all but the one with an older timestamp (2) count.
	if st.jit.Samples() != 9 || q.JitterMaxMs == 0 {
		t.Errorf("%d estimates, max %v: want 9 (every arrival after the first but the reordered one)", st.jit.Samples(), q.JitterMaxMs)
	}
}

// TestStreamPushAllocs: the jitter hook allocates nothing per packet.
func TestStreamPushAllocs(t *testing.T) {
	table := defaultTable()
	st := newStream(t0, DefaultMaxJump, 8, tableOf(&table), nowhere{}, &dtmf{})
	payload := make([]byte, 160)
	var i uint32
	allocs := testing.AllocsPerRun(1000, func() {
		h := rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: i * 160, SSRC: 1}
		st.push(t0.Add(time.Duration(i)*20*time.Millisecond), &h, payload)
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet", allocs)
	}
}

// TestQualityMatchesTsharkThroughRecorder records one leg of a public
// capture (its two directions as they are addressed) and compares the
// recorder's jitter per direction with tshark's RTP stream analysis.
func TestQualityMatchesTsharkThroughRecorder(t *testing.T) {
	path := filepath.Join(testenv.SharedPcaps(t), "voipshark-call-pcmu.pcap")
	bin, err := exec.LookPath("tshark")
	if err != nil {
		testenv.SkipOrFail(t, "tshark is not installed")
	}
	out, err := exec.Command(bin, "-q", "-n", "-r", path, "-z", "rtp,streams").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	// The leg between the phone and the PBX: 192.168.20.132:4000 (caller
	// here) and 192.168.20.130:12262.
	a := netip.MustParseAddrPort("192.168.20.132:4000")
	b := netip.MustParseAddrPort("192.168.20.130:12262")
	want := map[int][2]float64{} // channel → tshark's mean, max
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 17 {
			continue
		}
		src, dst := f[2]+":"+f[3], f[4]+":"+f[5]
		mean, err1 := strconv.ParseFloat(f[len(f)-2], 64)
		maxJ, err2 := strconv.ParseFloat(f[len(f)-1], 64)
		if errors.Join(err1, err2) != nil {
			continue
		}
		switch {
		case src == a.String() && dst == b.String():
			want[left] = [2]float64{mean, maxJ}
		case src == b.String() && dst == a.String():
			want[right] = [2]float64{mean, maxJ}
		}
	}
	if len(want) != 2 {
		t.Fatalf("tshark's streams of the leg: %v", want)
	}

	r := newRecorder(t, Config{})
	src, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := capture.NewDecoder()
	answered := false
	fn := func(d *capture.Datagram) {
		if d.Transport == capture.UDP {
			r.Packet(d)
		}
	}
	for {
		fr, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !answered {
			// Answered at the first frame: every RTP packet is recorded.
			at := fr.Info.Timestamp
			r.Media(callID, at, true, false, sdpBody(a, "RTP/AVP", "0", "a=rtpmap:0 PCMU/8000\r\n"))
			r.Media(callID, at, false, false, sdpBody(b, "RTP/AVP", "0", "a=rtpmap:0 PCMU/8000\r\n"))
			r.Answered(callID, "rec-pcap", at)
			answered = true
		}
		_ = dec.Decode(fr.LinkType, fr.Data, fr.Info, fn)
	}
	q := legQuality(t, r, callID)
	if q == nil || q.Caller == nil || q.Callee == nil {
		t.Fatalf("quality %+v", q)
	}
	for c, got := range map[int]*sip.StreamQuality{left: q.Caller, right: q.Callee} {
		w := want[c]
		t.Logf("channel %d: mean %.4f ms (tshark %.3f), max %.4f ms (tshark %.3f), loss %.2f %%, MOS %.3f",
			c, got.JitterMeanMs, w[0], got.JitterMaxMs, w[1], got.LossPercent, got.MOS)
		for i, v := range []float64{got.JitterMeanMs, got.JitterMaxMs} {
			if d := math.Abs(v - w[i]); d > 0.01*w[i] && d > 0.0005 {
				t.Errorf("channel %d: jitter %.4f ms, tshark %.3f", c, v, w[i])
			}
		}
		if got.LossPercent != 0 {
			t.Errorf("channel %d: loss %v %%, tshark 0", c, got.LossPercent)
		}
	}
	if q.OneWayAudio {
		t.Error("one-way audio on a two-way call")
	}
}
