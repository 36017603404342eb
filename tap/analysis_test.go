package tap_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// TestRecordAnalysis: through the whole pipeline, an answered, recorded
// leg's record carries the recorder's speech and quality figures (issue
// 13), a leg without audio carries neither; and the record's figures are
// those of the recorder's own result (the pipeline adds nothing of its
// own). The public G.711 call has RTP both ways with no loss.
func TestRecordAnalysis(t *testing.T) {
	pcap := filepath.Join(testenv.SharedPcaps(t), "sip-call-rtp-g711.pcap")
	rec, err := recorder.New(recorder.Config{Dir: t.TempDir()}, discard())
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var col tap.Collector
	p := tap.NewPipeline(sip.DefaultTrackerConfig(), col.Add, discard(), tap.WithRecorder(rec))
	if err := tap.Replay(context.Background(), src, p); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	recorded, bare := 0, 0
	for _, c := range col.Calls() {
		if c.Recording == nil || c.Recording.File == "" {
			if c.Speech != nil || c.Quality != nil {
				t.Errorf("%s: no recording but speech %v, quality %v", c.CallID, c.Speech, c.Quality)
			}
			bare++
			continue
		}
		recorded++
		sp, q := rec.Analysis(c.CallID)
		if c.Speech == nil || c.Quality == nil || c.Speech != sp || c.Quality != q {
			t.Fatalf("%s: record's speech %p quality %p, recorder's %p %p", c.CallID, c.Speech, c.Quality, sp, q)
		}
		if got, want := c.Speech.AnalysedSeconds, c.Recording.DurationSeconds; got > want || got < want-0.01 {
			t.Errorf("%s: %.3f s analysed of a %.3f s recording", c.CallID, got, want)
		}
		if c.Speech.GreetingLatencySeconds == nil || c.Speech.TalkSeconds.Callee <= 0 || c.Speech.TalkSeconds.Caller <= 0 {
			t.Errorf("%s: both sides speak in this call: %+v", c.CallID, c.Speech)
		}
		for _, s := range []*sip.StreamQuality{c.Quality.Caller, c.Quality.Callee} {
			if s == nil || s.LossPercent != 0 || s.MOS < 4.3 || s.MOS > 4.5 || s.JitterMaxMs < s.JitterMeanMs {
				t.Errorf("%s: direction %+v, want no loss, MOS 4.3–4.5", c.CallID, s)
			}
		}
		if c.Quality.OneWayAudio {
			t.Errorf("%s: one-way audio on a two-way call", c.CallID)
		}
	}
	if recorded == 0 {
		t.Fatal("no recorded leg")
	}
	t.Logf("%d recorded legs with figures, %d legs without", recorded, bare)
}
