package lab_test

import (
	"context"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
)

// The lab's proof of the record's speech and quality objects (issue 13):
// for every answered leg, the greeting latency (and the caller's first
// speech) the daemon stores must equal the onset found independently in the
// RTP tcpdump captured on the mirror port, within onsetTolerance; and the
// lab's calls, which lose nothing on the bridge, must show 0 % loss and a
// toll-quality MOS.
//
// The onset method here is deliberately not the daemon's detector (adaptive
// noise floor, zero crossings, hangover; package speech):
//
//  1. tshark decodes the RTP of the capture; the side's audio is every
//     G.711 packet (PT 0 or 8) sent to the other side's SDP address
//     (nettest.SDPSides) between the 200 OK and the BYE as tshark reads
//     them (legTruth).
//  2. Each payload is decoded (ITU-T G.711) and cut into 10 ms frames of
//     80 samples; a frame starts at its packet's capture time plus 10 ms per
//     frame before it in the packet (capture time, not RTP timestamp: a
//     second, independent time base).
//  3. A frame's level is its mean power in dB below a full-scale square
//     wave (dBov); the stream's floor is the quietest second: the lowest
//     mean power of any 100 consecutive frames (the whole stream if
//     shorter), never below onsetIdle (digital silence has no level).
//  4. The onset is the start of the first frame at least onsetMargin above
//     the floor.
//  5. When no frame is that far above the floor, the stream has no quiet
//     stretch to set speech against: its sound is there from the start (the
//     lab's tones start at once). The onset is then the first frame above
//     onsetIdle + onsetMargin, i.e. the start of the side's first audible
//     packet: the latency is from the 200 OK to the first audio the phone
//     sent. That alone could not tell a detector that reports 0 from a
//     right one (the first RTP follows the 200 OK by a few ms), so the
//     greeting scenario (greetingScenario) has a known lead of low noise
//     before its tone, and there the floor is the noise and the onset the
//     tone's first frame, speechLead after the first packet.
const (
	// onsetTolerance is the bound between the record and the
	// capture.
	onsetTolerance = 30 * time.Millisecond
	// onsetMargin is how far above the quietest second a frame must be.
	onsetMargin = 15.0 // dB
	// onsetIdle is the lowest floor: about the level of µ-law's smallest
	// non-zero codes, below any real line's noise.
	onsetIdle = -70.0 // dBov
	// frameSamples is 10 ms at 8 kHz; floorFrames one second of frames.
	frameSamples = 80
	floorFrames  = 100
	// speechLead is the low noise greet.ul has before its tone, and
	// leadNoise its amplitude (sox whitenoise vol: uniform ±0.002 of full
	// scale, about −59 dBov).
	speechLead = 1500 * time.Millisecond
	leadNoise  = "0.002"
	// minMOS is the least MOS of a lab call (G.711, no loss, sub-ms
	// jitter: the E-model gives R ≈ 93, MOS ≈ 4.4).
	minMOS = 4.2
)

// makeGreetingAudio writes greet.ul into dir, which holds callee.ul
// (makeAudio): speechLead of low white noise, then callee.ul's tone.
func makeGreetingAudio(ctx context.Context, t *testing.T, dir string) {
	t.Helper()

	noise := filepath.Join(dir, "lead.ul")
	runCmd(ctx, t, "sox", "-n", "-r", "8000", "-c", "1", "-t", "ul", noise,
		"synth", formatSecs(speechLead.Seconds()), "whitenoise", "vol", leadNoise)
	lead, err := os.ReadFile(noise)
	if err != nil {
		t.Fatal(err)
	}
	if want := int(speechLead.Seconds() * 8000); len(lead) != want {
		t.Fatalf("sox wrote %d samples of lead, want %d", len(lead), want)
	}
	tone, err := os.ReadFile(filepath.Join(dir, "callee.ul"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "greet.ul"), append(lead, tone...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// greetingScenario is an answered call whose answering phone greets
// speechLead after the answer (uas-greet.xml). Every answered leg's speech
// is checked by checkSpeech; here the independent onset must also show the
// lead, so that the comparison is between two non-trivial numbers.
func greetingScenario() scenario {
	return scenario{
		name:   "greeting_late",
		phones: []phone{recPhone("uas-greet.xml", "-d", "1000"), callerPhone("uac.xml", "-d", "3000")},
		check: func(t *testing.T, r *result) {
			rec, leg := r.leg(t, recIP+":5060")
			on, ok := captureOnsets(t, r.pcap, leg)
			if !ok.callee {
				t.Fatalf("%s: no onset of the answering side in the capture", leg.callID)
			}
			// The tone leaves speechLead after the first packet, which
			// follows the 200 OK by the ACK's round trip.
			lat := on.callee.Sub(leg.answered)
			if lat < speechLead || lat > speechLead+200*time.Millisecond {
				t.Errorf("%s: capture onset %v after the 200 OK, greet.ul's tone starts %v in", leg.callID, lat, speechLead)
			}
			t.Logf("%s: capture greeting onset %v after the 200 OK, record %s", leg.callID, lat,
				show(rec.Obj("speech")["greeting_latency_seconds"], true))
		},
	}
}

// onsets is each side's onset in the capture.
type onsets struct{ caller, callee time.Time }

// found says which onsets were found.
type found struct{ caller, callee bool }

// checkSpeech checks an answered leg's speech and quality against the
// capture (see the top of this file). Legs without a recording are
// checkRecording's concern.
func checkSpeech(t *testing.T, r *result, rec record) {
	t.Helper()

	id := rec.Str("call_id")
	leg := r.legs[id]
	if leg == nil || leg.answered.IsZero() || rec.Obj("recording") == nil {
		return
	}
	sp, q := rec.Obj("speech"), rec.Obj("quality")
	if sp == nil || q == nil {
		t.Errorf("%s: answered and recorded, but speech = %s, quality = %s", id,
			show(rec["speech"], true), show(rec["quality"], true))
		return
	}
	on, ok := captureOnsets(t, r.pcap, leg)
	for _, s := range []struct {
		key   string
		on    time.Time
		found bool
	}{{"greeting_latency_seconds", on.callee, ok.callee}, {"caller_first_seconds", on.caller, ok.caller}} {
		got, has := sp.Float(s.key)
		switch {
		case !s.found && has:
			t.Errorf("%s: speech.%s = %v, the capture has no onset", id, s.key, got)
		case !s.found:
		case !has:
			t.Errorf("%s: speech.%s = %s, the capture's onset is %v after the 200 OK", id, s.key,
				show(sp[s.key], true), s.on.Sub(leg.answered))
		default:
			wantSecs := s.on.Sub(leg.answered).Seconds()
			d := time.Duration((got - wantSecs) * float64(time.Second))
			t.Logf("%s: speech.%s = %.3f s, capture onset %.4f s (%+v)", id, s.key, got, wantSecs, d.Round(time.Microsecond))
			if d.Abs() > onsetTolerance {
				t.Errorf("%s: speech.%s = %.3f s, the capture's onset is %.4f s after the 200 OK: %v apart, want within %v",
					id, s.key, got, wantSecs, d, onsetTolerance)
			}
		}
	}

	for _, side := range []string{"caller", "callee"} {
		sq := q.Obj(side)
		if sq == nil {
			t.Errorf("%s: quality.%s = %s: both phones send audio", id, side, show(q[side], true))
			continue
		}
		if loss, has := sq.Float("loss_percent"); !has || loss != 0 {
			t.Errorf("%s: quality.%s.loss_percent = %s, want 0 (nothing is lost on the lab's bridge)", id, side, show(sq["loss_percent"], true))
		}
		if mos, has := sq.Float("mos"); !has || mos < minMOS {
			t.Errorf("%s: quality.%s.mos = %s, want ≥ %v for a clean G.711 call", id, side, show(sq["mos"], true), minMOS)
		}
	}
	if show(q["one_way_audio"], true) != "false" {
		t.Errorf("%s: quality.one_way_audio = %s, both phones send audio", id, show(q["one_way_audio"], true))
	}
}

// captureOnsets finds each side's onset in the capture: the caller's audio
// is what was sent to the callee's SDP address and the reverse.
func captureOnsets(t *testing.T, pcap string, leg *legTruth) (onsets, found) {
	t.Helper()

	extra := []string{"-d", "udp.port==5062,sip", "-d", "tcp.port==5062,sip"}
	callerAddrs, calleeAddrs := nettest.SDPSides(t, pcap, leg.callID, extra...)
	pkts := tsharkAudio(t, pcap, extra...)
	var on onsets
	var ok found
	on.caller, ok.caller = onsetOf(frames(pkts, calleeAddrs, leg.answered, leg.ended))
	on.callee, ok.callee = onsetOf(frames(pkts, callerAddrs, leg.answered, leg.ended))

	return on, ok
}

// audioPacket is one G.711 RTP packet as tshark decoded it.
type audioPacket struct {
	at      time.Time
	dst     string
	alaw    bool
	payload []byte
}

// tsharkAudio extracts the G.711 RTP packets of a capture with tshark.
func tsharkAudio(t *testing.T, pcap string, extra ...string) []audioPacket {
	t.Helper()

	args := append(append([]string{"-n", "-r", pcap}, extra...), "-Y", "rtp && (rtp.p_type == 0 || rtp.p_type == 8)",
		"-T", "fields", "-E", "separator=|",
		"-e", "frame.time_epoch", "-e", "ip.dst", "-e", "udp.dstport", "-e", "rtp.p_type", "-e", "rtp.payload")
	out := runOut(context.Background(), t, 60*time.Second, "tshark", args...)
	var pkts []audioPacket
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 5 || f[4] == "" {
			continue
		}
		at, err := epochTime(f[0])
		if err != nil {
			t.Fatalf("tshark time %q: %v", f[0], err)
		}
		payload, err := hex.DecodeString(strings.ReplaceAll(f[4], ":", ""))
		if err != nil {
			t.Fatalf("tshark payload %q: %v", f[4], err)
		}
		pkts = append(pkts, audioPacket{at: at, dst: f[1] + ":" + f[2], alaw: f[3] == "8", payload: payload})
	}

	return pkts
}

// epochTime parses tshark's frame.time_epoch (seconds.nanoseconds) exactly.
func epochTime(s string) (time.Time, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	ns, err := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	if err != nil {
		return time.Time{}, err
	}

	return time.Unix(secs, ns), nil
}

// frame is one 10 ms frame: its start and its level in dBov.
type frame struct {
	at    time.Time
	level float64
}

// frames cuts the packets sent to one of dsts in [from, to) into 10 ms
// frames, in capture order.
func frames(pkts []audioPacket, dsts map[string]bool, from, to time.Time) []frame {
	if to.IsZero() {
		to = from.Add(24 * time.Hour)
	}
	var fs []frame
	for _, p := range pkts {
		if !dsts[p.dst] || p.at.Before(from) || !p.at.Before(to) {
			continue
		}
		dec := ulawToLinear
		if p.alaw {
			dec = alawToLinear
		}
		for k := 0; (k+1)*frameSamples <= len(p.payload); k++ {
			var sum float64
			for _, c := range p.payload[k*frameSamples : (k+1)*frameSamples] {
				v := float64(dec(c))
				sum += v * v
			}
			fs = append(fs, frame{at: p.at.Add(time.Duration(k) * 10 * time.Millisecond), level: dbov(sum / frameSamples)})
		}
	}

	return fs
}

// dbov is a mean power of 16-bit samples in dB relative to full scale.
func dbov(power float64) float64 {
	if power <= 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(power/(32768*32768))
}

// onsetOf is the method at the top of this file, steps 3–5.
func onsetOf(fs []frame) (time.Time, bool) {
	if len(fs) == 0 {
		return time.Time{}, false
	}
	floor := quietestSecond(fs)
	for _, f := range fs {
		if f.level >= floor+onsetMargin {
			return f.at, true
		}
	}
	// No quiet stretch: the sound starts with the stream.
	for _, f := range fs {
		if f.level >= onsetIdle+onsetMargin {
			return f.at, true
		}
	}

	return time.Time{}, false
}

// quietestSecond is the lowest mean power, in dBov, of any floorFrames
// consecutive frames (all of them when fewer), not below onsetIdle.
func quietestSecond(fs []frame) float64 {
	n := min(floorFrames, len(fs))
	power := func(f frame) float64 { return math.Pow(10, f.level/10) }
	var sum float64
	for _, f := range fs[:n] {
		sum += power(f)
	}
	low := sum
	for i := n; i < len(fs); i++ {
		sum += power(fs[i]) - power(fs[i-n])
		low = min(low, sum)
	}

	return max(dbov(low/float64(n)*32768*32768), onsetIdle)
}
