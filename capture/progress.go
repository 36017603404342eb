package capture

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Progress is how far a source has been read through its capture files.
type Progress struct {
	// Bytes is the part of the files consumed: up to the end of the last
	// frame read, summed over the files. It reaches Total at the end,
	// files cut short included: their tails were read too, and found
	// incomplete.
	Bytes int64
	// Total is the sum of the files' sizes when counting began; 0 when
	// unknown (a source that is not a file).
	Total int64
	// Frames is the number of frames read (a merge of several files also
	// counts the one frame per file it reads ahead).
	Frames uint64
	// First and Last are the capture times of the first frame and of the
	// newest frame counted, kept only when counting frame by frame (Count
	// with perFrame): paced at capture speed they say how much capture
	// time the bytes read span.
	First, Last time.Time
	// Done is set once the files were read to their end (or the source
	// returned an error).
	Done bool
}

// Counter counts how far a source has been read, for a progress line on
// another goroutine. Its figures are published by the reading goroutine
// and read by Progress, from any goroutine.
type Counter struct {
	total int64
	// perFrame is the wrapper that counts frame by frame, nil when the
	// files count by chunk.
	perFrame *frameCounter

	mu sync.Mutex
	// files holds each file's figures as its chunk reader publishes them.
	files []fileFigures
}

type fileFigures struct {
	bytes  int64
	frames uint64
	done   bool
}

// Count makes a Counter for src and returns the source to read from
// instead of src.
//
// For the files of OpenFile and OpenFiles, without perFrame, nothing comes
// between the reader and its frames: each file publishes its figures when
// it refills its read buffer (every 256 KB) and at its end, so counting
// costs nothing a frame and the figures are at most one buffer behind;
// the source returned is src itself. With perFrame (input paced at capture
// speed, where a buffer may last minutes and the capture times matter), or
// for any other source, a wrapper counts each frame and publishes when
// Progress asks (see frameCounter).
func Count(src Source, perFrame bool) (Source, *Counter) {
	c := &Counter{}
	if s, ok := src.(sizer); ok {
		c.total = s.size()
	}
	if !perFrame {
		if files := filesOf(src); files != nil {
			c.files = make([]fileFigures, len(files))
			for i, f := range files {
				f.raw.r = &chunkReader{r: f.raw.r, c: c, i: i, f: f}
			}
			return src, c
		}
	}
	c.perFrame = &frameCounter{src: src, c: c}
	c.perFrame.pub.Total = c.total
	return c.perFrame, c
}

// filesOf returns the files src reads, nil when it is not made of files.
func filesOf(src Source) []*file {
	switch s := src.(type) {
	case *file:
		return []*file{s}
	case *merged:
		files := make([]*file, 0, len(s.srcs))
		for _, x := range s.srcs {
			f, ok := x.(*file)
			if !ok {
				return nil
			}
			files = append(files, f)
		}
		return files
	}
	return nil
}

// Progress returns the figures published last. Counting frame by frame,
// it first asks the reader for fresh ones and waits up to wait for them
// (see frameCounter.progress). Safe from any goroutine.
func (c *Counter) Progress(wait time.Duration) Progress {
	if c.perFrame != nil {
		return c.perFrame.progress(wait)
	}
	p := Progress{Total: c.total, Done: true}
	c.mu.Lock()
	for _, f := range c.files {
		p.Bytes += f.bytes
		p.Frames += f.frames
		p.Done = p.Done && f.done
	}
	c.mu.Unlock()
	return p
}

// chunkReader sits between a file's byte counter and the file: each read
// that refills the file's buffer publishes the file's figures, on the
// reading goroutine, before the read: the frames returned so far and
// where the last of them ends.
type chunkReader struct {
	r io.Reader
	c *Counter
	i int
	f *file
}

func (r *chunkReader) Read(p []byte) (int, error) {
	ff := fileFigures{bytes: r.f.consumed(), frames: r.f.frames}
	n, err := r.r.Read(p)
	if err != nil {
		// The end, or what ends the file early: everything was read.
		ff.bytes, ff.done = r.f.raw.n+int64(n), true
	}
	r.c.mu.Lock()
	r.c.files[r.i] = ff
	r.c.mu.Unlock()
	return n, err
}

// frameCounter is a Source that counts the frames of the source it wraps.
// ReadFrame only increments a counter and checks a flag; the figures are
// copied out (the offsets summed, under a lock) only when progress asked
// for them since the last frame, about four times a second.
type frameCounter struct {
	src Source
	c   *Counter

	// Owned by the reading goroutine.
	frames      uint64
	first, last time.Time

	// want is set by progress and cleared by the reader when it publishes.
	want atomic.Bool
	mu   sync.Mutex
	pub  Progress
	// fresh, when set, is closed by the next publish (progress waits).
	fresh chan struct{}
}

// ReadFrame implements Source.
func (c *frameCounter) ReadFrame() (Frame, error) {
	f, err := c.src.ReadFrame()
	if err != nil {
		c.publish(true)
		return f, err
	}
	c.frames++
	if c.frames == 1 || c.want.Load() {
		c.sample(f.Info.Timestamp)
	}
	return f, nil
}

// sample notes the first frame's capture time and publishes when asked;
// kept out of ReadFrame so that the common path stays small.
func (c *frameCounter) sample(ts time.Time) {
	if c.frames == 1 {
		c.first = ts
	}
	if c.want.Load() {
		c.last = ts
		c.publish(false)
	}
}

// publish copies the reader's figures out for progress.
func (c *frameCounter) publish(done bool) {
	c.want.Store(false)
	p := Progress{Total: c.c.total, Frames: c.frames, First: c.first, Last: c.last, Done: done}
	if s, ok := c.src.(consumer); ok {
		p.Bytes = s.consumed()
	}
	c.mu.Lock()
	// Once done, later calls (a ReadFrame after io.EOF) change nothing.
	if !c.pub.Done {
		c.pub = p
	}
	if c.fresh != nil {
		close(c.fresh)
		c.fresh = nil
	}
	c.mu.Unlock()
}

// progress asks the reader for its figures and returns them once it has
// published them at its next frame, or after wait at most: a reader that
// waits for its input (pacing at capture speed, a pipeline that lags)
// leaves the figures published last, which are then still exact or one
// request old.
func (c *frameCounter) progress(wait time.Duration) Progress {
	c.mu.Lock()
	if c.pub.Done || wait <= 0 {
		p := c.pub
		c.mu.Unlock()
		c.want.Store(!p.Done)
		return p
	}
	if c.fresh == nil {
		c.fresh = make(chan struct{})
	}
	fresh := c.fresh
	c.mu.Unlock()
	c.want.Store(true)
	t := time.NewTimer(wait)
	select {
	case <-fresh:
	case <-t.C:
	}
	t.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fresh == fresh {
		// Timed out: no one waits on it any more (want stays set, so the
		// next frame still publishes).
		c.fresh = nil
	}
	return c.pub
}

// OnTruncated passes fn to the wrapped source when it reports files cut
// short (OpenFile, OpenFiles), so that the wrapper is Truncating too.
func (c *frameCounter) OnTruncated(fn func(*TruncatedError)) {
	if t, ok := c.src.(Truncating); ok {
		t.OnTruncated(fn)
	}
}

// Close closes the wrapped source.
func (c *frameCounter) Close() error { return c.src.Close() }

// consumer is a source that knows how many bytes of its files it has
// consumed (file, merged).
type consumer interface{ consumed() int64 }

// sizer is a source that knows its files' total size (file, merged).
type sizer interface{ size() int64 }

// consumed is the offset just after the last whole frame read while the
// file is being read (a record header taken from the buffer does not
// count yet), and the whole file once read to its end or its cut.
func (s *file) consumed() int64 {
	if s.ended {
		return s.raw.n
	}
	return s.good
}

// size is the file's length, or what was read of it when Stat fails.
func (s *file) size() int64 {
	if st, err := s.f.Stat(); err == nil {
		return st.Size()
	}
	return s.raw.n
}

// consumed sums the files' offsets; each file's head frame, read ahead
// for the merge, counts as consumed.
func (m *merged) consumed() int64 {
	var n int64
	for _, s := range m.srcs {
		if c, ok := s.(consumer); ok {
			n += c.consumed()
		}
	}
	return n
}

// size sums the files' sizes.
func (m *merged) size() int64 {
	var n int64
	for _, s := range m.srcs {
		if z, ok := s.(sizer); ok {
			n += z.size()
		}
	}
	return n
}
