package recorder

import (
	"time"

	"github.com/pion/rtp"

	"github.com/switchtap/switchtap/rtpquality"
)

// Sequence constants of RFC 3550 Appendix A.1.
const (
	maxDropout  = 3000
	maxMisorder = 100
	// maxPayload bounds the bytes copied for a held packet: 60 ms of G.711
	// is 480 bytes; larger payloads are not audio we decode.
	maxPayload = 1500
	// sampleRate is the RTP clock and the WAV rate of G.711 (RFC 3551 §4.5.14).
	sampleRate = 8000
)

// placer receives the audio of a stream at its position on the leg's
// timeline, in samples since the answer.
type placer interface {
	place(pos int64, k kind, payload []byte)
}

// streamCounters are the figures of one stream.
type streamCounters struct {
	Packets     uint64 // packets accepted (audio, CN and events)
	Lost        uint64 // sequence numbers never received
	Late        uint64 // arrived after their place was already written
	Duplicates  uint64 // copies of packets already received
	Bad         uint64 // out-of-range sequence jumps dropped (RFC 3550 A.1)
	Undecodable uint64 // payload types that are not audio we decode
	Resyncs     uint64 // segments started on capture time
}

// slot is a packet held by the reorder window, with its own copy of the
// payload (the datagram's buffer is reused by the decoder).
type slot struct {
	used   bool
	ext    int64
	at     time.Time
	ts     uint32
	pt     uint8
	marker bool
	buf    []byte
}

// stream rebuilds the timeline of one RTP flow (one 5-tuple; a new SSRC on
// it starts a new segment). Memory is bounded by the reorder window.
type stream struct {
	answer  time.Time
	maxJump int64
	// table is the leg's slot of the channel's payload table, which a
	// later SDP replaces.
	table **ptTable
	out   placer
	dtmf  *dtmf

	started bool
	ssrc    uint32
	maxExt  int64 // highest extended sequence number seen
	next    int64 // next extended sequence number to emit
	badSeq  int64 // RFC 3550 A.1 bad_seq: the seq that confirms a jump
	seen    uint64
	window  []slot
	held    int

	tsValid  bool
	tsExt    int64 // extended timestamp of the last audio packet
	newSeg   bool
	segTS    int64 // extended timestamp of the segment's first packet
	segPos   int64 // its position, from its capture time
	havePrev bool
	prevEnd  int64 // position after the last audio placed

	firstKind kind
	lastSeen  time.Time
	c         streamCounters

	// jit is the RFC 3550 interarrival jitter of the stream's sources,
	// updated as packets arrive (quality.go); jitPrev says jitTS and
	// jitCN hold the previous packet of the current source.
	jit     rtpquality.Jitter
	audioN  uint64 // accepted packets carrying G.711 audio
	jitPrev bool
	jitCN   bool
	jitTS   uint32
}

// newStream returns a stream placing audio relative to answer.
func newStream(answer time.Time, maxJump time.Duration, window int, table **ptTable, out placer, d *dtmf) *stream {
	return &stream{
		answer:  answer,
		maxJump: samplesOf(maxJump),
		table:   table,
		out:     out,
		dtmf:    d,
		window:  make([]slot, window),
		badSeq:  -1,
		jit:     rtpquality.NewJitter(sampleRate),
	}
}

// samplesOf converts a duration to samples at 8 kHz, rounding down.
func samplesOf(d time.Duration) int64 {
	s := int64(d) / int64(time.Second) * sampleRate
	return s + int64(d)%int64(time.Second)*sampleRate/int64(time.Second)
}

// push takes one packet captured at at.
func (s *stream) push(at time.Time, h *rtp.Header, payload []byte) {
	s.lastSeen = at
	if s.started && h.SSRC != s.ssrc {
		// A new source (re-INVITE, transfer, music on hold): what is held
		// belongs to the old one.
		s.drain()
		s.started = false
	}
	if !s.started {
		s.restart(h)
	}
	d := int64(int16(h.SequenceNumber - uint16(s.maxExt)))
	if d > maxDropout || d < -maxMisorder {
		// RFC 3550 A.1: a large jump is believed only when the next
		// packet follows it; then the sender restarted its sequence.
		if int64(h.SequenceNumber) != s.badSeq {
			s.badSeq = int64(h.SequenceNumber+1) & 0xFFFF
			s.c.Bad++
			return
		}
		s.drain()
		s.restart(h)
		d = 0
	}
	s.badSeq = -1
	s.arrival(at, h)
	ext := s.maxExt + d
	if d > 0 {
		s.maxExt = ext
	}
	if ext < s.next {
		if back := s.next - 1 - ext; back < 64 && s.seen&(1<<uint(back)) != 0 {
			s.c.Duplicates++
		} else {
			s.c.Late++
		}
		return
	}
	if ext == s.next && s.held == 0 {
		s.emit(ext, at, h.Timestamp, h.PayloadType, h.Marker, payload)
		return
	}
	if s.hold(ext, at, h, payload) {
		s.release(false)
	}
}

// restart begins a new sequence space at h and a new timeline segment.
func (s *stream) restart(h *rtp.Header) {
	s.started = true
	s.ssrc = h.SSRC
	s.maxExt = int64(h.SequenceNumber)
	s.next = s.maxExt
	s.seen = 0
	s.tsValid = false
	s.newSeg = true
	// A new source, or the same one restarting its sequence: its
	// timestamps have no relation to the previous packet's.
	s.jit.Restart()
	s.jitPrev = false
}

// arrival updates the jitter estimate with a packet as it arrives, before
// any reordering: RFC 3550 A.8 computes the jitter in order of arrival,
// duplicates and late packets included. Only packets whose timestamps are
// sampling instants of the 8 kHz clock take part: audio and comfort noise,
// not RFC 4733 events (an event's timestamp is its start, §2.2.1) nor
// payloads we do not know the clock of.
func (s *stream) arrival(at time.Time, h *rtp.Header) {
	k := kindUnknown
	if h.PayloadType < 128 {
		k = (*s.table)[h.PayloadType]
	}
	if k == kindUnknown || k == kindEvent {
		return
	}
	cn := k == kindCN
	back := s.jitPrev && int32(h.Timestamp-s.jitTS) < 0
	s.jit.Update(at, h.Timestamp, rtpquality.Regular(h.Marker, cn, s.jitPrev && s.jitCN, back))
	s.jitPrev, s.jitCN, s.jitTS = true, cn, h.Timestamp
}

// hold copies the packet into the window, reporting false for a duplicate.
// A full window releases its oldest packet first.
func (s *stream) hold(ext int64, at time.Time, h *rtp.Header, payload []byte) bool {
	free := -1
	for i := range s.window {
		w := &s.window[i]
		if !w.used {
			if free < 0 {
				free = i
			}
			continue
		}
		if w.ext == ext {
			s.c.Duplicates++
			return false
		}
	}
	if free < 0 {
		s.releaseOldest()
		return s.hold(ext, at, h, payload)
	}
	if len(payload) > maxPayload {
		payload = payload[:maxPayload]
	}
	w := &s.window[free]
	w.used, w.ext, w.at, w.ts, w.pt, w.marker = true, ext, at, h.Timestamp, h.PayloadType, h.Marker
	w.buf = append(w.buf[:0], payload...)
	s.held++
	return true
}

// release emits the held packets that are next in sequence; with all set
// it emits every held packet, counting the gaps as lost.
func (s *stream) release(all bool) {
	for s.held > 0 {
		i := s.find(s.next)
		if i < 0 {
			if !all && s.held < len(s.window) {
				return
			}
			s.releaseOldest()
			continue
		}
		s.emitSlot(i)
	}
}

// releaseOldest emits the held packet with the lowest sequence number.
func (s *stream) releaseOldest() {
	best := -1
	for i := range s.window {
		if s.window[i].used && (best < 0 || s.window[i].ext < s.window[best].ext) {
			best = i
		}
	}
	if best >= 0 {
		s.emitSlot(best)
	}
}

func (s *stream) find(ext int64) int {
	for i := range s.window {
		if s.window[i].used && s.window[i].ext == ext {
			return i
		}
	}
	return -1
}

func (s *stream) emitSlot(i int) {
	w := &s.window[i]
	w.used = false
	s.held--
	s.emit(w.ext, w.at, w.ts, w.pt, w.marker, w.buf)
}

// drain emits everything held (end of the stream or of its SSRC).
func (s *stream) drain() { s.release(true) }

// emit accounts for a packet in sequence order and places its audio.
func (s *stream) emit(ext int64, at time.Time, ts uint32, pt uint8, marker bool, payload []byte) {
	if gap := ext - s.next; gap > 0 {
		s.c.Lost += uint64(gap)
		if gap >= 64 {
			s.seen = 0
		} else {
			s.seen <<= uint(gap)
		}
	}
	s.seen = s.seen<<1 | 1
	s.next = ext + 1
	s.c.Packets++
	k := kindUnknown
	if pt < 128 {
		k = (*s.table)[pt]
	}
	switch k {
	case kindEvent:
		s.dtmf.packet(at, ts, payload)
		return
	case kindCN:
		// RFC 3389 comfort noise is rendered as silence: the next audio
		// packet's timestamp leaves the gap empty.
		return
	case kindUnknown:
		s.c.Undecodable++
		return
	}
	if len(payload) == 0 {
		return
	}
	if s.firstKind == kindUnknown {
		s.firstKind = k
	}
	s.audioN++
	s.audio(at, ts, marker, k, payload)
}

// audio places one G.711 packet. Its position is the capture time of the
// segment's first packet plus the timestamp distance from it; loss and DTX
// (RFC 3551 §4.1: marker with a timestamp jump) leave silence of the exact
// length. A backwards or absurd jump starts a new segment on capture time.
func (s *stream) audio(at time.Time, ts uint32, _ bool, k kind, payload []byte) {
	if s.tsValid {
		s.tsExt += int64(int32(ts - uint32(s.tsExt)))
	} else {
		s.tsExt, s.tsValid = int64(ts), true
	}
	if !s.newSeg {
		pos := s.segPos + (s.tsExt - s.segTS)
		// A long silence (DTX, comfort noise, hold) advances the
		// timestamp as the capture clock does: only a jump that the
		// capture time does not confirm is absurd.
		if gap := pos - s.prevEnd; gap < 0 || gap > s.maxJump && abs(pos-samplesOf(at.Sub(s.answer))) > s.maxJump {
			s.newSeg = true
			s.c.Resyncs++
		}
	}
	if s.newSeg {
		s.newSeg = false
		s.segTS = s.tsExt
		s.segPos = samplesOf(at.Sub(s.answer))
		if s.havePrev && s.segPos < s.prevEnd {
			// Never overwrite what the previous segment placed.
			s.segPos = s.prevEnd
		}
	}
	pos := s.segPos + (s.tsExt - s.segTS)
	s.out.place(pos, k, payload)
	s.prevEnd, s.havePrev = pos+int64(len(payload)), true
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
