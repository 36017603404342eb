package tap

import (
	"context"
	"sync"
	"time"

	"github.com/switchtap/switchtap/capture"
)

// Bounds of one batch of the hand-off between the goroutine that reads the
// capture and the one that runs the pipeline. Two batches exist: one being
// filled while the other is processed, so the hand-off holds at most twice
// these (about 1 MiB; the kernel ring stays the buffer that absorbs a
// burst). A batch is handed over as soon as the pipeline is idle, whatever
// its size: under light load it holds one frame and adds no latency.
const (
	batchBytes  = 256 << 10
	batchFrames = 2048
)

// frameBatch holds copies of captured frames in capture order.
type frameBatch struct {
	frames []capture.Frame
	arena  []byte
	// err ends the input after the frames (the source's error, io.EOF
	// included); nil while the input goes on.
	err error
}

// maxFrameBytes is the largest frame the arena's spare room takes without
// growing (a jumbo frame or a reassembled TSO frame on a mirror port).
const maxFrameBytes = 64 << 10

func (b *frameBatch) full(n int) bool {
	return len(b.frames) >= batchFrames || (len(b.arena)+n > batchBytes && len(b.frames) > 0)
}

// add copies f into the batch: the source may reuse f.Data at its next
// read (capture.Live hands out the kernel ring's memory).
func (b *frameBatch) add(f capture.Frame) {
	if b.arena == nil {
		// Allocated once at its full size: a growing arena would leave
		// its old copies to the GC at every batch.
		b.arena = make([]byte, 0, batchBytes+maxFrameBytes)
		b.frames = make([]capture.Frame, 0, batchFrames)
	}
	start := len(b.arena)
	b.arena = append(b.arena, f.Data...)
	f.Data = b.arena[start:len(b.arena):len(b.arena)]
	b.frames = append(b.frames, f)
}

func (b *frameBatch) reset() {
	// Clearing the frames drops their Info slices (and the arena of a
	// frame larger than maxFrameBytes, which append moved) for the GC.
	clear(b.frames)
	b.frames, b.arena, b.err = b.frames[:0], b.arena[:0], nil
}

// handoff passes frames from one reader to one processor, in order, two
// batches swapping: the reader never waits for the processor unless both
// batches are full, and then the kernel's ring holds the rest (and counts
// what it cannot hold), so a slow pipeline shows as kernel drops, never as
// a reordering or a loss inside the daemon.
type handoff struct {
	mu    sync.Mutex
	fill  *frameBatch // filled by the reader
	spare *frameBatch // nil while the processor holds it
	// ready has a token when fill has frames (or the end) the processor
	// has not taken; space has one when spare came back.
	ready chan struct{}
	space chan struct{}
	// taken is the number of frames of the batch the processor holds.
	taken int
}

func newHandoff() *handoff {
	return &handoff{
		fill:  &frameBatch{},
		spare: &frameBatch{},
		ready: make(chan struct{}, 1),
		space: make(chan struct{}, 1),
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// put copies f into the batch being filled, waiting while both batches are
// full; it returns false when ctx is done first.
func (h *handoff) put(ctx context.Context, f capture.Frame) bool {
	for {
		h.mu.Lock()
		if !h.fill.full(len(f.Data)) {
			h.fill.add(f)
			h.mu.Unlock()
			signal(h.ready)
			return true
		}
		h.mu.Unlock()
		select {
		case <-h.space:
		case <-ctx.Done():
			return false
		}
	}
}

// end records the reader's last word (io.EOF or a read error) after the
// frames already put.
func (h *handoff) end(err error) {
	h.mu.Lock()
	h.fill.err = err
	h.mu.Unlock()
	signal(h.ready)
}

// take waits for frames (or the end) and returns the batch holding them;
// the processor gives it back with give.
func (h *handoff) take() *frameBatch {
	for {
		h.mu.Lock()
		if len(h.fill.frames) > 0 || h.fill.err != nil {
			b := h.fill
			h.fill, h.spare, h.taken = h.spare, nil, len(b.frames)
			h.mu.Unlock()
			// The reader may be waiting with a full batch: the one
			// swapped in is empty.
			signal(h.space)
			return b
		}
		h.mu.Unlock()
		<-h.ready
	}
}

// give returns a processed batch.
func (h *handoff) give(b *frameBatch) {
	b.reset()
	h.mu.Lock()
	h.spare, h.taken = b, 0
	h.mu.Unlock()
	signal(h.space)
}

// backlog is the number of frames read and not yet through the pipeline.
func (h *handoff) backlog() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.fill.frames) + h.taken
}

// releaser is a source that holds the frame it returned last until told
// (capture.Live).
type releaser interface{ Release() }

// stage reads src on a goroutine of its own and calls process with each
// batch of frames, in capture order, on the caller's goroutine, until the
// source ends: its error (io.EOF included) is returned after every frame
// read before it was processed. When ctx is done the reader stops at its
// next frame and stage returns ctx's error after the frames read so far;
// a reader blocked in ReadFrame is released by closing the source (the
// daemon does; replay's files never block). The two goroutines let the
// capture's reading (the kernel ring's poll and walk, or a file's reads)
// run on the other core while the pipeline works.
func stage(ctx context.Context, src capture.Source, h *handoff, process func(b *frameBatch, wall time.Time), now func() time.Time) error {
	go func() {
		for {
			if ctx.Err() != nil {
				break
			}
			f, err := src.ReadFrame()
			if err != nil {
				h.end(err)
				return
			}
			if !h.put(ctx, f) {
				break
			}
		}
		// A source may hold the frame it returned last until its next
		// read (capture.Live keeps the ring's block, and its Close waits
		// for it): the frame was copied, let it go.
		if r, ok := src.(releaser); ok {
			r.Release()
		}
		h.end(ctx.Err())
	}()
	for {
		b := h.take()
		// The wall time after the frames were read: the capture clock is
		// carried forward from here, never from before a frame's read,
		// which would run the clock ahead of the capture.
		if len(b.frames) > 0 {
			var wall time.Time
			if now != nil {
				wall = now()
			}
			process(b, wall)
		}
		err := b.err
		h.give(b)
		if err != nil {
			return err
		}
	}
}
