package tap

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/sip"
)

// reusingSource hands out n frames from one buffer it overwrites at every
// read, as capture.Live does with the kernel ring: the hand-off must copy.
type reusingSource struct {
	n, i  int
	buf   []byte
	sizes func(i int) int
	err   error
	// gate, when set, is received from before each read (a slow capture).
	gate chan struct{}
	// read counts the frames returned (read by the processor's clock).
	read atomic.Int64
}

func (s *reusingSource) ReadFrame() (capture.Frame, error) {
	if s.gate != nil {
		<-s.gate
	}
	if s.i >= s.n {
		return capture.Frame{}, s.err
	}
	size := 8
	if s.sizes != nil {
		size = s.sizes(s.i)
	}
	if cap(s.buf) < size {
		s.buf = make([]byte, size)
	}
	b := s.buf[:size]
	for j := range b {
		b[j] = byte(s.i)
	}
	binary.BigEndian.PutUint64(b, uint64(s.i)) //nolint:gosec // G115: test counter
	ts := time.Unix(0, int64(s.i))
	s.i++
	s.read.Add(1)
	return capture.Frame{Data: b, Info: gopacket.CaptureInfo{Timestamp: ts, CaptureLength: size, Length: size}}, nil
}

func (s *reusingSource) Close() error { return nil }

// checkFrame reports whether f is frame i as the source made it.
func checkFrame(f capture.Frame, i, size int) bool {
	if len(f.Data) != size || binary.BigEndian.Uint64(f.Data) != uint64(i) || f.Info.Timestamp.UnixNano() != int64(i) { //nolint:gosec // G115: test counter
		return false
	}
	for _, c := range f.Data[8:] {
		if c != byte(i) {
			return false
		}
	}
	return true
}

// TestStageOrderAndCopies: every frame reaches the processor once, in the
// order read, with its own bytes (the source reuses its buffer), across
// batch boundaries by count and by bytes, and the source's error comes
// after the last frame.
func TestStageOrderAndCopies(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		sizes func(int) int
		err   error
	}{
		{"small frames, EOF", 3 * batchFrames, nil, io.EOF},
		{"by bytes", 2000, func(i int) int { return 8 + (i*7919)%3000 }, io.EOF},
		{"jumbo frames", 40, func(i int) int { return maxFrameBytes + 8 + i }, io.EOF},
		{"read error", 500, nil, errors.New("ring gone")},
		{"empty", 0, nil, io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &reusingSource{n: tc.n, sizes: tc.sizes, err: tc.err}
			next, batches := 0, 0
			err := stage(context.Background(), src, newHandoff(), func(b *frameBatch, _ time.Time) {
				batches++
				for _, f := range b.frames {
					size := 8
					if tc.sizes != nil {
						size = tc.sizes(next)
					}
					if !checkFrame(f, next, size) {
						t.Fatalf("frame %d: got %d bytes starting %x", next, len(f.Data), f.Data[:min(8, len(f.Data))])
					}
					next++
				}
				// Slow the processor so that batches fill.
				time.Sleep(50 * time.Microsecond)
			}, nil)
			if !errors.Is(err, tc.err) {
				t.Fatalf("stage returned %v, want %v", err, tc.err)
			}
			if next != tc.n {
				t.Fatalf("%d frames processed, want %d", next, tc.n)
			}
			t.Logf("%d frames in %d batches", tc.n, batches)
		})
	}
}

// TestStageBackpressure: with the processor stopped, the reader fills both
// batches and then waits (the kernel's ring holds the rest); nothing is
// dropped or reordered when the processor resumes.
func TestStageBackpressure(t *testing.T) {
	const n = 5 * batchFrames
	src := &reusingSource{n: n, err: io.EOF}
	h := newHandoff()
	hold := make(chan struct{})
	next := 0
	done := make(chan error, 1)
	go func() {
		done <- stage(context.Background(), src, h, func(b *frameBatch, _ time.Time) {
			if next == 0 {
				<-hold
			}
			for _, f := range b.frames {
				if !checkFrame(f, next, 8) {
					t.Errorf("frame %d out of order or damaged", next)
				}
				next++
			}
		}, nil)
	}()
	// The processor holds its first batch: the reader fills the other and
	// must then stop.
	deadline := time.Now().Add(5 * time.Second)
	for h.backlog() < batchFrames && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if got := h.backlog(); got > 2*batchFrames {
		t.Fatalf("backlog %d frames with the processor stopped, want at most %d", got, 2*batchFrames)
	}
	close(hold)
	if err := <-done; !errors.Is(err, io.EOF) {
		t.Fatalf("stage: %v", err)
	}
	if next != n {
		t.Fatalf("%d frames processed, want %d", next, n)
	}
	if h.backlog() != 0 {
		t.Fatalf("backlog %d after the end", h.backlog())
	}
}

// TestStageCancel: a cancelled context stops the reader at its next frame;
// the frames read before are processed and stage returns ctx's error.
func TestStageCancel(t *testing.T) {
	gate := make(chan struct{})
	src := &reusingSource{n: 1000, err: io.EOF, gate: gate}
	ctx, cancel := context.WithCancel(context.Background())
	processed := 0
	done := make(chan error, 1)
	go func() {
		done <- stage(ctx, src, newHandoff(), func(b *frameBatch, _ time.Time) {
			processed += len(b.frames)
		}, nil)
	}()
	for range 10 {
		gate <- struct{}{}
	}
	cancel()
	close(gate)
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stage returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stage did not stop after cancel")
	}
	if processed < 9 || processed > 11 {
		t.Fatalf("%d frames processed, want the ~10 read before the cancel", processed)
	}
}

// TestStageWall: the wall time given with a batch is read after its frames
// were read, never before (the capture clock must not run ahead).
func TestStageWall(t *testing.T) {
	src := &reusingSource{n: 100, err: io.EOF}
	calls := 0
	now := func() time.Time {
		calls++
		return time.Unix(0, src.read.Load()) // the frames read so far
	}
	err := stage(context.Background(), src, newHandoff(), func(b *frameBatch, wall time.Time) {
		last := b.frames[len(b.frames)-1]
		if wall.Before(last.Info.Timestamp.Add(1)) {
			t.Errorf("wall %d before the batch's last frame %d was read", wall.UnixNano(), last.Info.Timestamp.UnixNano())
		}
	}, now)
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if calls == 0 || calls > 100 {
		t.Fatalf("now called %d times for 100 frames", calls)
	}
}

// BenchmarkStage is the hand-off's cost per frame (copy and sync), with a
// processor that does nothing.
func BenchmarkStage(b *testing.B) {
	for _, size := range []int{64, 214, 1400} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			src := &reusingSource{n: b.N, sizes: func(int) int { return size }, err: io.EOF}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			_ = stage(context.Background(), src, newHandoff(), func(fb *frameBatch, _ time.Time) { n += len(fb.frames) }, nil)
			if n != b.N {
				b.Fatalf("%d frames, want %d", n, b.N)
			}
		})
	}
}

// holdingSource keeps the frame it returned last until the next read and
// its Close waits for that frame, as capture.Live does with the ring.
type holdingSource struct {
	inUse  sync.Mutex
	held   bool
	closed atomic.Bool
	reads  atomic.Int64
	buf    [64]byte
	// quiet stops the frames after the tenth (the reader then polls).
	quiet bool
}

// Release lets the held frame go, as capture.Live.Release does.
func (s *holdingSource) Release() {
	if s.held {
		s.held = false
		s.inUse.Unlock()
	}
}

func (s *holdingSource) ReadFrame() (capture.Frame, error) {
	if s.held {
		s.held = false
		s.inUse.Unlock()
	}
	s.inUse.Lock()
	for !s.closed.Load() {
		if n := s.reads.Add(1); !s.quiet || n <= 10 {
			s.held = true
			return capture.Frame{Data: s.buf[:], Info: gopacket.CaptureInfo{Timestamp: time.Unix(1e9, n), CaptureLength: 64, Length: 64}}, nil
		}
		s.inUse.Unlock()
		time.Sleep(time.Millisecond) // a quiet line: poll again
		s.inUse.Lock()
	}
	s.inUse.Unlock()
	return capture.Frame{}, io.EOF
}

func (s *holdingSource) Close() error {
	s.closed.Store(true)
	s.inUse.Lock()
	defer s.inUse.Unlock()
	return nil
}

func (s *holdingSource) Stats() (capture.LiveStats, error) { return capture.LiveStats{}, nil }

type nopWriter struct{}

func (nopWriter) PutCalls(context.Context, []sip.Call) error { return nil }

// TestDaemonStopsWithHeldFrame: a stop while the reader holds the frame it
// read last (it stops at the cancel, not at a read error) still completes:
// the reader lets the frame go before it leaves, so the source's Close
// does not wait for ever (found with capture.Live: `switchtap run -i lo`
// did not stop on SIGTERM).
func TestDaemonStopsWithHeldFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quiet bool
	}{
		{"busy line", false},
		{"quiet line", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &holdingSource{quiet: tc.quiet}
			d := NewDaemon(DaemonConfig{Tracker: sip.DefaultTrackerConfig()}, src, nopWriter{}, slog.New(slog.DiscardHandler))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			for src.reads.Load() < 10 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond)
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancel: the source's Close waits for a held frame")
			}
		})
	}
}

// TestStageReaderFillsWhileProcessing: while the pipeline works on a full
// batch, the reader fills the other one; it does not wait for the batch
// being processed to come back (found in review: a reader that woke before
// the swap waited a whole batch for nothing).
func TestStageReaderFillsWhileProcessing(t *testing.T) {
	const n = 4 * batchFrames
	src := &reusingSource{n: n, err: io.EOF}
	h := newHandoff()
	holds := []chan struct{}{make(chan struct{}), make(chan struct{})}
	inHold := make(chan int, 2)
	batch := 0
	done := make(chan error, 1)
	go func() {
		done <- stage(context.Background(), src, h, func(b *frameBatch, _ time.Time) {
			if batch < len(holds) {
				inHold <- batch
				<-holds[batch]
			}
			batch++
		}, nil)
	}()
	waitBacklog := func(want int) bool {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if h.backlog() >= want {
				return true
			}
			time.Sleep(time.Millisecond)
		}
		return false
	}
	<-inHold // the first batch (whatever it holds) is being processed
	if !waitBacklog(batchFrames) {
		t.Fatalf("backlog %d: the reader did not fill the other batch", h.backlog())
	}
	close(holds[0])
	<-inHold // the second, full, batch is being processed
	if !waitBacklog(batchFrames + 1) {
		t.Fatalf("backlog %d while a full batch is processed: the reader waits instead of filling the empty one", h.backlog())
	}
	close(holds[1])
	if err := <-done; !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
}
