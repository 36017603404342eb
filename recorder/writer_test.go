package recorder

import (
	"fmt"
	"net/netip"
	"path/filepath"
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
