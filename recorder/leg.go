package recorder

import (
	"net/netip"
	"strings"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/sip/sdp"
)

// maxStreams bounds the flows recorded per leg (re-anchoring, forking and
// music on hold each add one).
const maxStreams = 16

// side is one party of a leg: what its latest SDP said.
type side struct {
	sess  *sdp.Session
	audio *sdp.Media // first audio m= line with a port, or nil
	key   netip.AddrPort
	// prior is what the latest SDP replaced (offer.go).
	prior priorOffer
}

// expectation says which leg and channel RTP toward an address belongs to.
// last is the flow toward the address that a packet went to last: the
// flow of the next packet, but for a second source (re-anchoring,
// forking), which the leg's flows give.
type expectation struct {
	leg     *leg
	channel int
	learned bool
	last    *flow
}

// leg is the recording state of one call leg (one Call-ID). The fields
// every packet reads come first, in the leg's first cache lines: with a
// thousand legs open their state does not stay in the cache, and each
// line a packet touches is a fetch from memory.
type leg struct {
	started bool // recording set up (or refused)
	mix     *mixer
	pcap    *pcapWriter
	tables  [2]*ptTable // per channel: payload types of the receiving side (Recorder.table)
	last    time.Time   // capture time of the last packet recorded
	// hold and gaps measure the time on hold from the SDP and from the
	// audio (hold.go).
	gaps audioGaps
	hold holdSignal

	callID   string
	recordID string
	caller   side
	callee   side

	answered bool
	answerAt time.Time
	notRec   string
	relPath  string
	codecs   [2]kind

	file    *wavFile // the WAV, for the writer goroutine
	flows   []*flow
	learned []netip.AddrPort
	dtmf    [2]dtmf
	early   uint64
	frames  int64  // frames in the finished file
	late    uint64 // samples dropped by the mixer as late
	speech  *sip.Speech
}

// flow is one RTP 5-tuple of a leg and the stream rebuilding it (in the
// flow's memory: a packet touches one object for both).
type flow struct {
	src, dst netip.AddrPort
	channel  int
	closed   bool
	st       stream
}

// firstAudio returns the first audio m= line that is not rejected.
func firstAudio(s *sdp.Session) *sdp.Media {
	for i := range s.Media {
		m := &s.Media[i]
		if m.Type == "audio" && m.Port != 0 {
			return m
		}
	}
	return nil
}

// answerSide returns the side whose SDP decides the codecs: the answering
// side's when known (RFC 3264 §6.1: its order is the preference), else the
// caller's.
func (l *leg) answerSide() *side {
	if l.callee.audio != nil {
		return &l.callee
	}
	return &l.caller
}

// negotiated returns the first audio codec of the answer that the other
// side also offered, or the first of the answer.
func (l *leg) negotiated() (kind, string) {
	a := l.answerSide().audio
	if a == nil {
		return kindUnknown, ""
	}
	var other *sdp.Media
	if a == l.callee.audio {
		other = l.caller.audio
	} else {
		other = l.callee.audio
	}
	first := ""
	for _, f := range a.Formats {
		k := kindOf(f)
		if k == kindCN || k == kindEvent {
			continue
		}
		if first == "" {
			first = f.Name
		}
		if other != nil && !offers(other, f) {
			continue
		}
		return k, f.Name
	}
	return kindUnknown, first
}

// offers reports whether m lists the codec of f.
func offers(m *sdp.Media, f sdp.Format) bool {
	for _, g := range m.Formats {
		if strings.EqualFold(g.Name, f.Name) && (g.ClockRate == f.ClockRate || g.ClockRate == 0 || f.ClockRate == 0) {
			return true
		}
	}
	return false
}

// refusal returns why the leg's audio cannot be written as WAV, or "".
func (l *leg) refusal() (string, kind) {
	for _, s := range []*side{&l.caller, &l.callee} {
		if s.audio != nil && s.audio.Encrypted() {
			return "encrypted (SRTP)", kindUnknown
		}
	}
	if l.caller.audio == nil && l.callee.audio == nil {
		return "no audio stream", kindUnknown
	}
	k, name := l.negotiated()
	if k != kindPCMU && k != kindPCMA {
		if name == "" {
			name = "none"
		}
		return "codec " + name, kindUnknown
	}
	return "", k
}

// fileFormat is the WAV encoding: G.711 as sent when both directions use
// the same law, else 16-bit PCM.
func fileFormat(a, b kind, forcePCM bool) format {
	switch {
	case forcePCM || a != b:
		return formatPCM16
	case a == kindPCMA:
		return formatALaw
	}
	return formatULaw
}
