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

// file reads one pcap or pcapng file.
type file struct {
	f    *os.File
	path string
	pcap *pcapgo.Reader
	ng   *pcapgo.NgReader
	// links caches the link type of each pcapng interface.
	links []layers.LinkType
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
	br := bufio.NewReaderSize(f, fileReadBuffer)
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %d bytes: %w", ErrUnknownFormat, path, len(head), err)
	}
	s := &file{f: f, path: path}
	switch binary.BigEndian.Uint32(head) {
	case magicPcapMicro, magicPcapMicroSwapped, magicPcapNano, magicPcapNanoSwapped:
		if s.pcap, err = pcapgo.NewReader(br); err != nil {
			return nil, fmt.Errorf("read pcap header of %s: %w", path, err)
		}
	case magicPcapng:
		opts := pcapgo.DefaultNgReaderOptions
		opts.WantMixedLinkType = true
		if s.ng, err = pcapgo.NewNgReader(br, opts); err != nil {
			return nil, fmt.Errorf("read pcapng header of %s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("%w: %s: magic %x", ErrUnknownFormat, path, head)
	}
	return s, nil
}

// ReadFrame implements Source.
func (s *file) ReadFrame() (Frame, error) {
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
	if errors.Is(err, io.EOF) {
		return Frame{}, io.EOF
	}
	if err != nil {
		return Frame{}, fmt.Errorf("read %s: %w", s.path, err)
	}
	return Frame{Data: data, Info: ci, LinkType: link}, nil
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
