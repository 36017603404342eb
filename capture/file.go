package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// File magic numbers (first four bytes, read big-endian).
const (
	magicPcapMicro        = 0xa1b2c3d4
	magicPcapMicroSwapped = 0xd4c3b2a1
	magicPcapNano         = 0xa1b23c4d
	magicPcapNanoSwapped  = 0x4d3cb2a1
	magicPcapng           = 0x0a0d0d0a // section header block type
)

// fileReadBuffer is the read-ahead buffer of a capture file.
const fileReadBuffer = 256 << 10

// TruncatedError reports a capture file that ends inside a record: tcpdump
// killed, a full disk, a copy cut short, or a damaged record header. The
// frames before Offset were read and delivered; nothing after it can be,
// since neither format lets a reader find the next record again. The file
// source then ends as if the file ended at Offset, so the calls read so far
// are kept (tshark reads such files the same way, with a warning).
type TruncatedError struct {
	// Path is the capture file.
	Path string
	// Offset is the byte offset of the first record not read whole: the
	// file is intact up to it (`head -c Offset` repairs it).
	Offset int64
	// Size is the file's length in bytes.
	Size int64
	// Frames is the number of frames read from the file before the cut.
	Frames uint64
	// Err is what the reader met: io.ErrUnexpectedEOF for a cut, another
	// error for a damaged record.
	Err error
}

// Error names the file and the offset.
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("capture file %s cut short at byte %d of %d, after %d frames: %v", e.Path, e.Offset, e.Size, e.Frames, e.Err)
}

// Unwrap returns the reader's error.
func (e *TruncatedError) Unwrap() error { return e.Err }

// Truncating is implemented by the sources of OpenFile and OpenFiles: a file
// cut short ends its frames early, without an error from ReadFrame, and is
// reported to the function given here.
type Truncating interface {
	Source
	// OnTruncated calls fn for every file found cut short, on the goroutine
	// that calls ReadFrame; files found before the call (OpenFiles reads
	// the first frame of each file) are reported at once.
	OnTruncated(fn func(*TruncatedError))
}

// countingReader counts the bytes read from the file, so that the offset
// consumed by the pcap reader is known: read minus still buffered.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// file reads one pcap or pcapng file.
type file struct {
	f    *os.File
	path string
	pcap *pcapgo.Reader
	ng   *pcapgo.NgReader
	// links caches the link type of each pcapng interface.
	links []layers.LinkType

	// raw counts the bytes read from f and br buffers them: both pcapgo
	// readers use br itself (bufio.NewReader returns a large enough
	// *bufio.Reader unchanged), so raw.n − br.Buffered() is the offset of
	// the next record.
	raw *countingReader
	br  *bufio.Reader
	// good is the offset just after the last whole frame (or the header).
	good int64
	// ngOrder is the byte order of a pcapng file's section (its header's
	// byte-order magic), to walk its blocks at the end.
	ngOrder binary.ByteOrder
	frames  uint64
	// ended is set once the file was read to its end or its cut.
	ended   bool
	trunc   *TruncatedError
	onTrunc func(*TruncatedError)
}

// OpenFile opens a pcap (microsecond or nanosecond) or pcapng capture file,
// detected by its magic number. In pcapng each frame carries the link type
// of its interface.
func OpenFile(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture file: %w", err)
	}
	src, err := newFile(f, path)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return src, nil
}

func newFile(f *os.File, path string) (*file, error) {
	raw := &countingReader{r: f}
	br := bufio.NewReaderSize(raw, fileReadBuffer)
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %d bytes: %w", ErrUnknownFormat, path, len(head), err)
	}
	s := &file{f: f, path: path, raw: raw, br: br}
	switch binary.BigEndian.Uint32(head) {
	case magicPcapMicro, magicPcapMicroSwapped, magicPcapNano, magicPcapNanoSwapped:
		if s.pcap, err = pcapgo.NewReader(br); err != nil {
			return nil, fmt.Errorf("read pcap header of %s: %w", path, err)
		}
	case magicPcapng:
		s.ngOrder = binary.LittleEndian
		if h, err := br.Peek(12); err == nil && binary.BigEndian.Uint32(h[8:]) == 0x1A2B3C4D {
			s.ngOrder = binary.BigEndian
		}
		opts := pcapgo.DefaultNgReaderOptions
		opts.WantMixedLinkType = true
		if s.ng, err = pcapgo.NewNgReader(br, opts); err != nil {
			return nil, fmt.Errorf("read pcapng header of %s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("%w: %s: magic %x", ErrUnknownFormat, path, head)
	}
	s.good = s.offset()
	return s, nil
}

// offset is the byte offset of the next record the reader will read.
func (s *file) offset() int64 { return s.raw.n - int64(s.br.Buffered()) }

// ReadFrame implements Source. A file cut short ends at its last whole
// frame: io.EOF, with the cut reported to OnTruncated's function.
func (s *file) ReadFrame() (Frame, error) {
	if s.ended {
		return Frame{}, io.EOF
	}
	var (
		data []byte
		ci   gopacket.CaptureInfo
		err  error
		link layers.LinkType
	)
	if s.pcap != nil {
		data, ci, err = s.pcap.ZeroCopyReadPacketData()
		link = s.pcap.LinkType()
	} else {
		data, ci, err = s.ng.ZeroCopyReadPacketData()
		if err == nil {
			link, err = s.ngLink(ci.InterfaceIndex)
		}
	}
	if errors.Is(err, io.EOF) && (s.offset() == s.good || s.ng != nil && s.wholeBlocks(s.good, s.offset())) {
		// The end of the file, on a record boundary: in pcapng, blocks that
		// are not packets (interfaces, statistics) may follow the last
		// frame, read by pcapgo without a frame to show for them.
		s.ended = true
		return Frame{}, io.EOF
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			// pcapgo returns a bare io.EOF when a record header was read
			// whole and not one byte of its data follows.
			err = io.ErrUnexpectedEOF
		}
		s.truncated(err)
		return Frame{}, io.EOF
	}
	s.frames++
	s.good = s.offset()
	return Frame{Data: data, Info: ci, LinkType: link}, nil
}

// wholeBlocks reports whether the bytes [from, to) of a pcapng file are
// whole blocks (pcapng §3.1: type, total length, body, total length).
func (s *file) wholeBlocks(from, to int64) bool {
	var h [8]byte
	for pos := from; pos < to; {
		if _, err := s.f.ReadAt(h[:], pos); err != nil {
			return false
		}
		n := int64(s.ngOrder.Uint32(h[4:]))
		if n < 12 || n%4 != 0 {
			return false
		}
		pos += n
		if pos == to {
			return true
		}
	}
	return from == to
}

// pastWholeBlocks returns the offset of the first pcapng block from from
// on that does not end within size bytes.
func (s *file) pastWholeBlocks(from, size int64) int64 {
	var h [8]byte
	pos := from
	for pos+8 <= size {
		if _, err := s.f.ReadAt(h[:], pos); err != nil {
			break
		}
		n := int64(s.ngOrder.Uint32(h[4:]))
		if n < 12 || n%4 != 0 || pos+n > size {
			break
		}
		pos += n
	}
	return pos
}

// truncated ends the file at its last whole frame and reports why.
func (s *file) truncated(err error) {
	s.ended = true
	size := s.raw.n
	if st, serr := s.f.Stat(); serr == nil {
		size = st.Size()
	}
	if s.ng != nil {
		// Whole blocks that are not packets may precede the one cut
		// short: the cut is at the first block the file does not hold.
		s.good = s.pastWholeBlocks(s.good, size)
	}
	s.trunc = &TruncatedError{Path: s.path, Offset: s.good, Size: size, Frames: s.frames, Err: err}
	if s.onTrunc != nil {
		s.onTrunc(s.trunc)
	}
}

// OnTruncated implements Truncating.
func (s *file) OnTruncated(fn func(*TruncatedError)) {
	s.onTrunc = fn
	if s.trunc != nil && fn != nil {
		fn(s.trunc)
	}
}

// ngLink returns the link type of pcapng interface i without copying the
// interface description on every frame.
func (s *file) ngLink(i int) (layers.LinkType, error) {
	if i >= 0 && i < len(s.links) {
		return s.links[i], nil
	}
	for j := len(s.links); j < s.ng.NInterfaces(); j++ {
		ifc, err := s.ng.Interface(j)
		if err != nil {
			return 0, fmt.Errorf("pcapng interface %d: %w", j, err)
		}
		s.links = append(s.links, ifc.LinkType)
	}
	if i < 0 || i >= len(s.links) {
		return 0, fmt.Errorf("%w: pcapng interface %d of %d", ErrMalformed, i, len(s.links))
	}
	return s.links[i], nil
}

// Close closes the file.
func (s *file) Close() error {
	return s.f.Close()
}
