package recorder

import (
	"encoding/binary"
	"strings"

	"github.com/switchtap/switchtap/sip/sdp"
	"github.com/zaf/g711"
)

// kind is what a payload type carries on one direction of a leg.
type kind uint8

// Payload kinds. kindUnknown covers undecodable codecs and unknown payload
// types: they are placed as silence and counted.
const (
	kindUnknown kind = iota
	kindPCMU
	kindPCMA
	kindCN
	kindEvent
)

// String names the codec as the call record shows it.
func (k kind) String() string {
	switch k {
	case kindPCMU:
		return "PCMU"
	case kindPCMA:
		return "PCMA"
	case kindCN:
		return "CN"
	case kindEvent:
		return "telephone-event"
	}
	return "unknown"
}

// ptTable maps the 128 RTP payload types of one direction to kinds.
type ptTable [128]kind

// defaultTable knows the static payload types of RFC 3551 §6 Table 4 that
// matter here, for a direction whose SDP is not (yet) known.
func defaultTable() ptTable {
	var t ptTable
	t[0], t[8], t[13] = kindPCMU, kindPCMA, kindCN
	return t
}

// kindOf names the kind of an SDP format. G.711 and CN are only audio at
// 8000 Hz; telephone-event may be signalled at any rate, but its timestamps
// are not used for placement.
func kindOf(f sdp.Format) kind {
	switch {
	case strings.EqualFold(f.Name, "PCMU") && f.ClockRate == 8000:
		return kindPCMU
	case strings.EqualFold(f.Name, "PCMA") && f.ClockRate == 8000:
		return kindPCMA
	case strings.EqualFold(f.Name, "CN"):
		return kindCN
	case strings.EqualFold(f.Name, "telephone-event"):
		return kindEvent
	}
	return kindUnknown
}

// tableFor builds the payload table from the SDP of the receiving side: a
// sender uses the payload type numbers of the receiver's description
// (RFC 3264 §6.1).
func tableFor(m *sdp.Media) ptTable {
	t := defaultTable()
	if m == nil {
		return t
	}
	for _, f := range m.Formats {
		if f.PT < 128 {
			t[f.PT] = kindOf(f)
		}
	}
	return t
}

// format is the sample encoding of a WAV file.
type format uint8

// WAV encodings: G.711 stored as it came, or decoded 16-bit PCM.
const (
	formatULaw format = iota + 1
	formatALaw
	formatPCM16
)

// silence returns the byte that fills a silent sample of f: the G.711
// codes of a zero sample, 0xFF (μ-law) and 0xD5 (A-law), or 0 (both bytes
// of a 16-bit zero).
func (f format) silence() byte {
	switch f {
	case formatULaw:
		return 0xFF
	case formatALaw:
		return 0xD5
	}
	return 0
}

// width is the bytes of one sample of f.
func (f format) width() int {
	if f == formatPCM16 {
		return 2
	}
	return 1
}

// convert writes the payload of kind k into dst as samples of f, width()
// bytes each (16-bit little-endian for PCM): G.711 bytes of the file's law
// are copied as they are, the other law goes through the 256-entry tables
// of github.com/zaf/g711 (Alaw2UlawFrame, Ulaw2AlawFrame: a direct table,
// not a decode and an encode), and PCM is decoded by its tables too.
func (f format) convert(dst []byte, k kind, p []byte) {
	switch {
	case f == formatULaw && k == kindPCMU, f == formatALaw && k == kindPCMA:
		copy(dst, p)
	case f == formatULaw:
		dst = dst[:len(p)]
		for i, b := range p {
			dst[i] = g711.Alaw2UlawFrame(b)
		}
	case f == formatALaw:
		dst = dst[:len(p)]
		for i, b := range p {
			dst[i] = g711.Ulaw2AlawFrame(b)
		}
	case k == kindPCMU:
		dst = dst[:2*len(p)]
		for i, b := range p {
			binary.LittleEndian.PutUint16(dst[2*i:], uint16(g711.DecodeUlawFrame(b)))
		}
	default:
		dst = dst[:2*len(p)]
		for i, b := range p {
			binary.LittleEndian.PutUint16(dst[2*i:], uint16(g711.DecodeAlawFrame(b)))
		}
	}
}
