package capture

import (
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Frame is one captured frame. Data is valid until the next ReadFrame.
type Frame struct {
	Data     []byte
	Info     gopacket.CaptureInfo
	LinkType layers.LinkType
}

// Source yields captured frames. ReadFrame returns io.EOF at the end.
type Source interface {
	ReadFrame() (Frame, error)
	Close() error
}

// merged reads several sources as one, in capture-time order.
type merged struct {
	srcs  []Source
	names []string
	heads []Frame
	ok    []bool // heads[i] holds a frame not yet returned
	last  int    // source whose head was returned last, -1 for none
}

// OpenFiles opens several capture files and merges their frames in
// timestamp order. Frames with equal times come in the order of paths, so
// the merge is stable. A single path is the same as OpenFile. A file cut
// short ends early and the others go on (the source is Truncating).
func OpenFiles(paths []string) (Source, error) {
	if len(paths) == 1 {
		return OpenFile(paths[0])
	}
	m := &merged{last: -1}
	for _, p := range paths {
		s, err := OpenFile(p)
		if err != nil {
			_ = m.Close()
			return nil, err
		}
		m.srcs = append(m.srcs, s)
		m.names = append(m.names, p)
	}
	m.heads = make([]Frame, len(m.srcs))
	m.ok = make([]bool, len(m.srcs))
	for i := range m.srcs {
		if err := m.fill(i); err != nil {
			_ = m.Close()
			return nil, err
		}
	}
	return m, nil
}

// fill reads the next frame of source i into its head slot. Reading source i
// invalidates only its own previous frame, so the other heads stay valid.
func (m *merged) fill(i int) error {
	f, err := m.srcs[i].ReadFrame()
	switch {
	case errors.Is(err, io.EOF):
		m.ok[i] = false
		return nil
	case err != nil:
		m.ok[i] = false
		return err
	}
	m.heads[i], m.ok[i] = f, true
	return nil
}

// ReadFrame implements Source.
func (m *merged) ReadFrame() (Frame, error) {
	if m.last >= 0 {
		i := m.last
		m.last = -1
		if err := m.fill(i); err != nil {
			return Frame{}, err
		}
	}
	best := -1
	for i, ok := range m.ok {
		if !ok {
			continue
		}
		// Strictly before: ties keep the earlier path.
		if best < 0 || m.heads[i].Info.Timestamp.Before(m.heads[best].Info.Timestamp) {
			best = i
		}
	}
	if best < 0 {
		return Frame{}, io.EOF
	}
	m.ok[best] = false
	m.last = best
	return m.heads[best], nil
}

// OnTruncated implements Truncating for every file of the merge.
func (m *merged) OnTruncated(fn func(*TruncatedError)) {
	for _, s := range m.srcs {
		if t, ok := s.(Truncating); ok {
			t.OnTruncated(fn)
		}
	}
}

// Close closes every file.
func (m *merged) Close() error {
	var errs []error
	for i, s := range m.srcs {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", m.names[i], err))
		}
	}
	return errors.Join(errs...)
}
