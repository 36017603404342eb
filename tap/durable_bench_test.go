package tap_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// benchCalls is the size of the recording benchmarks' capture (issue 12
// measured 400 calls).
const benchCalls = 400

// BenchmarkReplayRecording replays a generated capture of benchCalls
// answered calls with RTP both ways, without the recorder and with it on
// the real disk (files made durable by the committer), and reports the
// capture loop's time (Replay), the time Close then waits for the disk,
// and the process's CPU time, per replay; disk-goroutine has the recorder
// on a goroutine of its own (WithRecorderGoroutine).
func BenchmarkReplayRecording(b *testing.B) {
	path := benchLoad(b)
	b.Run("off", func(b *testing.B) { benchReplay(b, path, nil) })
	b.Run("disk", func(b *testing.B) { benchReplay(b, path, &recorder.Config{}) })
	b.Run("disk-goroutine", func(b *testing.B) { benchReplay(b, path, &recorder.Config{}, tap.WithRecorderGoroutine()) })
}

// BenchmarkReplayRecordingSyncOnClose is replay's mode: one sync at Close.
func BenchmarkReplayRecordingSyncOnClose(b *testing.B) {
	path := benchLoad(b)
	b.Run("inline", func(b *testing.B) { benchReplay(b, path, &recorder.Config{SyncOnClose: true}) })
	b.Run("goroutine", func(b *testing.B) {
		benchReplay(b, path, &recorder.Config{SyncOnClose: true}, tap.WithRecorderGoroutine())
	})
}

func benchLoad(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "load.pcap")
	if err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) error {
		_, _, err := pcapgen.Load(w, benchCalls, pcapgen.BaseTime())
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchReplay(b *testing.B, path string, cfg *recorder.Config, extra ...tap.PipelineOption) {
	var loop, closing time.Duration
	cpu0 := cpuTime()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		dir, err := os.MkdirTemp(b.TempDir(), "rec")
		if err != nil {
			b.Fatal(err)
		}
		src, err := capture.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var opts []tap.PipelineOption
		var rec *recorder.Recorder
		if cfg != nil {
			c := *cfg
			c.Dir = dir
			if rec, err = recorder.New(c, discard()); err != nil {
				b.Fatal(err)
			}
			opts = append(opts, tap.WithRecorder(rec))
			opts = append(opts, extra...)
		}
		ids := make(map[string]bool, benchCalls)
		p := tap.NewPipeline(sip.DefaultTrackerConfig(), func(c sip.Call) { ids[c.ID] = true }, discard(), opts...)
		start := time.Now()
		if err := tap.Replay(context.Background(), src, p); err != nil {
			b.Fatal(err)
		}
		loop += time.Since(start)
		start = time.Now()
		if rec != nil {
			if err := rec.Close(); err != nil {
				b.Fatal(err)
			}
		}
		closing += time.Since(start)
		b.StopTimer()
		src.Close()
		if len(ids) != benchCalls {
			b.Fatalf("%d records, want %d", len(ids), benchCalls)
		}
		if rec != nil {
			if st := rec.Stats(); st.FilesWritten != benchCalls {
				b.Fatalf("%d files written, want %d", st.FilesWritten, benchCalls)
			}
		}
		_ = os.RemoveAll(dir)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(loop.Milliseconds())/n, "capture-ms/op")
	b.ReportMetric(float64(closing.Milliseconds())/n, "close-ms/op")
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/n, "cpu-ms/op")
}

// cpuTime is the process's user and system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// nopStore takes every record at once.
type nopStore struct{}

func (nopStore) PutCalls(context.Context, []sip.Call) error { return nil }

// BenchmarkCaptureLoopRecording runs the daemon's capture loop over
// benchCalls calls with the recorder on the real disk and reports the
// loop's time per call and the worst time it spent on one frame (a stall:
// an fsync in the loop shows here).
func BenchmarkCaptureLoopRecording(b *testing.B) {
	frames := readFrames(b, benchLoad(b))
	var perCall, worst time.Duration
	for b.Loop() {
		rec, err := recorder.New(recorder.Config{Dir: b.TempDir()}, discard())
		if err != nil {
			b.Fatal(err)
		}
		src := newMemLive(frames)
		d := tap.NewDaemon(tap.DaemonConfig{Tracker: sip.DefaultTrackerConfig(), Pipeline: []tap.PipelineOption{tap.WithRecorder(rec)}},
			src, nopStore{}, discard())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		<-src.consumed
		for d.Backlog() != 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
		perCall += src.total / benchCalls
		worst = max(worst, src.worst)
	}
	b.ReportMetric(float64(perCall.Microseconds())/float64(b.N), "loop-µs/call")
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-frame-ms")
}
