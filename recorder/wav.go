package recorder

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// WAV layout written here (a small writer of our own: go-audio/wav writes a
// non-conformant header for μ-law/A-law). Non-PCM formats carry an 18-byte
// fmt chunk with cbSize 0 and a fact chunk (Microsoft WAVE format rules);
// PCM carries the classic 16-byte fmt chunk.
const (
	tagPCM  = 1
	tagALaw = 6
	tagULaw = 7
	// partSuffix marks a file still being written.
	partSuffix = ".part"
	channels   = 2
)

// wavFormat describes the encoding of a file.
type wavFormat struct {
	tag        uint16
	bits       uint16
	blockAlign uint16
}

func (f format) wav() wavFormat {
	switch f {
	case formatULaw:
		return wavFormat{tagULaw, 8, channels}
	case formatALaw:
		return wavFormat{tagALaw, 8, channels}
	}
	return wavFormat{tagPCM, 16, 2 * channels}
}

// fmtBytes is the length of the fmt chunk's body: a non-PCM format (G.711)
// is a WAVEFORMATEX, with cbSize, and its file has a fact chunk too.
func (w wavFormat) fmtBytes() uint32 {
	if w.tag == tagPCM {
		return 16
	}
	return 18
}

// headerBytes is the length of header's result, the offset of the samples:
// RIFF and WAVE (12), the fmt chunk (8 + fmtBytes), the fact chunk of a
// non-PCM file (12) and the data chunk's header (8) — 44 for PCM, 58 for
// G.711.
func (w wavFormat) headerBytes() int {
	n := 12 + 8 + int(w.fmtBytes()) + 8
	if w.tag != tagPCM {
		n += 12
	}
	return n
}

// header returns the header of a file with dataBytes of samples. The data
// chunk's payload starts right after it.
func (w wavFormat) header(dataBytes uint32) []byte {
	hdr := w.headerBytes()
	b := make([]byte, 0, hdr)
	b = append(b, "RIFF"...)
	// The RIFF size counts everything after its own 8 bytes.
	b = binary.LittleEndian.AppendUint32(b, uint32(hdr-8)+dataBytes) //nolint:gosec // G115: hdr is 44 or 58.
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, w.fmtBytes())
	b = binary.LittleEndian.AppendUint16(b, w.tag)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, sampleRate)
	b = binary.LittleEndian.AppendUint32(b, sampleRate*uint32(w.blockAlign))
	b = binary.LittleEndian.AppendUint16(b, w.blockAlign)
	b = binary.LittleEndian.AppendUint16(b, w.bits)
	if w.tag != tagPCM {
		b = binary.LittleEndian.AppendUint16(b, 0) // cbSize
		b = append(b, "fact"...)
		b = binary.LittleEndian.AppendUint32(b, 4)
		b = binary.LittleEndian.AppendUint32(b, dataBytes/uint32(w.blockAlign))
	}
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, dataBytes)
	return b
}

// writeFile is the part of *os.File a recording is written through (tests
// put a slow or failing one in its place).
type writeFile interface {
	Write(p []byte) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	Close() error
}

// openPart creates path+".part" (mode 0600), never over an existing file.
func openPart(path string) (writeFile, error) {
	return os.OpenFile(path+partSuffix, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// wavWriter writes a stereo file progressively under "<path>.part"; the
// committer renames it to path once durable (commit.go), so a half file
// never looks finished. The header (sizes 0, for Repair after a crash)
// goes out with the first data, in the same write.
type wavWriter struct {
	path  string
	f     writeFile
	fmt   wavFormat
	bytes uint64 // data bytes written
	hdr   bool   // a header is in the file
	sized bool   // the header in the file has the final sizes
	// gather is the buffer a chunk's blocks are copied into for one
	// write (the writer goroutine's, shared by its files).
	gather *[]byte
}

// createWAV creates path+".part" (mode 0600).
func createWAV(path string, f format) (*wavWriter, error) {
	return createWAVWith(openPart, path, f, nil)
}

func createWAVWith(open func(string) (writeFile, error), path string, f format, gather *[]byte) (*wavWriter, error) {
	file, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("create wav: %w", err)
	}
	if gather == nil {
		gather = new([]byte)
	}
	return &wavWriter{path: path, f: file, fmt: f.wav(), gather: gather}, nil
}

// pool and take make a wavWriter a sink that writes each flush at once.
func (w *wavWriter) pool() *blockPool { return nil }

func (w *wavWriter) take(c *chunk) error {
	err := w.write(c, false)
	c.release(nil)
	return err
}

// write appends the bytes of c in one write; with last (the file's last
// data) a file not yet started gets its final header in that write, so a
// short recording costs one write.
func (w *wavWriter) write(c *chunk, last bool) error {
	if c.n == 0 && w.hdr {
		return nil
	}
	b := (*w.gather)[:0]
	if !w.hdr {
		size := uint32(0)
		if last {
			size = uint32(min(w.bytes+uint64(c.n), maxData(w.fmt))) //nolint:gosec // G115: bounded by maxData.
			w.sized = true
		}
		b = append(b, w.fmt.header(size)...)
		w.hdr = true
	}
	for i, left := 0, c.n; left > 0; i++ {
		k := min(left, blockSize)
		b = append(b, c.blocks[i][:k]...)
		left -= k
	}
	*w.gather = b
	w.bytes += uint64(c.n) //nolint:gosec // G115: n is positive.
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("write wav %s: %w", w.path, err)
	}
	return nil
}

// finish patches the header sizes and closes the file, still ".part": the
// committer makes it durable and puts it in place (commit.go).
func (w *wavWriter) finish() error {
	var err error
	switch {
	case !w.hdr:
		err = w.write(&chunk{}, true)
	case !w.sized:
		_, err = w.f.WriteAt(w.fmt.header(uint32(min(w.bytes, maxData(w.fmt)))), 0) //nolint:gosec // G115: bounded by maxData.
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("finish wav %s: %w", w.path, err)
	}
	return nil
}

// abort closes the file and leaves it as .part for Repair, with its
// header if nothing was written yet.
func (w *wavWriter) abort() {
	if !w.hdr {
		_ = w.write(&chunk{}, false)
	}
	_ = w.f.Close()
}

// maxData is the largest data size a 32-bit RIFF header can state, in whole
// frames.
func maxData(f wavFormat) uint64 {
	lim := uint64(0xFFFFFFFF - 58)
	return lim - lim%uint64(f.blockAlign)
}

// readWAVLayout finds the format and the offset of the data chunk's payload.
func readWAVLayout(r io.ReaderAt, size int64) (wavFormat, int64, error) {
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return wavFormat{}, 0, fmt.Errorf("%w: no RIFF/WAVE header", ErrBadWAV)
	}
	var f wavFormat
	off := int64(12)
	for off+8 <= size {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return wavFormat{}, 0, fmt.Errorf("%w: chunk at %d: %v", ErrBadWAV, off, err)
		}
		id, n := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			var b [16]byte
			if n < 16 {
				return wavFormat{}, 0, fmt.Errorf("%w: fmt chunk of %d bytes", ErrBadWAV, n)
			}
			if _, err := r.ReadAt(b[:], off+8); err != nil {
				return wavFormat{}, 0, fmt.Errorf("%w: fmt chunk: %v", ErrBadWAV, err)
			}
			f = wavFormat{
				tag:        binary.LittleEndian.Uint16(b[0:2]),
				blockAlign: binary.LittleEndian.Uint16(b[12:14]),
				bits:       binary.LittleEndian.Uint16(b[14:16]),
			}
		case "data":
			if f.blockAlign == 0 {
				return wavFormat{}, 0, fmt.Errorf("%w: data before fmt", ErrBadWAV)
			}
			return f, off + 8, nil
		}
		off += 8 + n + n&1
	}
	return wavFormat{}, 0, fmt.Errorf("%w: no data chunk in %d bytes", ErrBadWAV, size)
}

// repairWAV fixes the header of a file left open by a crash: the data size
// comes from the file length, cut to whole frames.
func repairWAV(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	wf, off, err := readWAVLayout(f, st.Size())
	if err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	if off != int64(wf.headerBytes()) {
		return fmt.Errorf("%w: %s: data at %d, not a layout we write", ErrBadWAV, path, off)
	}
	data := uint64(st.Size() - off)
	data = min(data-data%uint64(wf.blockAlign), maxData(wf))
	if err := f.Truncate(off + int64(data)); err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	if _, err := f.WriteAt(wf.header(uint32(data)), 0); err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	return nil
}
