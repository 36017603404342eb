package sdp

import (
	"strconv"
	"strings"
)

// applyRtpmap fills f from "<encoding name>/<clock rate>[/<encoding
// parameters>]" (RFC 8866 §6.6). It reports false, leaving f alone, when the
// name or the clock rate is missing: a broken line must not erase what the
// static table said.
func applyRtpmap(f *Format, enc string, audio bool) bool {
	name, rest, _ := strings.Cut(firstField(enc), "/")
	rate, params, hasParams := strings.Cut(rest, "/")
	r, err := strconv.Atoi(rate)
	if name == "" || err != nil || r <= 0 {
		return false
	}
	f.Name, f.ClockRate, f.Channels = name, r, 0
	if audio {
		// For audio the parameter is the channel count, one when omitted.
		f.Channels = 1
		if c, err := strconv.Atoi(params); hasParams && err == nil && c > 0 {
			f.Channels = c
		}
	}
	return true
}

// staticFormat returns the RFC 3551 §6 (Tables 4 and 5) format of a static
// payload type; Name is empty for dynamic or unassigned ones.
func staticFormat(pt uint8) Format {
	name, rate, ch := "", 8000, 1
	switch pt {
	case 0:
		name = "PCMU"
	case 3:
		name = "GSM"
	case 4:
		name = "G723"
	case 5:
		name = "DVI4"
	case 6:
		name, rate = "DVI4", 16000
	case 7:
		name = "LPC"
	case 8:
		name = "PCMA"
	case 9:
		// G.722 samples at 16 kHz but its RTP clock is 8000 (RFC 3551 §4.5.2).
		name = "G722"
	case 10:
		name, rate, ch = "L16", 44100, 2
	case 11:
		name, rate = "L16", 44100
	case 12:
		name = "QCELP"
	case 13:
		name = "CN"
	case 14:
		name, rate = "MPA", 90000
	case 15:
		name = "G728"
	case 16:
		name, rate = "DVI4", 11025
	case 17:
		name, rate = "DVI4", 22050
	case 18:
		name = "G729"
	case 25:
		name, rate, ch = "CelB", 90000, 0
	case 26:
		name, rate, ch = "JPEG", 90000, 0
	case 28:
		name, rate, ch = "nv", 90000, 0
	case 31:
		name, rate, ch = "H261", 90000, 0
	case 32:
		name, rate, ch = "MPV", 90000, 0
	case 33:
		name, rate, ch = "MP2T", 90000, 0
	case 34:
		name, rate, ch = "H263", 90000, 0
	default:
		return Format{PT: pt}
	}
	return Format{PT: pt, Name: name, ClockRate: rate, Channels: ch}
}

// parsePT reads an RTP payload type, 0..127 (RFC 3550 §5.1).
func parsePT(s string) (uint8, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > 127 {
		return 0, false
	}
	return uint8(n), true //nolint:gosec // G115: checked above.
}

// splitPT splits "<payload type> <rest>" of a=rtpmap and a=fmtp.
func splitPT(v string) (uint8, string, bool) {
	i := strings.IndexAny(v, " \t")
	if i < 0 {
		return 0, "", false
	}
	pt, ok := parsePT(v[:i])
	return pt, strings.Trim(v[i:], " \t"), ok
}
