package recorder

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// writeOut waits until the writer goroutine has carried out every create,
// write and finish queued so far: what a test then finds on disk is what
// the recorder had written (the capture's goroutine no longer writes).
func writeOut(t testing.TB, r *Recorder) {
	t.Helper()
	r.wr.mu.Lock()
	want := r.wr.issued
	r.wr.mu.Unlock()
	stop := make(chan struct{})
	timer := time.AfterFunc(10*time.Second, func() { close(stop) })
	defer timer.Stop()
	if !r.wr.wait(want, stop) {
		t.Fatal("the writer did not carry out its queue in 10 s")
	}
}

// slowFile is a disk whose every write takes delay.
type slowFile struct {
	writeFile
	delay time.Duration
}

func (f slowFile) Write(p []byte) (int, error) {
	time.Sleep(f.delay)
	return f.writeFile.Write(p)
}

func (f slowFile) WriteAt(p []byte, off int64) (int, error) {
	time.Sleep(f.delay)
	return f.writeFile.WriteAt(p, off)
}

// TestPacketNeverWaitsForTheDisk: with a disk that takes 200 ms a write,
// Packet (and End) return as with a fast disk — the writes are the writer
// goroutine's — and once the writer's queue holds its bound the legs whose
// audio it cannot take are cut, counted and not promised
// (ReasonCommitFull), while the legs it took are complete.
func TestPacketNeverWaitsForTheDisk(t *testing.T) {
	const delay = 200 * time.Millisecond
	const legs = 8
	dir := filepath.Join(t.TempDir(), "rec")
	slow := func(path string) (writeFile, error) {
		f, err := openPart(path)
		if err != nil {
			return nil, err
		}
		return slowFile{f, delay}, nil
	}
	// Half the legs end after 0.5 s (their whole file, 8 KB, is one
	// hand-off), the others run 3 s (a full chunk each second): the queue
	// holds the short ones and no more while the writer sleeps.
	r := newRecorder(t, Config{Dir: dir, WriteQueueBytes: legs/2*chunkBytes/2 + chunkBytes/2, openFile: slow, CloseTimeout: time.Minute})
	packets := func(i int) int {
		if i < legs/2 {
			return 25
		}
		return 150
	}
	var worst time.Duration
	ids := make([]string, legs)
	addrs := make([][2]netip.AddrPort, legs)
	for i := range legs {
		ids[i] = fmt.Sprintf("slow-%d", i)
		addrs[i] = [2]netip.AddrPort{
			netip.AddrPortFrom(callerAddr.Addr(), uint16(22000+2*i)),
			netip.AddrPortFrom(calleeAddr.Addr(), uint16(32000+2*i)),
		}
		r.Media(ids[i], t0, true, false, sdpBody(addrs[i][0], "RTP/AVP", "0", ""))
		r.Media(ids[i], t0, false, false, sdpBody(addrs[i][1], "RTP/AVP", "0", ""))
		r.Answered(ids[i], ids[i], t0)
	}
	var endWorst time.Duration
	recs := make([]*Result, legs)
	for k := range 150 {
		at := t0.Add(time.Duration(k) * 20 * time.Millisecond)
		for i := range legs {
			if k == packets(i) {
				start := time.Now()
				recs[i] = r.EndResult(ids[i], at)
				endWorst = max(endWorst, time.Since(start))
			}
			if k >= packets(i) {
				continue
			}
			for dir := range 2 {
				b := pkt{seq: uint16(k), ts: uint32(k) * 160, ssrc: uint32(dir + 1), fill: byte(0x10 + dir)}.marshal(t)
				start := time.Now()
				r.Packet(datagram(addrs[i][dir], addrs[i][1-dir], at, b))
				worst = max(worst, time.Since(start))
			}
		}
		r.Advance(at)
	}
	for i := legs / 2; i < legs; i++ {
		start := time.Now()
		recs[i] = r.EndResult(ids[i], t0.Add(3*time.Second))
		endWorst = max(endWorst, time.Since(start))
	}
	var kept, cut int
	t.Logf("worst Packet %v, worst End %v, with %v a write", worst, endWorst, delay)
	if worst >= delay/2 || endWorst >= delay/2 {
		t.Errorf("Packet or End waited for the disk: worst %v and %v, a write takes %v", worst, endWorst, delay)
	}
	st := r.Stats()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for i, res := range recs {
		switch {
		case res.Recording.NotRecordable == ReasonCommitFull && res.Recording.File == "":
			cut++
		case res.Recording.NotRecordable == "" && res.Recording.File != "":
			kept++
			want := packets(i) * 160 * 2
			if _, data := readWAV(t, filepath.Join(dir, res.Recording.File)); len(data) != want {
				t.Errorf("leg %d: %d bytes, want %d", i, len(data), want)
			}
		default:
			t.Errorf("leg %d: recording %+v", i, res.Recording)
		}
	}
	if cut != legs/2 || kept != legs/2 || st.Cut != uint64(cut) || st.Writer.Dropped < uint64(cut) {
		t.Errorf("%d kept, %d cut; stats cut %d, dropped chunks %d", kept, cut, st.Cut, st.Writer.Dropped)
	}
	t.Logf("%d legs kept, %d cut (disk too slow)", kept, cut)
}

// TestWaitForDisk: an offline source waits for a slow disk instead of
// losing audio: with the queue as small as above, every leg is complete.
func TestWaitForDisk(t *testing.T) {
	const legs = 4
	dir := filepath.Join(t.TempDir(), "rec")
	slow := func(path string) (writeFile, error) {
		f, err := openPart(path)
		if err != nil {
			return nil, err
		}
		return slowFile{f, 20 * time.Millisecond}, nil
	}
	r := newRecorder(t, Config{Dir: dir, WriteQueueBytes: chunkBytes, openFile: slow, WaitForDisk: true})
	recs := make([]*sip.Recording, legs)
	for i := range legs {
		recs[i], _ = recordLeg(t, r, i)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Cut != 0 || st.Writer.Dropped != 0 || st.FilesWritten != legs {
		t.Errorf("cut %d, dropped %d, written %d", st.Cut, st.Writer.Dropped, st.FilesWritten)
	}
	for i, rec := range recs {
		if _, data := readWAV(t, filepath.Join(dir, rec.File)); len(data) != sampleRate*2 {
			t.Errorf("leg %d: %d bytes", i, len(data))
		}
	}
}

// fullDisk is a disk that fills up: a file whose name has failName in it
// takes okWrites writes, then every Write (and, with failHeader, the
// finish's WriteAt of the header) fails with ENOSPC, as a full
// filesystem's does; the bytes written before stay on disk.
type fullDisk struct {
	failName   string
	okWrites   int
	failHeader bool
}

func (d fullDisk) open(path string) (writeFile, error) {
	f, err := openPart(path)
	if err != nil || !strings.Contains(filepath.Base(path), d.failName) {
		return f, err
	}
	return &fullFile{writeFile: f, left: d.okWrites, failHeader: d.failHeader}, nil
}

type fullFile struct {
	writeFile
	left       int
	failHeader bool
}

func (f *fullFile) Write(p []byte) (int, error) {
	if f.left == 0 {
		return 0, syscall.ENOSPC
	}
	f.left--
	return f.writeFile.Write(p)
}

func (f *fullFile) WriteAt(p []byte, off int64) (int, error) {
	if f.failHeader {
		return 0, syscall.ENOSPC
	}
	return f.writeFile.WriteAt(p, off)
}

// recordLong records leg i (ids as recordLeg's) for secs seconds: past
// one second its audio goes to the writer in several chunks.
func recordLong(t *testing.T, r *Recorder, i, secs int) *sip.Recording {
	t.Helper()
	id := fmt.Sprintf("call-%d@192.0.2.10", i)
	caller := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.10"), uint16(20000+2*i))
	callee := netip.AddrPortFrom(netip.MustParseAddr("198.51.100.20"), uint16(20000+2*i))
	r.Media(id, t0.Add(-time.Second), true, false, sdpBody(caller, "RTP/AVP", "0", ""))
	r.Media(id, t0, false, false, sdpBody(callee, "RTP/AVP", "0", ""))
	r.Answered(id, fmt.Sprintf("rec-%d", i), t0)
	a := &talker{src: caller, dst: callee, ssrc: 1}
	b := &talker{src: callee, dst: caller, ssrc: 2}
	for k := range 50 * secs {
		at := t0.Add(time.Duration(k) * 20 * time.Millisecond)
		a.send(t, r, at, 0x11)
		b.send(t, r, at, 0x22)
		r.Advance(at)
	}
	rec := r.End(id, t0.Add(time.Duration(secs)*time.Second))
	if rec == nil || rec.File == "" {
		t.Fatalf("leg %d: recording %+v", i, rec)
	}
	return rec
}

// TestFailedWriteRemovesPart: a recording whose write fails (a full disk)
// is not promised (write error), and its .part is removed at once rather
// than left to the next start's Repair: a full disk needs that space back,
// and no record names the file. The other legs are complete; the failure
// is counted.
func TestFailedWriteRemovesPart(t *testing.T) {
	const legs, secs = 3, 3
	tests := []struct {
		name string
		disk fullDisk
	}{
		// The first chunk's write fails: the file has nothing but its
		// name.
		{"first write", fullDisk{failName: "rec-1.", okWrites: 0}},
		// A later chunk's write fails: a second of audio is on disk.
		{"later write", fullDisk{failName: "rec-1.", okWrites: 1}},
		// Every chunk written, the finish's header fails.
		{"finish", fullDisk{failName: "rec-1.", okWrites: 1 << 20, failHeader: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rec")
			r := newRecorder(t, Config{Dir: dir, openFile: tc.disk.open})
			recs := make([]*sip.Recording, legs)
			for i := range legs {
				recs[i] = recordLong(t, r, i, secs)
			}
			syncRec(t, r)
			writeOut(t, r)
			for i, rec := range recs {
				got := r.Settle(rec)
				if i == 1 {
					if got.File != "" || got.NotRecordable != ReasonWriteError {
						t.Errorf("failed leg settled as %+v", got)
					}
					continue
				}
				if _, data := readWAV(t, filepath.Join(dir, got.File)); len(data) != secs*sampleRate*2 {
					t.Errorf("leg %d: %d bytes", i, len(data))
				}
			}
			st := r.Stats()
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			var left []string
			_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), "rec-1.") {
					left = append(left, path)
				}
				return nil
			})
			if len(left) != 0 {
				t.Errorf("the failed recording is still on disk: %v", left)
			}
			if st.WriteErrors != 1 || st.FilesWritten != legs-1 || st.Writer.Failed != 1 || st.Writer.Removed != 1 {
				t.Errorf("write errors %d, written %d, writer failed %d removed %d; want 1, %d, 1, 1",
					st.WriteErrors, st.FilesWritten, st.Writer.Failed, st.Writer.Removed, legs-1)
			}
		})
	}
}

// countingHandler counts the log records of one message.
type countingHandler struct {
	msg string
	mu  *sync.Mutex
	n   *int
	rec *[]slog.Record
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.mu.Lock()
		*h.n++
		*h.rec = append(*h.rec, r)
		h.mu.Unlock()
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// TestWriterFailuresOneLineARound: a full disk fails every file of a round
// at once; the writer says so in one line a round (how many, the first),
// not one per file. A file it did not create (O_EXCL refused: a .part
// already there) is never removed, and a removal that fails leaves the
// file to Repair, counted and said.
func TestWriterFailuresOneLineARound(t *testing.T) {
	tests := []struct {
		name string
		// existing files are there before the round (not the writer's).
		existing  []string
		removeErr error
		failed    uint64
		removed   uint64
		left      []string // .part files on disk after the round
		repair    bool     // the line says left_for_repair
	}{
		{name: "every write fails", failed: 4, removed: 4},
		{name: "one create refused", existing: []string{"f2"}, failed: 4, removed: 3, left: []string{"f2"}},
		{name: "removal fails", removeErr: syscall.EIO, failed: 4, removed: 0, left: []string{"f0", "f1", "f2", "f3"}, repair: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range tc.existing {
				if err := os.WriteFile(filepath.Join(dir, name+".wav"+partSuffix), []byte("someone else's"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			var n int
			var recs []slog.Record
			log := slog.New(countingHandler{msg: "recordings not written", mu: &mu, n: &n, rec: &recs})
			w := newFileWriter(fullDisk{failName: "f", okWrites: 0}.open, 1<<20, false, log)
			if tc.removeErr != nil {
				w.remove = func(string) error { return tc.removeErr }
			}
			f := formatULaw
			for i := range 4 {
				wf := &wavFile{path: filepath.Join(dir, fmt.Sprintf("f%d.wav", i)), dir: dir, fmt: f}
				w.create(wf)
				var c chunk
				copy(c.room(&w.blocks), bytes.Repeat([]byte{0x55}, blockSize))
				c.n = blockSize
				if _, ok := w.finish(wf, &c); !ok {
					t.Fatal("queue refused the finish")
				}
			}
			// One round, on this goroutine: the writer's goroutine is not
			// started.
			if !w.round() {
				t.Fatal("nothing carried out")
			}
			st := w.stats()
			if st.Failed != tc.failed || st.Removed != tc.removed {
				t.Errorf("failed %d removed %d, want %d %d", st.Failed, st.Removed, tc.failed, tc.removed)
			}
			if n != 1 {
				t.Fatalf("%d lines for one round, want 1", n)
			}
			attrs := map[string]string{}
			recs[0].Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
			if attrs["files"] != fmt.Sprint(tc.failed) || attrs["removed"] != fmt.Sprint(tc.removed) || attrs["err"] == "" {
				t.Errorf("line %v", attrs)
			}
			if _, ok := attrs["left_for_repair"]; ok != tc.repair {
				t.Errorf("left_for_repair in the line: %v, want %v (%v)", ok, tc.repair, attrs)
			}
			var left []string
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				left = append(left, strings.TrimSuffix(e.Name(), ".wav"+partSuffix))
			}
			if strings.Join(left, ",") != strings.Join(tc.left, ",") {
				t.Errorf("on disk %v, want %v", left, tc.left)
			}
			for _, name := range tc.existing {
				if b, err := os.ReadFile(filepath.Join(dir, name+".wav"+partSuffix)); err != nil || string(b) != "someone else's" {
					t.Errorf("%s: %q %v: another's file was touched", name, b, err)
				}
			}
		})
	}
}

// writeLog is a file that records the span of every Write.
type writeLog struct {
	writeFile
	mu    *sync.Mutex
	spans *[][2]int64 // offset, length
	off   int64
}

func (f *writeLog) Write(p []byte) (int, error) {
	f.mu.Lock()
	*f.spans = append(*f.spans, [2]int64{f.off, int64(len(p))})
	f.mu.Unlock()
	n, err := f.writeFile.Write(p)
	f.off += int64(n)
	return n, err
}

// TestWritesEndOnChunkBoundaries: a file's first write is its header and a
// chunk short by the header, so that every write but the last ends on a
// chunkBytes boundary of the file (a write ending inside a file-system
// block makes the kernel zero the rest of the block first), for the G.711
// file (58-byte header) and the PCM one (44), and the file holds the header
// and every frame.
func TestWritesEndOnChunkBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name string
		pcm  bool
		hdr  int
	}{{"pcmu", false, 58}, {"pcm", true, 44}} {
		t.Run(tc.name, func(t *testing.T) {
			wf := fileFormat(kindPCMU, kindPCMU, tc.pcm).wav()
			if got := wf.headerBytes(); got != tc.hdr {
				t.Fatalf("headerBytes = %d, want %d", got, tc.hdr)
			}
			if got := len(wf.header(0)); got != tc.hdr {
				t.Fatalf("header is %d bytes, want %d", got, tc.hdr)
			}
			var mu sync.Mutex
			var spans [][2]int64
			open := func(path string) (writeFile, error) {
				f, err := openPart(path)
				if err != nil {
					return nil, err
				}
				return &writeLog{writeFile: f, mu: &mu, spans: &spans}, nil
			}
			dir := filepath.Join(t.TempDir(), "rec")
			r := newRecorder(t, Config{Dir: dir, PCM: tc.pcm, openFile: open})
			a := netip.AddrPortFrom(callerAddr.Addr(), 22000)
			b := netip.AddrPortFrom(calleeAddr.Addr(), 32000)
			r.Media("align", t0, true, false, sdpBody(a, "RTP/AVP", "0", ""))
			r.Media("align", t0, false, false, sdpBody(b, "RTP/AVP", "0", ""))
			r.Answered("align", "align", t0)
			const packets = 175 // 3.5 s: several chunks and a partial one
			for k := range packets {
				at := t0.Add(time.Duration(k) * 20 * time.Millisecond)
				for d, src := range []netip.AddrPort{a, b} {
					p := pkt{seq: uint16(k), ts: uint32(k) * 160, ssrc: uint32(d + 1), fill: byte(0x10 + d)}.marshal(t)
					r.Packet(datagram(src, [2]netip.AddrPort{b, a}[d], at, p))
				}
				r.Advance(at)
			}
			res := r.EndResult("align", t0.Add(packets*20*time.Millisecond))
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if res.Recording.File == "" {
				t.Fatalf("no recording: %+v", res.Recording)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(spans) < 3 {
				t.Fatalf("%d writes, want several chunks: %v", len(spans), spans)
			}
			for i, s := range spans[:len(spans)-1] {
				if end := s[0] + s[1]; end%chunkBytes != 0 {
					t.Errorf("write %d of %d ends at %d, not on a %d-byte boundary: %v", i+1, len(spans), end, chunkBytes, spans)
				}
			}
			last := spans[len(spans)-1]
			fi, err := os.Stat(filepath.Join(dir, res.Recording.File))
			if err != nil {
				t.Fatal(err)
			}
			if end := last[0] + last[1]; end != fi.Size() {
				t.Errorf("the writes end at %d, the file has %d bytes", end, fi.Size())
			}
			frame := 2
			if tc.pcm {
				frame = 4
			}
			if want := int64(tc.hdr) + packets*160*int64(frame); fi.Size() != want {
				t.Errorf("file %d bytes, want %d (header and %d frames)", fi.Size(), want, packets*160)
			}
		})
	}
}
