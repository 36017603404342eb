package tap_test

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// FuzzPipeline feeds arbitrary frames, after the frames of a real call,
// through the whole pipeline with the recorder and the alarm on: nothing
// may panic, and every leg opened must come out as a record.
func FuzzPipeline(f *testing.F) {
	sc, err := pcapgen.Lookup("answered")
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "answered.pcap")
	if _, err := sc.WriteFile(path); err != nil {
		f.Fatal(err)
	}
	base := readFrames(f, path)
	for i, fr := range base {
		if i%7 == 0 {
			f.Add(fr.Data, uint8(i))
		}
	}
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, frame []byte, at uint8) {
		rec, err := recorder.New(recorder.Config{Dir: t.TempDir()}, discard())
		if err != nil {
			t.Fatal(err)
		}
		var col tap.Collector
		closed := 0
		p := tap.NewPipeline(sip.DefaultTrackerConfig(), col.Add, discard(),
			tap.WithRecorder(rec),
			tap.WithAlarm(device.NewPolicy(device.PolicyConfig{Ring: sip.DefaultRingPolicy(), MaxRinging: 5 * time.Minute}), func([]device.Edge, device.PanelState) {}),
			tap.WithClosed(func(sip.Call) { closed++ }))
		for i, fr := range base {
			p.Frame(fr)
			if i == int(at)%len(base) {
				ci := gopacket.CaptureInfo{Timestamp: fr.Info.Timestamp, CaptureLength: len(frame), Length: len(frame)}
				p.Frame(capture.Frame{Data: frame, Info: ci, LinkType: layers.LinkTypeEthernet})
			}
		}
		p.Flush(tap.FlushEndOfCapture)
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); uint64(closed) != st.Tracker.LegsOpened || st.Tracker.Open != 0 {
			t.Fatalf("%d legs opened, %d closed, %d open", st.Tracker.LegsOpened, closed, st.Tracker.Open)
		}
	})
}

// readFrames returns every frame of a capture file, copied.
func readFrames(tb testing.TB, path string) []capture.Frame {
	tb.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var out []capture.Frame
	for {
		fr, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		fr.Data = bytes.Clone(fr.Data)
		out = append(out, fr)
	}
}
