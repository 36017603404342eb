package capacity_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

// load is a generated capture of answered G.711 calls and what a correct
// tap must report of each.
type load struct {
	path   string
	n      int
	opts   pcapgen.LoadOptions
	calls  []pcapgen.Expect
	frames int
	bytes  int64
}

// span is the capture's own length, from the first INVITE to the last
// BYE's 200: what tcpreplay takes at ×1.
func (l load) span() time.Duration {
	if len(l.calls) == 0 {
		return 0
	}
	return l.calls[len(l.calls)-1].EndedAt.Sub(l.calls[0].InviteAt)
}

// countingWriter counts what would be written.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// writeLoad writes n calls timed by opts to path, or, when path already
// holds a capture (a file kept between runs, SWITCHTAP_CAPACITY_PCAP),
// only derives the expectations again: generation is deterministic, so a
// file of the very size LoadWith writes is that capture.
func writeLoad(t *testing.T, path string, n int, opts pcapgen.LoadOptions) load {
	t.Helper()

	l := load{path: path, n: n, opts: opts}
	start := time.Now()
	var err error
	if st, statErr := os.Stat(path); statErr == nil {
		var c countingWriter
		l.calls, l.frames, err = generate(&c, n, opts)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != c.n {
			t.Fatalf("%s holds %d bytes, but %d calls timed %+v are %d: remove it or name another file", path, st.Size(), n, opts, c.n)
		}
		l.bytes = c.n
		t.Logf("reusing %s: %d calls, %d frames, %.0f MB", path, n, l.frames, float64(l.bytes)/1e6)
		return l
	} else if !errors.Is(statErr, os.ErrNotExist) {
		t.Fatal(statErr)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &countingWriter{}
	bw := bufio.NewWriterSize(io.MultiWriter(f, c), 1<<20)
	l.calls, l.frames, err = generate(bw, n, opts)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // a partial capture must not be reused
		t.Fatalf("write %s: %v", path, err)
	}
	l.bytes = c.n
	t.Logf("wrote %s in %v: %d calls, %d frames, %.0f MB, %v of capture",
		path, time.Since(start).Round(time.Millisecond), n, l.frames, float64(l.bytes)/1e6, l.span().Round(time.Millisecond))
	return l
}

// generate writes the load as pcap to w.
func generate(w io.Writer, n int, opts pcapgen.LoadOptions) ([]pcapgen.Expect, int, error) {
	pw, err := pcapgen.NewWriter(w)
	if err != nil {
		return nil, 0, fmt.Errorf("pcap writer: %w", err)
	}
	calls, frames, err := pcapgen.LoadWith(pw, n, pcapgen.BaseTime(), opts)
	if err != nil {
		return nil, 0, fmt.Errorf("load: %w", err)
	}
	if err := pw.Flush(); err != nil {
		return nil, 0, fmt.Errorf("flush: %w", err)
	}
	return calls, frames, nil
}
