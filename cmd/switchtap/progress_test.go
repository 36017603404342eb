package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
)

var progT0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func TestFormatProgress(t *testing.T) {
	const load = 144_464_687 // bytes of pcapgen's 2,000-call load
	for _, tc := range []struct {
		name string
		s    progressSample
		want string
	}{
		{"start", progressSample{in: capture.Progress{Total: load}},
			"0% 0.0/144.5 MB, 0 pkts, 0 calls, --:-- left"},
		{"midway", progressSample{in: capture.Progress{Bytes: 61_200_000, Total: load, Frames: 1_234_567}, calls: 812, elapsed: 3 * time.Second},
			// 3 s for 61.2 MB: 83.3 MB left take 4.08 s, shown rounded up.
			"42% 61.2/144.5 MB, 1.23M pkts, 812 calls, 411.5k pkt/s, 20.4 MB/s, 0:05 left"},
		{"done", progressSample{in: capture.Progress{Bytes: load, Total: load, Frames: 2_910_000, Done: true}, calls: 2000, elapsed: 300 * time.Millisecond},
			"100% 144.5/144.5 MB, 2.91M pkts, 2000 calls, 9.70M pkt/s, 481.5 MB/s, 0:00 left"},
		{"realtime", progressSample{realtime: true, elapsed: 61 * time.Second, calls: 7,
			in: capture.Progress{Bytes: 10e6, Total: 100e6, Frames: 50_000, First: progT0, Last: progT0.Add(time.Minute)}},
			// A minute of capture in 10 MB: 90 MB more are 9 minutes of
			// capture, whatever the wall clock did.
			"10% 10.0/100.0 MB, 50.0k pkts, 7 calls, 820 pkt/s, 163.9 kB/s, 9:00 left"},
		{"realtime one frame", progressSample{realtime: true, elapsed: time.Second,
			in: capture.Progress{Bytes: 1000, Total: 100e6, Frames: 1, First: progT0, Last: progT0}},
			"0% 0.0/100.0 MB, 1 pkts, 0 calls, 1 pkt/s, 1.0 kB/s, --:-- left"},
		{"unknown total", progressSample{in: capture.Progress{Bytes: 5e6, Frames: 20_000}, calls: 3, elapsed: 2 * time.Second},
			"5.0 MB, 20.0k pkts, 3 calls, 10.0k pkt/s, 2.5 MB/s"},
		{"hours left", progressSample{in: capture.Progress{Bytes: 1e9, Total: 4e9, Frames: 5e6}, elapsed: 1500 * time.Second},
			"25% 1.0/4.0 GB, 5.00M pkts, 0 calls, 3333 pkt/s, 666.7 kB/s, 1:15:00 left"},
		{"small file", progressSample{in: capture.Progress{Bytes: 220, Total: 500, Frames: 3}, elapsed: time.Millisecond},
			"44% 220/500 B, 3 pkts, 0 calls, 3000 pkt/s, 220.0 kB/s, 0:01 left"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := formatProgress(tc.s)
			if got != tc.want {
				t.Fatalf("\ngot  %q\nwant %q", got, tc.want)
			}
			if len(got) > 79 {
				t.Fatalf("%d columns: wraps on an 80-column terminal", len(got))
			}
		})
	}
}

func TestFormatFinal(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    progressSample
		want string
	}{
		{"done", progressSample{in: capture.Progress{Bytes: 144_464_687, Total: 144_464_687, Frames: 2_910_000, Done: true}, calls: 2000, elapsed: 300 * time.Millisecond},
			"switchtap: read 144.5 MB, 2.91M packets in 0.3s (9.70M pkt/s, 481.5 MB/s), 2000 calls"},
		{"interrupted", progressSample{in: capture.Progress{Bytes: 61_200_000, Total: 144_464_687, Frames: 1_234_567}, calls: 812, elapsed: 3 * time.Second},
			"switchtap: stopped at 42%, read 61.2/144.5 MB, 1.23M packets in 3.0s (411.5k pkt/s, 20.4 MB/s), 812 calls"},
		{"minutes", progressSample{in: capture.Progress{Bytes: 1e9, Total: 1e9, Frames: 5e6, Done: true}, elapsed: 75*time.Second + 600*time.Millisecond},
			"switchtap: read 1.0 GB, 5.00M packets in 1:15 (66.1k pkt/s, 13.2 MB/s), 0 calls"},
		{"nothing", progressSample{in: capture.Progress{Done: true}},
			"switchtap: read 0 B, 0 packets in 0.0s, 0 calls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatFinal(tc.s); got != tc.want {
				t.Fatalf("\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// fakeProgress scripts what a progress line reads: each redraw takes the
// next figures and a clock one second later.
type fakeProgress struct {
	ins   []capture.Progress
	calls int
	now   time.Time
	// endAfter is how many redraws happen before ended reports the end.
	endAfter int
	ticks    chan time.Time
	stopped  bool
}

func (f *fakeProgress) env() progressEnv {
	return progressEnv{
		now: func() time.Time {
			t := f.now
			f.now = f.now.Add(time.Second)
			return t
		},
		ticker: func(d time.Duration) (<-chan time.Time, func()) {
			if d != progressEvery {
				panic("unexpected ticker period")
			}
			return f.ticks, func() { f.stopped = true }
		},
	}
}

func (f *fakeProgress) input() capture.Progress {
	p := f.ins[min(f.calls, len(f.ins)-1)]
	f.calls++
	return p
}

// TestProgressLine runs the line with a fake clock and ticker: it is
// drawn at once and at each tick in place (\r, a shorter line padded over
// the longer one, cut to the terminal's width), and replaced by the final
// line when the work ends.
func TestProgressLine(t *testing.T) {
	f := &fakeProgress{now: progT0, endAfter: 2, ticks: make(chan time.Time),
		ins: []capture.Progress{
			{Bytes: 50e6, Total: 100e6, Frames: 100_000},
			{Bytes: 99e6, Total: 100e6, Frames: 1},
			{Bytes: 100e6, Total: 100e6, Frames: 200_000, Done: true},
		}}
	var buf bytes.Buffer
	p := newProgressTo(&buf, 70, false, f.env())
	calls := uint64(0)
	p.follow(f.input, func() uint64 { calls += 10; return calls }, func() bool { return f.calls >= f.endAfter })
	stop := p.run(context.Background())
	f.ticks <- progT0 // redraw 2
	f.ticks <- progT0 // ended: the final line
	stop()
	stop() // idempotent
	line1 := "50% 50.0/100.0 MB, 100.0k pkts, 10 calls, 100.0k pkt/s, 50.0 MB/s, 0:01 left"[:69]
	line2 := "99% 99.0/100.0 MB, 1 pkts, 20 calls, 0 pkt/s, 49.5 MB/s, 0:01 left"
	final := "switchtap: read 100.0 MB, 200.0k packets in 3.0s (66.7k pkt/s, 33.3 MB/s), 30 calls\n"
	want := "\r" + line1 +
		"\r" + line2 + strings.Repeat(" ", len(line1)-len(line2)) +
		"\r" + strings.Repeat(" ", len(line2)) + "\r" + final
	if got := buf.String(); got != want {
		t.Fatalf("\ngot  %q\nwant %q", got, want)
	}
	if !f.stopped {
		t.Fatal("ticker not stopped")
	}
}

// TestProgressWriter draws the line with explicit ticks: a message
// written meanwhile blanks the line first, the next tick draws it again,
// and the final line (stopped at N%: the input did not end) replaces it.
func TestProgressWriter(t *testing.T) {
	f := &fakeProgress{now: progT0, ins: []capture.Progress{{Bytes: 25, Total: 100, Frames: 2}}}
	var buf bytes.Buffer
	p := newProgressTo(&buf, 80, false, f.env())
	p.follow(f.input, nil, nil)
	p.start = progT0.Add(-time.Second)
	w := p.writer(&buf)
	p.tick()
	if _, err := w.Write([]byte("switchtap: warning: x\n")); err != nil {
		t.Fatal(err)
	}
	p.tick()
	p.finish()
	if _, err := w.Write([]byte("after\n")); err != nil {
		t.Fatal(err)
	}
	line1 := "25% 25/100 B, 2 pkts, 0 calls, 2 pkt/s, 25 B/s, 0:03 left"
	line2 := "25% 25/100 B, 2 pkts, 0 calls, 1 pkt/s, 12 B/s, 0:06 left"
	want := "\r" + line1 +
		"\r" + strings.Repeat(" ", len(line1)) + "\r" + "switchtap: warning: x\n" +
		"\r" + line2 +
		"\r" + strings.Repeat(" ", len(line2)) + "\r" +
		"switchtap: stopped at 25%, read 25/100 B, 2 packets in 3.0s (1 pkt/s, 8 B/s), 0 calls\n" +
		"after\n"
	if got := buf.String(); got != want {
		t.Fatalf("\ngot  %q\nwant %q", got, want)
	}
}

// TestProgressStopEarly: stop before the input ends (an error, Ctrl-C)
// draws the final line after the first one.
func TestProgressStopEarly(t *testing.T) {
	f := &fakeProgress{now: progT0, ticks: make(chan time.Time), ins: []capture.Progress{{Bytes: 25, Total: 100, Frames: 2}}}
	var buf bytes.Buffer
	p := newProgressTo(&buf, 80, false, f.env())
	p.follow(f.input, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	stop := p.run(ctx)
	cancel()
	stop()
	line := "25% 25/100 B, 2 pkts, 0 calls, 2 pkt/s, 25 B/s, 0:03 left"
	want := "\r" + line + "\r" + strings.Repeat(" ", len(line)) + "\r" +
		"switchtap: stopped at 25%, read 25/100 B, 2 packets in 2.0s (1 pkt/s, 12 B/s), 0 calls\n"
	if got := buf.String(); got != want {
		t.Fatalf("\ngot  %q\nwant %q", got, want)
	}
}

// TestProgressNotATerminal: no line unless stderr is a terminal; a nil
// progress passes everything through.
func TestProgressNotATerminal(t *testing.T) {
	file, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if p := newProgress(file, false, progressEnv{}); p != nil {
		t.Fatal("a progress line on a plain file")
	}
	if p := newProgress(&bytes.Buffer{}, false, progressEnv{}); p != nil {
		t.Fatal("a progress line on a buffer")
	}
	yes := progressEnv{isTerminal: func(int) bool { return true }, width: func(int) (int, error) { return 100, nil }}
	if p := newProgress(file, false, yes); p == nil || p.width != 100 {
		t.Fatalf("terminal said yes: %+v", p)
	}
	var nilP *progress
	var buf bytes.Buffer
	if nilP.writer(&buf) != &buf {
		t.Fatal("nil progress wraps the writer")
	}
	src := capture.Source(nil)
	if nilP.watch(src) != src {
		t.Fatal("nil progress wraps the source")
	}
	nilP.follow(nil, nil, nil)
	nilP.run(context.Background())()
}

// TestReplayNoProgressOnFile: replay with stderr on a plain file (a
// redirect, systemd's journal) writes the same stderr as always, no line.
func TestReplayNoProgressOnFile(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "load.pcap")
	if err := pcapgen.WriteFile(pcap, func(w *pcapgen.Writer) error {
		if _, _, err := pcapgen.Load(w, 5, pcapgen.BaseTime()); err != nil {
			return err
		}
		return w.Flush()
	}); err != nil {
		t.Fatal(err)
	}
	errFile, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"replay", pcap}, strings.NewReader(""), &stdout, errFile); err != nil {
		t.Fatal(err)
	}
	if err := errFile.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(errFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.HasSuffix(got, ", 5 calls\n") {
		t.Fatalf("stderr %q: no summary of 5 calls", got)
	}
	if strings.ContainsAny(got, "\r") || strings.Contains(got, "switchtap: read") || strings.Contains(got, "left") {
		t.Fatalf("progress written to a plain file: %q", got)
	}
}
