package daemon

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchtap/switchtap/capture"
)

// fileSource feeds capture files to the daemon as if they came from the
// mirror port (`run --pcap`): frames in capture-time order (several files
// merged), paced at the speed they were captured when realtime is set, else
// as fast as they can be read. Its frames keep their capture timestamps, so
// records equal replay's.
type fileSource struct {
	src capture.Source
	// counter counts what src has read, for run --pcap's progress line
	// (issue 12).
	counter  *capture.Counter
	realtime bool
	now      func() time.Time

	// start maps the first frame's capture time to the wall clock.
	first, wallStart time.Time
	frames           uint64

	once   sync.Once
	closed chan struct{}
}

func openFiles(paths []string, realtime bool, now func() time.Time) (*fileSource, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no capture file", ErrUsage)
	}
	src, err := capture.OpenFiles(paths)
	if err != nil {
		return nil, err
	}
	// Paced at capture speed, frame by frame (the capture times give the
	// time left); else by read buffer, at no cost a frame.
	src, cnt := capture.Count(src, realtime)
	return &fileSource{src: src, counter: cnt, realtime: realtime, now: now, closed: make(chan struct{})}, nil
}

// Progress returns how far the files have been read, waiting up to wait
// for the reader's next frame (capture.Counter.Progress). Safe from any
// goroutine.
func (f *fileSource) Progress(wait time.Duration) capture.Progress {
	return f.counter.Progress(wait)
}

// ReadFrame returns the next frame, waiting for its moment in realtime
// mode; io.EOF at the end of the files; an error once closed.
func (f *fileSource) ReadFrame() (capture.Frame, error) {
	select {
	case <-f.closed:
		return capture.Frame{}, errClosed
	default:
	}
	fr, err := f.src.ReadFrame()
	if err != nil {
		return fr, err
	}
	f.frames++
	if !f.realtime {
		return fr, nil
	}
	ts := fr.Info.Timestamp
	if f.first.IsZero() {
		f.first, f.wallStart = ts, f.now()
		return fr, nil
	}
	due := f.wallStart.Add(ts.Sub(f.first))
	if wait := due.Sub(f.now()); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-f.closed:
			t.Stop()
			return capture.Frame{}, errClosed
		}
	}
	return fr, nil
}

// Close ends the input; a ReadFrame waiting for its frame's moment returns.
func (f *fileSource) Close() error {
	var err error
	f.once.Do(func() {
		close(f.closed)
		err = f.src.Close()
	})
	return err
}

// Stats has no kernel behind it: files drop nothing.
func (f *fileSource) Stats() (capture.LiveStats, error) {
	return capture.LiveStats{}, nil
}

var errClosed = errors.New("capture closed")
