package tap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/switchtap/switchtap/capture"
)

// FlushEndOfCapture is the end_detail of legs still open when a replayed
// capture ends.
const FlushEndOfCapture = "end_of_capture"

// Replay runs every frame of src through p, then flushes the legs still
// open. It stops early, with ctx's error, when ctx is done.
func Replay(ctx context.Context, src capture.Source, p *Pipeline) error {
	err := stage(ctx, src, newHandoff(), func(b *frameBatch, _ time.Time) {
		for _, f := range b.frames {
			p.Frame(f)
		}
		p.EndBatch()
	}, nil)
	if !errors.Is(err, io.EOF) {
		// What the frames read so far gave the recorder is applied, as
		// inline, and its goroutine stops.
		p.drainStage()
	}
	switch {
	case errors.Is(err, io.EOF):
		p.Flush(FlushEndOfCapture)
		return nil
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return ctx.Err()
	}
	return fmt.Errorf("read capture: %w", err)
}
