package lab_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchtap/switchtap/internal/nettest"
)

// checkRecording checks an answered leg's recording (recorder, enabled by
// default, WAV files under DATA_DIR/recordings): the WAV exists, it has two
// channels, neither is silent, and they differ the right way round: left is
// the caller's 400 Hz tone, right the answering phone's 1000 Hz (makeAudio),
// so the left channel crosses zero fewer times.
//
// Then, against the capture: every audio packet tshark decodes from the
// mirror port for this leg is in its channel byte for byte (the reference
// decode: G.711 codes equal means samples equal), placed by its RTP
// timestamp.
func checkRecording(t *testing.T, rec record, recDir, pcap string) {
	t.Helper()

	id := rec.Str("call_id")
	rc := rec.Obj("recording")
	if rc == nil {
		if _, answered := rec.Time("answered_at"); answered {
			t.Errorf("%s: answered leg without a recording", id)
		}
		return
	}
	file := rc.Str("file")
	if !filepath.IsAbs(file) {
		file = filepath.Join(recDir, file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("%s: recording: %v", id, err)
		return
	}
	left, right, err := wavChannels(b)
	if err != nil {
		t.Errorf("%s: recording %s: %v", id, file, err)
		return
	}
	lr, rr := rms(left), rms(right)
	zl, zr := zeroCrossings(left), zeroCrossings(right)
	t.Logf("%s: recording %s: %d samples, RMS left %.0f right %.0f, zero crossings left %d right %d",
		id, filepath.Base(file), len(left), lr, rr, zl, zr)
	if lr < 100 || rr < 100 {
		t.Errorf("%s: recording channel RMS left %.0f right %.0f: a side is silent", id, lr, rr)
	}
	if zl >= zr {
		t.Errorf("%s: left channel (caller, 400 Hz) crosses zero %d times, right (1000 Hz) %d: channels swapped or equal", id, zl, zr)
	}

	// The lab's second lines use port 5062: tshark must read SIP there to
	// find the RTP its SDP announces.
	extra := []string{"-d", "udp.port==5062,sip", "-d", "tcp.port==5062,sip"}
	answered, _ := rec.Time("answered_at")
	ended, _ := rec.Time("ended_at")
	gl, gr := nettest.WAVChannels(t, file)
	callerAddrs, calleeAddrs := nettest.SDPSides(t, pcap, id, extra...)
	n := nettest.CheckChannels(t, id, answered, ended, callerAddrs, calleeAddrs, nettest.TsharkRTP(t, pcap, extra...), gl, gr)
	if n == 0 {
		t.Errorf("%s: no audio packet of the capture to check the recording against", id)
	}
	t.Logf("%s: %d captured audio packets found bit-exact in the recording", id, n)
}

// wavChannels reads a 16-bit stereo PCM WAV into its two channels.
func wavChannels(b []byte) (left, right []int16, err error) {
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, nil, errNotWAV
	}
	var format, channels, bits uint16
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8 : min(len(b), off+8+size)]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, nil, errNotWAV
			}
			format = binary.LittleEndian.Uint16(body[0:])
			channels, bits = binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint16(body[14:])
		case "data":
			if channels != 2 {
				return nil, nil, fmt.Errorf("%w: %d channels", errNotStereo, channels)
			}
			if format == wavMuLaw || format == wavALaw {
				// G.711 as captured: one byte per sample (RFC 2361 tags).
				dec := ulawToLinear
				if format == wavALaw {
					dec = alawToLinear
				}
				for i := 0; i+2 <= len(body); i += 2 {
					left = append(left, dec(body[i]))
					right = append(right, dec(body[i+1]))
				}
				return left, right, nil
			}
			if format != wavPCM || bits != 16 {
				return nil, nil, fmt.Errorf("%w: format %d, %d bits", errNotStereo, format, bits)
			}
			for i := 0; i+4 <= len(body); i += 4 {
				left = append(left, int16(binary.LittleEndian.Uint16(body[i:])))
				right = append(right, int16(binary.LittleEndian.Uint16(body[i+2:])))
			}
			return left, right, nil
		}
		off += 8 + size + size%2
	}

	return nil, nil, errNotWAV
}

func rms(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}

	return math.Sqrt(sum / float64(len(s)))
}

func zeroCrossings(s []int16) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}

	return n
}

// WAVE format tags.
const (
	wavPCM   = 1
	wavALaw  = 6
	wavMuLaw = 7
)

// ulawToLinear decodes one G.711 µ-law byte (ITU-T G.711).
func ulawToLinear(u byte) int16 {
	u = ^u
	t := (int32(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// alawToLinear decodes one G.711 A-law byte (ITU-T G.711).
func alawToLinear(a byte) int16 {
	a ^= 0x55
	t := int32(a&0x0f) << 4
	seg := (a & 0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
