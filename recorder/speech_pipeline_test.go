package recorder_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/speech/speechtest"
)

// TestSpeechThroughGenerator: spoken fixtures (espeak-ng phrases at known
// offsets shaped with sox: overtalk, noise at 20 dB SNR, comfort noise at
// -60 dBov with DTX gaps) are written by the synthetic generator as a call
// whose RTP carries them (μ-law, 20 ms, silent packets left out), and
// replayed through the tap pipeline with a recorder: the record's speech
// has the onsets within 30 ms and talk, silence and overtalk within 2 % of
// the truth found in the clean phrases (speechtest.Check).
func TestSpeechThroughGenerator(t *testing.T) {
	sec := func(s float64) int { return int(s * speechtest.Rate) }
	base := func(t *testing.T, over bool) *speechtest.Timeline {
		tl := speechtest.NewTimeline(14)
		tl.Say(speechtest.Callee, sec(0.85), speechtest.Phrase(t, "en+f3", "Good morning this is the front desk"))
		tl.Say(speechtest.Callee, sec(4.1), speechtest.Phrase(t, "en+f3", "How may I help you today"))
		at := 6.6
		if over {
			at = 4.6 // the caller starts while the callee still talks
		}
		tl.Say(speechtest.Caller, sec(at), speechtest.Phrase(t, "en", "I would like to book a room for Friday"))
		tl.Say(speechtest.Caller, sec(10.3), speechtest.Phrase(t, "en", "Thank you very much"))
		return tl
	}
	tests := []struct {
		name  string
		build func(t *testing.T) *speechtest.Timeline
		dtx   bool
	}{
		{"overtalk, silence suppressed", func(t *testing.T) *speechtest.Timeline { return base(t, true) }, true},
		{"noise at 20 dB SNR", func(t *testing.T) *speechtest.Timeline {
			tl := base(t, false)
			for s := range 2 {
				tl.Add(s, 0, speechtest.Noise(t, "whitenoise", len(tl.Side[s]), tl.SpeechRMS(s)/math.Pow(10, 20.0/20)))
			}
			return tl
		}, false},
		{"comfort noise with DTX gaps", func(t *testing.T) *speechtest.Timeline {
			tl := base(t, false)
			for s := range 2 {
				tl.Add(s, 0, speechtest.Noise(t, "pinknoise", len(tl.Side[s]), math.Pow(10, -60.0/20)))
			}
			tl.Fill(speechtest.Callee, speechtest.Span{From: sec(2.9), To: sec(3.9)}, 0)
			tl.Fill(speechtest.Caller, speechtest.Span{From: 0, To: sec(6.2)}, 0)
			tl.Fill(speechtest.Caller, speechtest.Span{From: sec(9.2), To: sec(10.1)}, 0)
			return tl
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := tt.build(t)
			path := filepath.Join(t.TempDir(), "spoken.pcap")
			var sent int
			var want pcapgen.Expect
			err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) (err error) {
				want, err = pcapgen.WriteAudioCall(w, "spoken", pcapgen.BaseTime(), pcapgen.AudioCall{
					Caller: tl.Side[speechtest.Caller], Callee: tl.Side[speechtest.Callee], DTX: tt.dtx, DTXLevel: 16})
				sent = w.Frames()
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			calls, _ := replayFile(t, path, nil)
			if len(calls) != 1 || calls[0].Speech == nil || calls[0].Recording == nil {
				t.Fatalf("records %+v: want one recorded leg with speech", calls)
			}
			c := calls[0]
			// The audio's time zero, which the truth is measured from.
			if c.AnsweredAt == nil || !c.AnsweredAt.Equal(*want.AnsweredAt) {
				t.Fatalf("answered %v, the generator answered at %v", c.AnsweredAt, *want.AnsweredAt)
			}
			all := 2 * len(tl.Side[0]) / pcapgen.RTPPayloadSize
			got := int(c.Recording.Caller.Packets + c.Recording.Callee.Packets)
			if tt.dtx && got >= all || !tt.dtx && got != all {
				t.Fatalf("%d RTP packets recorded of %d frames written, %d in the audio (DTX %v)", got, sent, all, tt.dtx)
			}
			speechtest.Check(t, c.Speech, tl)
			t.Logf("%d packets; greeting %.3f s, caller first %.3f s, talk %+v, silence %.3f s, overtalk %.3f s",
				got, *c.Speech.GreetingLatencySeconds, *c.Speech.CallerFirstSeconds, c.Speech.TalkSeconds, c.Speech.SilenceSeconds, c.Speech.OvertalkSeconds)
		})
	}
}
