package recorder

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/switchtap/switchtap/speech"
	"github.com/switchtap/switchtap/speech/speechtest"
	"github.com/zaf/g711"
)

// TestSpeechFromRTP sends a spoken leg (overtalk, DTX: no packets while a
// side is silent) as 20 ms μ-law RTP both ways through the recorder: the
// figures come from the decoded, placed audio the mixer flushes.
func TestSpeechFromRTP(t *testing.T) {
	tl := speechtest.NewTimeline(12)
	tl.Say(speechtest.Callee, 6800, speechtest.Phrase(t, "en+f3", "Good morning this is the front desk"))
	tl.Say(speechtest.Callee, 50000, speechtest.Phrase(t, "en+f3", "How may I help you today"))
	tl.Say(speechtest.Caller, 38000, speechtest.Phrase(t, "en", "I would like to book a room for Friday"))
	tl.Say(speechtest.Caller, 80000, speechtest.Phrase(t, "en", "Thank you very much"))

	r, err := New(Config{Dir: filepath.Join(t.TempDir(), "rec")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	m := r.legs[callID].mix
	if m.speech, err = newSpeechTap(m.f, speech.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	sent := [2]int{}
	for k := 0; (k+1)*160 <= len(tl.Side[0]); k++ {
		at := t0.Add(time.Duration(k) * 20 * time.Millisecond)
		for side := range 2 {
			s := tl.Side[side][k*160 : (k+1)*160]
			if quiet(s) {
				continue // DTX: the sender sends nothing
			}
			p := make([]byte, 160)
			for i, v := range s {
				p[i] = g711.EncodeUlawFrame(v)
			}
			src, dst := callerAddr, calleeAddr
			if side == speechtest.Callee {
				src, dst = calleeAddr, callerAddr
			}
			h := pkt{seq: uint16(k), ts: uint32(k) * 160, ssrc: uint32(side + 1), raw: p} //nolint:gosec // G115: small.
			if !r.Packet(datagram(src, dst, at, h.marshal(t))) {
				t.Fatal("packet not matched")
			}
			sent[side]++
		}
	}
	if sent[0] == 0 || sent[1] == 0 || sent[0] == len(tl.Side[0])/160 {
		t.Fatalf("packets sent %v: the fixture has no DTX gap or no audio", sent)
	}
	r.End(callID, t0.Add(12*time.Second))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got := m.speech.result()
	speechtest.Check(t, got, tl)
}

func quiet(s []int16) bool {
	for _, v := range s {
		if v > 16 || v < -16 {
			return false
		}
	}
	return true
}

// TestSpeechTapNil: a leg without an analyzer has no speech figures and
// flushes as before.
func TestSpeechTapNil(t *testing.T) {
	var tap *speechTap
	tap.feed(&mixer{}, 10)
	if tap.result() != nil {
		t.Fatal("nil tap has a result")
	}
}

// BenchmarkRecordPacketSpeech is BenchmarkRecordPacket with the leg's
// speech analyzer on: the per-packet cost of issue 13's detector.
func BenchmarkRecordPacketSpeech(b *testing.B) {
	r, err := New(Config{Dir: filepath.Join(b.TempDir(), "rec")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	m := r.legs[callID].mix
	if m.speech, err = newSpeechTap(m.f, speech.DefaultConfig()); err != nil {
		b.Fatal(err)
	}
	raw := make([]byte, 160)
	for i := range raw {
		raw[i] = byte(i * 7) // loud, changing: the analyzer works on every frame
	}
	buf := pkt{ssrc: 1, raw: raw}.marshal(b)
	d := datagram(callerAddr, calleeAddr, t0, buf)
	back := datagram(calleeAddr, callerAddr, t0, append([]byte(nil), buf...))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		dd := d
		if i&1 == 1 {
			dd = back
		}
		n := uint32(i / 2) //nolint:gosec // G115: the benchmark's count.
		dd.Time = t0.Add(time.Duration(n) * 20 * time.Millisecond)
		p := dd.Payload
		p[2], p[3] = byte(n>>8), byte(n)
		ts := n * 160
		p[4], p[5], p[6], p[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		if !r.Packet(dd) {
			b.Fatal("not matched")
		}
	}
	b.StopTimer()
	r.End(callID, t0.Add(time.Duration(b.N/2)*20*time.Millisecond))
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(r.Stats().Cut), "cut")
}
