package tap_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// BenchmarkReplayLoad replays a generated capture of 1,000 answered calls
// with RTP both ways (20 ms PCMU) and reports packets per second.
func BenchmarkReplayLoad(b *testing.B) {
	path := filepath.Join(b.TempDir(), "load.pcap")
	var want []pcapgen.Expect
	var packets int
	if err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) (err error) {
		want, packets, err = pcapgen.Load(w, 1000, pcapgen.BaseTime())
		return err
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		src, err := capture.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		// Records are upserts: a call comes at its BYE and again with its
		// whole ladder; count the calls.
		ids := make(map[string]struct{}, len(want))
		p := tap.NewPipeline(sip.DefaultTrackerConfig(), func(c sip.Call) { ids[c.ID] = struct{}{} }, discard())
		if err := tap.Replay(context.Background(), src, p); err != nil {
			b.Fatal(err)
		}
		src.Close()
		if n := len(ids); n != len(want) {
			b.Fatalf("%d records, want %d", n, len(want))
		}
	}
	b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(packets), "packets/replay")
}

// frames returns the frames of a generated scenario.
func frames(b *testing.B, name string) []capture.Frame {
	b.Helper()
	sc, err := pcapgen.Lookup(name)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), name+".pcap")
	if _, err := sc.WriteFile(path); err != nil {
		b.Fatal(err)
	}
	return readFrames(b, path)
}

// BenchmarkPipelineRTP measures one RTP packet (Ethernet/IPv4/UDP, 172
// bytes of RTP) through decode and classification: the path every media
// packet takes. Target: 0 allocations.
func BenchmarkPipelineRTP(b *testing.B) {
	var rtp capture.Frame
	for _, f := range frames(b, "answered") {
		if len(f.Data) == 14+20+8+172 {
			rtp = f
			break
		}
	}
	if rtp.Data == nil || rtp.LinkType != layers.LinkTypeEthernet {
		b.Fatal("no RTP frame in the scenario")
	}
	// With the recorder on, as in the daemon (the packet belongs to no
	// call here: the classify-and-reject path every stray packet takes).
	rec, err := recorder.New(recorder.Config{Dir: b.TempDir()}, discard())
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close()
	p := tap.NewPipeline(sip.DefaultTrackerConfig(), func(sip.Call) {}, discard(), tap.WithRecorder(rec))
	b.ReportAllocs()
	b.SetBytes(int64(len(rtp.Data)))
	for b.Loop() {
		rtp.Info.Timestamp = rtp.Info.Timestamp.Add(20 * time.Millisecond)
		p.Frame(rtp)
	}
	if p.Stats().NonSIP == 0 {
		b.Fatal("RTP not classified")
	}
}

// BenchmarkPipelineSIP measures the SIP messages of one answered call
// (INVITE with SDP, 100, 180, 200 with SDP, ACK, BYE, 200) through decode,
// parsing and call tracking; reported per message.
func BenchmarkPipelineSIP(b *testing.B) {
	var sipFrames []capture.Frame
	for _, f := range frames(b, "answered") {
		if len(f.Data) != 14+20+8+172 {
			sipFrames = append(sipFrames, f)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		p := tap.NewPipeline(sip.DefaultTrackerConfig(), func(sip.Call) {}, discard())
		for _, f := range sipFrames {
			p.Frame(f)
		}
		p.Flush("end")
		if p.Stats().SIPMessages == 0 {
			b.Fatal("no SIP parsed")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(sipFrames)), "ns/message")
}
