package tap

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/switchtap/switchtap/capture"
)

// FlushEndOfCapture is the end_detail of legs still open when a replayed
// capture ends.
const FlushEndOfCapture = "end_of_capture"

// Replay runs every frame of src through p, then flushes the legs still
// open. It stops early, with ctx's error, when ctx is done.
func Replay(ctx context.Context, src capture.Source, p *Pipeline) error {
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		f, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read capture: %w", err)
		}
		p.Frame(f)
	}
	p.Flush(FlushEndOfCapture)
	return nil
}
