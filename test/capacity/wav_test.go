package capacity_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

// The recording of a load call, checked against the generator instead of
// a decode of the capture (tshark on 3 M packets would take longer than
// the run): pcapgen.LoadPayload says what each packet carries.

// WAV format tags (RFC 2361) and the recording's layout: G.711 as
// captured (PCMU), 8 kHz, caller left, callee right.
const (
	wavMuLaw    = 7
	wavRate     = 8000
	muLawSilent = 0xFF // μ-law code of 0
)

var errWAV = errors.New("not the recording of a load call")

// wavData checks the RIFF layout and returns the data chunk: stereo 8-bit
// μ-law at 8 kHz, the data chunk's size what the header says.
func wavData(b []byte) ([]byte, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", errWAV)
	}
	if riff := binary.LittleEndian.Uint32(b[4:]); int(riff) != len(b)-8 {
		return nil, fmt.Errorf("%w: RIFF size %d, file %d", errWAV, riff, len(b))
	}
	fmtOK := false
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		if size > len(body) {
			return nil, fmt.Errorf("%w: chunk %q of %d bytes, %d left", errWAV, id, size, len(body))
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes", errWAV, size)
			}
			tag, ch := binary.LittleEndian.Uint16(body), binary.LittleEndian.Uint16(body[2:])
			rate, bits := binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint16(body[14:])
			if tag != wavMuLaw || ch != 2 || rate != wavRate || bits != 8 {
				return nil, fmt.Errorf("%w: format %d, %d channels, %d Hz, %d bits; want μ-law stereo 8 kHz 8 bits", errWAV, tag, ch, rate, bits)
			}
			fmtOK = true
		case "data":
			if !fmtOK {
				return nil, fmt.Errorf("%w: data before fmt", errWAV)
			}
			return body, nil
		}
		off += 8 + size + size%2
	}
	return nil, fmt.Errorf("%w: no data chunk", errWAV)
}

// talkProblem says what is wrong with the audio of a load call, "" when
// the recording is complete: each channel holds its direction's packets
// 0 … packets-1 one after the other (placed by RTP timestamp, they are
// contiguous wherever the first one landed), every other sample is
// silence, and the file spans the answer to the BYE (span, in whole
// samples), or to the later channel's last packet when that runs past
// the BYE (the recorder keeps a packet captured before the end whole).
// Both channels are then non-silent: the payloads are not.
func talkProblem(wav []byte, packets int, span time.Duration) (frames int, problem string) {
	data, err := wavData(wav)
	if err != nil {
		return 0, err.Error()
	}
	if len(data)%2 != 0 {
		return 0, fmt.Sprintf("%d data bytes: not whole stereo frames", len(data))
	}
	frames = len(data) / 2
	size := pcapgen.RTPPayloadSize
	end := 0
	for ch, side := range []string{"caller", "callee"} {
		at := -1
		p := make([]byte, size)
		pcapgen.LoadPayload(p, 0, ch == 0)
		// The payloads repeat every 256 packets: the first match is the
		// first packet (or the first is missing, and the rest will say so).
		for f := 0; f+size <= frames && at < 0; f++ {
			if channelEqual(data, ch, f, p) {
				at = f
			}
		}
		if at < 0 {
			return frames, fmt.Sprintf("%s channel: first packet not found in %d frames", side, frames)
		}
		if at+packets*size > frames {
			return frames, fmt.Sprintf("%s channel: %d packets from frame %d need %d frames, the file has %d", side, packets, at, at+packets*size, frames)
		}
		for k := 1; k < packets; k++ {
			pcapgen.LoadPayload(p, k, ch == 0)
			if !channelEqual(data, ch, at+k*size, p) {
				return frames, fmt.Sprintf("%s channel: packet %d of %d not at frame %d", side, k, packets, at+k*size)
			}
		}
		for f := range frames {
			if (f < at || f >= at+packets*size) && data[2*f+ch] != muLawSilent {
				return frames, fmt.Sprintf("%s channel: frame %d is %#x outside the talk (frames %d to %d): not silence", side, f, data[2*f+ch], at, at+packets*size)
			}
		}
		end = max(end, at+packets*size)
	}
	// Whole samples, as the recorder counts them.
	bye := int(span/time.Second*wavRate + span%time.Second*wavRate/time.Second)
	if want := max(end, bye); frames != want {
		return frames, fmt.Sprintf("%d frames, want %d: the talk ends at frame %d, the BYE at %d", frames, want, end, bye)
	}
	return frames, ""
}

// channelEqual says whether channel ch of interleaved stereo data holds p
// from frame f.
func channelEqual(data []byte, ch, f int, p []byte) bool {
	for i, c := range p {
		if data[2*(f+i)+ch] != c {
			return false
		}
	}
	return true
}

// testWAV builds a recording of a load call as the recorder writes it,
// for the checker's own test: the caller's packets from frame a, the
// callee's from frame b, silence elsewhere, frames long.
func testWAV(packets, a, b, frames int) []byte {
	data := bytes.Repeat([]byte{muLawSilent}, 2*frames)
	p := make([]byte, pcapgen.RTPPayloadSize)
	for ch, from := range []int{a, b} {
		for k := range packets {
			pcapgen.LoadPayload(p, k, ch == 0)
			for i, c := range p {
				if f := from + k*len(p) + i; f < frames {
					data[2*f+ch] = c
				}
			}
		}
	}
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
	h = binary.LittleEndian.AppendUint32(h, 18)
	for _, v := range []uint16{wavMuLaw, 2} {
		h = binary.LittleEndian.AppendUint16(h, v)
	}
	h = binary.LittleEndian.AppendUint32(h, wavRate)
	h = binary.LittleEndian.AppendUint32(h, 2*wavRate)
	for _, v := range []uint16{2, 8, 0} {
		h = binary.LittleEndian.AppendUint16(h, v)
	}
	h = append(h, "fact"...)
	h = binary.LittleEndian.AppendUint32(h, 4)
	h = binary.LittleEndian.AppendUint32(h, uint32(frames)) //nolint:gosec // G115: test sizes
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(data))) //nolint:gosec // G115: test sizes
	b2 := append(h, data...)
	binary.LittleEndian.PutUint32(b2[4:], uint32(len(b2)-8)) //nolint:gosec // G115: test sizes
	return b2
}
