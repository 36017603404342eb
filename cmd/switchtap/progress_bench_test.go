package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/tap"
)

// BenchmarkReplayProgress replays a load capture (300 answered calls with
// RTP, as `replay` does without recording) with and without the progress
// line's counting, to show what counting costs a frame: "plain" reads the
// file directly; "chunk" counts as replay does (capture.Count without
// perFrame); "frame" counts frame by frame as run --pcap --realtime does;
// both asked for their figures every progressEvery, as the line does.
// ns/frame is the whole replay's time per frame.
func BenchmarkReplayProgress(b *testing.B) {
	path := filepath.Join(b.TempDir(), "load.pcap")
	var frames int
	if err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) error {
		var err error
		if _, frames, err = pcapgen.Load(w, 300, pcapgen.BaseTime()); err != nil {
			return err
		}
		return w.Flush()
	}); err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	log := slog.New(slog.DiscardHandler)
	for _, mode := range []string{"plain", "chunk", "frame"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				src, err := capture.OpenFiles([]string{path})
				if err != nil {
					b.Fatal(err)
				}
				var (
					wg   sync.WaitGroup
					stop = make(chan struct{})
				)
				if mode != "plain" {
					var c *capture.Counter
					src, c = capture.Count(src, mode == "frame")
					wg.Go(func() {
						t := time.NewTicker(progressEvery)
						defer t.Stop()
						for {
							select {
							case <-stop:
								return
							case <-t.C:
								c.Progress(progressFresh)
							}
						}
					})
				}
				var col tap.Collector
				p := tap.NewPipeline(cfg.TrackerConfig(), col.Add, log)
				if err := tap.Replay(context.Background(), src, p); err != nil {
					b.Fatal(err)
				}
				close(stop)
				wg.Wait()
				_ = src.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(frames), "ns/frame")
		})
	}
}
