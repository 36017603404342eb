package pcapgen

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// snapLen is the snapshot length written in the pcap file header: large
// enough that no frame we write is ever truncated.
const snapLen = 262144

// frameSink is what both pcapgo writers offer.
type frameSink interface {
	WritePacket(ci gopacket.CaptureInfo, data []byte) error
}

// Writer writes synthetic frames with exact capture times into a pcap or
// pcapng stream. It is not safe for concurrent use.
type Writer struct {
	sink  frameSink
	flush func() error
	cfg   writerConfig

	buf    gopacket.SerializeBuffer // the frame being written
	udpBuf gopacket.SerializeBuffer // a UDP datagram before fragmentation
	ipID   uint16
	fragID uint32
	frames int
}

// NewWriter returns a Writer producing a classic pcap stream with nanosecond
// timestamps, Ethernet link type unless WithLinkType says otherwise. It
// writes the file header at once.
func NewWriter(w io.Writer, opts ...Option) (*Writer, error) {
	cfg, err := newWriterConfig(opts)
	if err != nil {
		return nil, err
	}
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(snapLen, cfg.linkType); err != nil {
		return nil, fmt.Errorf("write pcap header: %w", err)
	}
	return newWriter(pw, func() error { return nil }, cfg), nil
}

// NewNgWriter returns a Writer producing a pcapng stream (one section, one
// interface with nanosecond resolution). The stream is buffered: call Flush
// before closing w.
func NewNgWriter(w io.Writer, opts ...Option) (*Writer, error) {
	cfg, err := newWriterConfig(opts)
	if err != nil {
		return nil, err
	}
	nw, err := pcapgo.NewNgWriter(w, cfg.linkType)
	if err != nil {
		return nil, fmt.Errorf("write pcapng header: %w", err)
	}
	return newWriter(nw, nw.Flush, cfg), nil
}

func newWriterConfig(opts []Option) (writerConfig, error) {
	cfg := writerConfig{linkType: layers.LinkTypeEthernet, mtu: DefaultMTU}
	for _, o := range opts {
		o.applyWriter(&cfg)
	}
	switch cfg.linkType {
	case layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeRaw:
	default:
		return cfg, fmt.Errorf("%w: %d", ErrLinkType, cfg.linkType)
	}
	return cfg, nil
}

func newWriter(sink frameSink, flush func() error, cfg writerConfig) *Writer {
	return &Writer{
		sink:   sink,
		flush:  flush,
		cfg:    cfg,
		buf:    gopacket.NewSerializeBuffer(),
		udpBuf: gopacket.NewSerializeBuffer(),
		// Deterministic, non-zero starting identifiers.
		ipID:   0x1000,
		fragID: 0x10000,
	}
}

// Flush writes out buffered data (pcapng only; a no-op for pcap).
func (w *Writer) Flush() error {
	if err := w.flush(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// Frames returns the number of frames written so far.
func (w *Writer) Frames() int { return w.frames }

// LinkType returns the link type of the capture.
func (w *Writer) LinkType() layers.LinkType { return w.cfg.linkType }

// Raw writes frame as it is, for robustness tests with garbage frames.
func (w *Writer) Raw(t time.Time, frame []byte) error {
	return w.writeFrame(t, frame)
}

func (w *Writer) writeFrame(t time.Time, data []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(data), Length: len(data)}
	if err := w.sink.WritePacket(ci, data); err != nil {
		return fmt.Errorf("write frame %d: %w", w.frames, err)
	}
	w.frames++
	return nil
}

// WriteFile creates the pcap file at path (nanosecond timestamps) and lets
// fn write its packets.
func WriteFile(path string, fn func(*Writer) error, opts ...Option) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	w, err := NewWriter(f, opts...)
	if err == nil {
		err = fn(w)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", path, cerr)
	}
	return err
}

// WriteFile writes the scenario alone to the pcap file at path.
func (s Scenario) WriteFile(path string) ([]Expect, error) {
	var want []Expect
	err := WriteFile(path, func(w *Writer) error {
		var err error
		want, err = s.Write(w)
		return err
	})
	return want, err
}
