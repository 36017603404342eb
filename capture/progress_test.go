package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

// read1 reads one frame and fails on anything else.
func read1(t *testing.T, s Source) Frame {
	t.Helper()
	f, err := s.ReadFrame()
	if err != nil {
		t.Fatalf("ReadFrame: %v", err)
	}
	return f
}

func writeCapFile(t *testing.T, c capFile, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, c.data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCountPerFrame follows one file frame by frame: Progress(0) returns
// what the reader published at the frame after the previous call, exact
// byte offsets (record ends), and the whole file once done.
func TestCountPerFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(*testing.T, [][]byte) capFile
	}{{"pcap", buildPcap}, {"pcapng", pcapngFile}} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.build(t, threeFrames(t))
			src, err := OpenFile(writeCapFile(t, c, "f."+tc.name))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			rd, cnt := Count(src, true)
			if rd == src {
				t.Fatal("per frame: the source is not wrapped")
			}
			total := int64(len(c.data))
			if p := cnt.Progress(0); p != (Progress{Total: total}) {
				t.Fatalf("before reading: %+v, want total %d only", p, total)
			}
			read1(t, rd) // publishes: Progress asked above
			p := cnt.Progress(0)
			if p.Frames != 1 || p.Bytes != int64(c.ends[0]) || !p.First.Equal(t0) || !p.Last.Equal(t0) || p.Done {
				t.Fatalf("after frame 1: %+v, want 1 frame, %d bytes, first=last=%v", p, c.ends[0], t0)
			}
			read1(t, rd) // publishes: asked again
			// Not asked since frame 2: frame 3 is counted, not published.
			read1(t, rd)
			p = cnt.Progress(0)
			if p.Frames != 2 || p.Bytes != int64(c.ends[1]) || !p.First.Equal(t0) || !p.Last.Equal(t0.Add(time.Millisecond)) {
				t.Fatalf("after frame 3: %+v, want frame 2's figures: 2 frames, %d bytes", p, c.ends[1])
			}
			if _, err := rd.ReadFrame(); !errors.Is(err, io.EOF) {
				t.Fatalf("end: %v, want io.EOF", err)
			}
			p = cnt.Progress(0)
			if !p.Done || p.Frames != 3 || p.Bytes != total || p.Total != total {
				t.Fatalf("done: %+v, want 3 frames, %d of %d bytes", p, total, total)
			}
			// A read past the end changes nothing.
			_, _ = rd.ReadFrame()
			if q := cnt.Progress(0); q != p {
				t.Fatalf("after a read past the end: %+v, want %+v", q, p)
			}
		})
	}
}

// TestCountMerged sums the files of OpenFiles, either way, and keeps
// their truncation reports.
func TestCountMerged(t *testing.T) {
	a := buildPcap(t, threeFrames(t))
	b := pcapngFile(t, threeFrames(t))
	// The second file is cut inside its last record.
	cut := b.data[:len(b.data)-3]
	pa := writeCapFile(t, a, "a.pcap")
	pb := filepath.Join(t.TempDir(), "b.pcapng")
	if err := os.WriteFile(pb, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	total := int64(len(a.data) + len(cut))
	for _, perFrame := range []bool{false, true} {
		src, err := OpenFiles([]string{pa, pb})
		if err != nil {
			t.Fatal(err)
		}
		rd, cnt := Count(src, perFrame)
		tr, ok := rd.(Truncating)
		if !ok {
			t.Fatalf("per frame %v: the source read is not Truncating", perFrame)
		}
		var cuts []*TruncatedError
		tr.OnTruncated(func(e *TruncatedError) { cuts = append(cuts, e) })
		if p := cnt.Progress(0); p.Total != total || p.Done {
			t.Fatalf("per frame %v: before reading %+v, want total %d", perFrame, p, total)
		}
		n := len(readAll(t, rd))
		p := cnt.Progress(0)
		// The cut file's tail was read too: the line ends at 100%.
		if n != 5 || p.Frames != 5 || !p.Done || p.Bytes != total {
			t.Fatalf("per frame %v: read %d frames, progress %+v, want 5 frames, %d bytes, done", perFrame, n, p, total)
		}
		if len(cuts) != 1 || cuts[0].Path != pb {
			t.Fatalf("per frame %v: truncations %+v, want %s", perFrame, cuts, pb)
		}
		src.Close()
	}
}

// TestCountByChunk reads a load capture of several read buffers frame by
// frame: the source is read directly, the figures change at every buffer
// refill and always agree (the bytes are where the frames counted end),
// and are exact at the end.
func TestCountByChunk(t *testing.T) {
	path := loadFile(t, 20)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rd, cnt := Count(src, false)
	if rd != src {
		t.Fatal("by chunk: the file is wrapped")
	}
	f := src.(*file)
	ends := map[uint64]int64{0: f.offset()}
	// Nothing is published before the first refill.
	last := cnt.Progress(0)
	if last != (Progress{Total: st.Size()}) {
		t.Fatalf("before reading: %+v", last)
	}
	changes := 0
	for {
		_, err := rd.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ends[f.frames] = f.offset()
		p := cnt.Progress(0)
		if p == last {
			continue
		}
		changes++
		if p.Done {
			t.Fatalf("done before the end: %+v", p)
		}
		if want, ok := ends[p.Frames]; !ok || p.Bytes != want {
			t.Fatalf("%d frames end at %d, progress says %d", p.Frames, want, p.Bytes)
		}
		last = p
	}
	if least := int(st.Size()/fileReadBuffer) - 1; changes < least {
		t.Fatalf("%d updates for %d bytes, want at least %d (one a buffer)", changes, st.Size(), least)
	}
	p := cnt.Progress(0)
	if !p.Done || p.Frames != f.frames || p.Bytes != st.Size() || p.Total != st.Size() {
		t.Fatalf("end %+v, want %d frames, %d bytes, done", p, f.frames, st.Size())
	}
}

// TestCountSmallFileByChunk: a file within one buffer shows nothing until
// its end, then all of it.
func TestCountSmallFileByChunk(t *testing.T) {
	c := buildPcap(t, threeFrames(t))
	src, err := OpenFile(writeCapFile(t, c, "s.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rd, cnt := Count(src, false)
	for range 3 {
		read1(t, rd)
	}
	if p := cnt.Progress(0); p.Frames != 0 || p.Done {
		t.Fatalf("before the end: %+v", p)
	}
	if _, err := rd.ReadFrame(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if p := cnt.Progress(0); p != (Progress{Bytes: int64(len(c.data)), Total: int64(len(c.data)), Frames: 3, Done: true}) {
		t.Fatalf("at the end: %+v", p)
	}
}

// pcapngFile is buildPcapng with the file's bytes, which it leaves out: the
// same frames written again by the same writer.
func pcapngFile(t *testing.T, frames [][]byte) capFile {
	t.Helper()
	c := buildPcapng(t, frames)
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		if err := w.WritePacket(ci(t0.Add(time.Duration(i)*time.Millisecond), len(fr)), fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	c.data = buf.Bytes()
	if len(c.data) != c.ends[len(c.ends)-1] {
		t.Fatalf("pcapng of %d bytes, layout ends at %d", len(c.data), c.ends[len(c.ends)-1])
	}
	return c
}

// TestCounterWaits: Progress with a wait returns the figures the reader
// publishes at its next frame, and the old ones when no frame comes.
func TestCounterWaits(t *testing.T) {
	c := buildPcap(t, threeFrames(t))
	src, err := OpenFile(writeCapFile(t, c, "w.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rd, cnt := Count(src, true)
	start := time.Now()
	if p := cnt.Progress(20 * time.Millisecond); p.Frames != 0 {
		t.Fatalf("nothing read, got %+v", p)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("returned after %v, before its wait with no frame read", d)
	}
	read := make(chan struct{})
	go func() {
		<-read
		_, _ = rd.ReadFrame()
	}()
	got := make(chan Progress)
	go func() { got <- cnt.Progress(time.Minute) }()
	// Read only once the call waits (white box: its channel is set).
	for {
		fc := cnt.perFrame
		fc.mu.Lock()
		waiting := fc.fresh != nil
		fc.mu.Unlock()
		if waiting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(read)
	if p := <-got; p.Frames != 1 || p.Bytes != int64(c.ends[0]) {
		t.Fatalf("fresh figures %+v, want frame 1's", p)
	}
}

// sliceSource is a source that is not a file.
type sliceSource struct{ n int }

func (s *sliceSource) ReadFrame() (Frame, error) {
	if s.n == 0 {
		return Frame{}, io.EOF
	}
	s.n--
	return Frame{Data: []byte{1}}, nil
}

func (s *sliceSource) Close() error { return nil }

// TestCounterNotAFile counts frames of a source with no size: bytes stay
// unknown (0 of 0).
func TestCounterNotAFile(t *testing.T) {
	src := &sliceSource{n: 4}
	rd, cnt := Count(src, false)
	if rd == Source(src) {
		t.Fatal("a source that is not a file is not wrapped")
	}
	for range 4 {
		read1(t, rd)
	}
	if _, err := rd.ReadFrame(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if p := cnt.Progress(0); p.Frames != 4 || p.Bytes != 0 || p.Total != 0 || !p.Done {
		t.Fatalf("%+v, want 4 frames, 0 of 0 bytes, done", p)
	}
}

// TestCounterConcurrent reads on one goroutine while another polls, as the
// progress line does (run with -race), both ways: the figures only grow
// and end exact.
func TestCounterConcurrent(t *testing.T) {
	path := loadFile(t, 20)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, perFrame := range []bool{false, true} {
		src, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rd, cnt := Count(src, perFrame)
		var wg sync.WaitGroup
		var frames uint64
		wg.Go(func() {
			for {
				if _, err := rd.ReadFrame(); err != nil {
					return
				}
				frames++
			}
		})
		var last Progress
		polls := 0
		for !last.Done {
			p := cnt.Progress(time.Millisecond)
			if p.Frames < last.Frames || p.Bytes < last.Bytes || p.Bytes > p.Total {
				t.Fatalf("per frame %v: progress went from %+v to %+v", perFrame, last, p)
			}
			last = p
			polls++
		}
		wg.Wait()
		src.Close()
		if last.Frames != frames || last.Bytes != st.Size() || last.Total != st.Size() {
			t.Fatalf("per frame %v: end %+v after %d polls, want %d frames and %d bytes", perFrame, last, polls, frames, st.Size())
		}
	}
}

// loadFile writes pcapgen's load of n answered calls with RTP.
func loadFile(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "load.pcap")
	err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) error {
		if _, _, err := pcapgen.Load(w, n, pcapgen.BaseTime()); err != nil {
			return err
		}
		return w.Flush()
	})
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkCount measures what counting adds to reading a load capture,
// per frame: "plain" is the file source alone; "chunk" counts as replay
// does (Count without perFrame: the file publishes at each buffer refill);
// "frame" wraps the file in the per-frame counter (run --pcap --realtime)
// and has Progress called every millisecond (the line asks every 250 ms).
func BenchmarkCount(b *testing.B) {
	path := loadFile(b, 200)
	for _, mode := range []string{"plain", "chunk", "frame"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			var (
				src  Source
				stop chan struct{}
				wg   sync.WaitGroup
			)
			open := func() {
				f, err := OpenFile(path)
				if err != nil {
					b.Fatal(err)
				}
				src = f
				if mode == "plain" {
					return
				}
				rd, cnt := Count(f, mode == "frame")
				src = rd
				stop = make(chan struct{})
				wg.Go(func() {
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							cnt.Progress(0)
						}
					}
				})
			}
			closeSrc := func() {
				if stop != nil {
					close(stop)
					wg.Wait()
					stop = nil
				}
				_ = src.Close()
			}
			open()
			for b.Loop() {
				if _, err := src.ReadFrame(); err != nil {
					b.StopTimer()
					closeSrc()
					open()
					b.StartTimer()
				}
			}
			closeSrc()
		})
	}
}
