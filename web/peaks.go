package web

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Peaks of a recording for the console's waveform: per channel, n buckets
// of [min, max] int16 samples, computed from the PCM conversion.
const (
	peaksDefault = 800
	peaksMin     = 16
	peaksMax     = 4000
	// pcmRate, pcmChannels and pcmBits are the layout ExportPCM writes.
	pcmRate     = 8000
	pcmChannels = 2
	pcmBits     = 16
	// pcmHeaderMax bounds how far the data chunk may start (ExportPCM
	// writes it at byte 44; a few other chunks are tolerated).
	pcmHeaderMax = 4096
)

// errBadPCM is a conversion that is not 16-bit stereo 8 kHz PCM WAV.
var errBadPCM = errors.New("not 16-bit stereo 8 kHz PCM WAV")

// peaksJSON is GET /api/v1/calls/{id}/peaks. Channels[0] is the caller
// (left), Channels[1] the callee (right).
type peaksJSON struct {
	DurationSeconds float64       `json:"duration_seconds"`
	SampleRate      int           `json:"sample_rate"`
	N               int           `json:"n"`
	Channels        [2][][2]int16 `json:"channels"`
}

// parsePCMHeader reads the RIFF header at the start of a PCM WAV (b holds
// its first bytes, at most pcmHeaderMax are looked at) and returns where
// the data chunk's payload starts and its declared length.
func parsePCMHeader(b []byte) (off, size int64, err error) {
	if len(b) > pcmHeaderMax {
		b = b[:pcmHeaderMax]
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, 0, fmt.Errorf("%w: no RIFF/WAVE header", errBadPCM)
	}
	fmtSeen := false
	for p := 12; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int64(binary.LittleEndian.Uint32(b[p+4:p+8]))
		body := p + 8
		switch id {
		case "fmt ":
			if n < 16 || body+16 > len(b) {
				return 0, 0, fmt.Errorf("%w: short fmt chunk", errBadPCM)
			}
			tag := binary.LittleEndian.Uint16(b[body:])
			ch := binary.LittleEndian.Uint16(b[body+2:])
			rate := binary.LittleEndian.Uint32(b[body+4:])
			bits := binary.LittleEndian.Uint16(b[body+14:])
			if tag != 1 || ch != pcmChannels || rate != pcmRate || bits != pcmBits {
				return 0, 0, fmt.Errorf("%w: tag %d, %d channels, %d Hz, %d bits", errBadPCM, tag, ch, rate, bits)
			}
			fmtSeen = true
		case "data":
			if !fmtSeen {
				return 0, 0, fmt.Errorf("%w: data before fmt", errBadPCM)
			}
			return int64(body), n, nil
		}
		next := int64(body) + n + n&1
		if next > int64(len(b)) {
			break
		}
		p = int(next)
	}
	return 0, 0, fmt.Errorf("%w: no data chunk in the first %d bytes", errBadPCM, len(b))
}

// computePeaks reads a PCM WAV from r (size bytes long) and returns its
// duration and, per channel, n buckets of [min, max]. Frame k goes to
// bucket k·n/frames, so the buckets split the recording evenly; a bucket
// without frames (a recording shorter than n frames) is [0, 0].
func computePeaks(r io.Reader, size int64, n int) (peaksJSON, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(pcmHeaderMax)
	off, dataLen, err := parsePCMHeader(head)
	if err != nil {
		return peaksJSON{}, err
	}
	if _, err := br.Discard(int(off)); err != nil {
		return peaksJSON{}, fmt.Errorf("%w: %v", errBadPCM, err)
	}
	// A header left at 0 by a crash: the file's length rules.
	if avail := size - off; dataLen > avail || dataLen == 0 {
		dataLen = max(avail, 0)
	}
	frames := dataLen / (pcmChannels * pcmBits / 8)
	out := peaksJSON{
		DurationSeconds: float64(frames) / pcmRate,
		SampleRate:      pcmRate,
		N:               n,
	}
	for ch := range out.Channels {
		out.Channels[ch] = make([][2]int16, n)
	}
	if frames == 0 {
		return out, nil
	}
	buf := make([]byte, 16<<10) // whole frames
	cur, started := -1, false
	for k := int64(0); k < frames; {
		want := min(int64(len(buf)), (frames-k)*4)
		if _, err := io.ReadFull(br, buf[:want]); err != nil {
			return peaksJSON{}, fmt.Errorf("read pcm frame %d: %w", k, err)
		}
		for off := int64(0); off < want; off, k = off+4, k+1 {
			bucket := int(k * int64(n) / frames)
			if bucket != cur {
				cur, started = bucket, false
			}
			l := int16(binary.LittleEndian.Uint16(buf[off:]))
			r := int16(binary.LittleEndian.Uint16(buf[off+2:]))
			pl, pr := &out.Channels[0][bucket], &out.Channels[1][bucket]
			if !started {
				*pl, *pr = [2]int16{l, l}, [2]int16{r, r}
				started = true
				continue
			}
			pl[0], pl[1] = min(pl[0], l), max(pl[1], l)
			pr[0], pr[1] = min(pr[0], r), max(pr[1], r)
		}
	}
	return out, nil
}

// handlePeaks is GET /api/v1/calls/{id}/peaks?n=800. It sends no audio,
// so it is not audited.
func (a *api) handlePeaks(w http.ResponseWriter, r *http.Request) {
	s := a.s
	n := peaksDefault
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = parseOptInt(r.URL.Query(), "n", peaksMin, peaksMax); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	id := r.PathValue("id")
	rf, err := s.openRecording(r.Context(), id)
	if err != nil {
		s.writeRecordingError(w, r, err)
		return
	}
	defer rf.f.Close()
	src, err := a.pcm.source(pcmKeyOf(rf), func(w io.Writer) error { return s.exportPCM(rf, w) })
	if err != nil {
		s.writeError(w, r, fmt.Errorf("convert recording of %q: %w", clip(id), err))
		return
	}
	defer src.Close()
	size, err := src.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = src.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.writeError(w, r, fmt.Errorf("peaks of %q: %w", clip(id), err))
		return
	}
	out, err := computePeaks(src, size, n)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("peaks of %q: %w", clip(id), err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}
