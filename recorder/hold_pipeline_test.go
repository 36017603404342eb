package recorder_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// TestHoldThroughPipeline replays the synthetic attended transfer (the
// receptionist holds leg A with a re-INVITE sendonly, consults, then
// transfers; leg A ends without being resumed) through the tap pipeline:
// leg A's record says it was on hold from the re-INVITE's capture time,
// found here in the raw SIP, to its end; the other legs were never held.
// The scenario sends no RTP: the hold figure is the SDP's alone.
func TestHoldThroughPipeline(t *testing.T) {
	holdAt := map[string]time.Time{} // Call-ID → capture time of its sendonly re-INVITE
	onSIP := func(raw []byte, m *sip.Message, d *capture.Datagram) {
		if m.IsRequest && m.Method == "INVITE" && m.ToTag != "" && bytes.Contains(raw, []byte("a=sendonly")) {
			if _, ok := holdAt[m.CallID]; !ok {
				holdAt[m.CallID] = d.Time
			}
		}
	}
	calls, _ := replayScenario(t, "attended-transfer", onSIP)
	if len(holdAt) != 1 {
		t.Fatalf("hold re-INVITEs %v, want one", holdAt)
	}
	held := 0
	for _, c := range calls {
		at, ok := holdAt[c.CallID]
		if !ok {
			if c.Quality != nil && c.Quality.HoldSeconds != 0 {
				t.Errorf("%s: never held, hold %v s", c.CallID, c.Quality.HoldSeconds)
			}
			continue
		}
		held++
		if c.Recording == nil || c.Recording.File == "" || c.EndedAt == nil || c.Quality == nil {
			t.Fatalf("%s: held leg: recording %+v, ended %v, quality %+v", c.CallID, c.Recording, c.EndedAt, c.Quality)
		}
		want := c.EndedAt.Sub(at).Seconds()
		if got := c.Quality.HoldSeconds; got < want-0.0005 || got > want+0.0005 {
			t.Errorf("%s: hold %v s, want %.6f (re-INVITE at %v, end %v)", c.CallID, got, want, at, *c.EndedAt)
		}
		if c.Quality.Caller != nil || c.Quality.Callee != nil || c.Quality.HoldAudioSeconds != 0 {
			t.Errorf("%s: no RTP in this scenario, quality %+v", c.CallID, *c.Quality)
		}
		t.Logf("%s: on hold %.3f s of the %.3f s answered", c.CallID, c.Quality.HoldSeconds, c.EndedAt.Sub(*c.AnsweredAt).Seconds())
	}
	if held != 1 {
		t.Errorf("%d held legs in the records, want 1", held)
	}
}

// TestHoldRefusedThroughPipeline replays the hold-refused scenario (RTP
// both ways for 20 s; a hold re-INVITE refused with 488, a second one
// accepted, a third resuming): the record's hold is the accepted hold's
// span alone, to the capture times of its re-INVITEs, and the recording
// has every packet of both ways (the refused re-INVITE moved nothing).
func TestHoldRefusedThroughPipeline(t *testing.T) {
	var reinvites []time.Time
	onSIP := func(raw []byte, m *sip.Message, d *capture.Datagram) {
		if m.IsRequest && m.Method == "INVITE" && m.ToTag != "" {
			reinvites = append(reinvites, d.Time)
		}
	}
	calls, rec := replayScenario(t, "hold-refused", onSIP)
	if len(reinvites) != 3 {
		t.Fatalf("re-INVITEs at %v, want three", reinvites)
	}
	if len(calls) != 1 {
		t.Fatalf("%d records, want 1", len(calls))
	}
	c := calls[0]
	if c.Recording == nil || c.Recording.File == "" || c.Quality == nil {
		t.Fatalf("recording %+v, quality %+v", c.Recording, c.Quality)
	}
	want := reinvites[2].Sub(reinvites[1]).Seconds()
	if want != pcapgen.HoldRefusedSeconds {
		t.Fatalf("the capture's hold %v s, the generator says %v s", want, pcapgen.HoldRefusedSeconds)
	}
	if got := c.Quality.HoldSeconds; got < want-0.0005 || got > want+0.0005 {
		t.Errorf("hold %v s, want %.6f: the refused re-INVITE at %v counted", got, want, reinvites[0])
	}
	if c.Quality.HoldAudioSeconds != 0 {
		t.Errorf("audio hold %v s: RTP flowed both ways throughout", c.Quality.HoldAudioSeconds)
	}
	if c.Recording.Caller.Packets != 1000 || c.Recording.Callee.Packets != 1000 {
		t.Errorf("recorded caller %+v callee %+v, want 1000 packets each way", c.Recording.Caller, c.Recording.Callee)
	}
	if n := rec.Stats().OffersRefused; n != 1 {
		t.Errorf("OffersRefused %d, want 1", n)
	}
}

// replayScenario writes the synthetic scenario name and replays it (replayFile).
func replayScenario(t *testing.T, name string, onSIP func(raw []byte, m *sip.Message, d *capture.Datagram)) ([]sip.Call, *recorder.Recorder) {
	t.Helper()
	sc, err := pcapgen.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".pcap")
	if _, err := sc.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return replayFile(t, path, onSIP)
}

// replayFile replays the capture file path through the tap pipeline with a
// recorder (syncing at close), onSIP (if not nil) seeing every SIP
// message; it returns the records and the closed recorder.
func replayFile(t *testing.T, path string, onSIP func(raw []byte, m *sip.Message, d *capture.Datagram)) ([]sip.Call, *recorder.Recorder) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec, err := recorder.New(recorder.Config{Dir: t.TempDir(), SyncOnClose: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var col tap.Collector
	opts := []tap.PipelineOption{tap.WithRecorder(rec)}
	if onSIP != nil {
		opts = append(opts, tap.WithSIP(onSIP))
	}
	p := tap.NewPipeline(sip.DefaultTrackerConfig(), col.Add, log, opts...)
	if err := tap.Replay(context.Background(), src, p); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return col.Calls(), rec
}
