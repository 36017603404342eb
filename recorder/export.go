package recorder

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/zaf/g711"
)

// ExportPCM writes the recording at path as a 16-bit PCM stereo WAV (not
// every browser plays μ-law/A-law WAV). A PCM file is copied as is.
func ExportPCM(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	in, off, err := readWAVLayout(f, st.Size())
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	data := st.Size() - off
	data -= data % int64(in.blockAlign)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var decode func(byte) int16
	switch in.tag {
	case tagPCM:
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if _, err := io.Copy(w, io.LimitReader(f, off+data)); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return nil
	case tagULaw:
		decode = g711.DecodeUlawFrame
	case tagALaw:
		decode = g711.DecodeAlawFrame
	default:
		return fmt.Errorf("export %s: %w: format tag %d", path, ErrBadWAV, in.tag)
	}
	pcmBytes := data * 2
	if pcmBytes > int64(maxData(formatPCM16.wav())) || pcmBytes > math.MaxUint32 {
		return fmt.Errorf("export %s: %w: too long for one WAV", path, ErrBadWAV)
	}
	bw := bufio.NewWriter(w)
	if _, err := bw.Write(formatPCM16.wav().header(uint32(pcmBytes))); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	r := bufio.NewReader(io.LimitReader(f, data))
	buf := make([]byte, 8192)
	out := make([]byte, 0, 2*len(buf))
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			out = out[:0]
			for _, c := range buf[:n] {
				out = binary.LittleEndian.AppendUint16(out, uint16(decode(c)))
			}
			if _, werr := bw.Write(out); werr != nil {
				return fmt.Errorf("export: %w", werr)
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
