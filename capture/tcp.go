package capture

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// A small hand-written in-order reassembler rather than gopacket/reassembly:
// that one waits for a SYN unless told otherwise, only skips a gap on a
// flush, cannot mark the first bytes after a gap for our StreamStart, and
// allocates per segment; we need exact "never deliver a byte twice" and
// bounded buffers with a zero-copy in-order path.

// maxRewind is how far behind the next expected byte a segment may start
// and still count as a retransmission; further back it is taken as a new
// connection on the same ports whose handshake was missed.
const maxRewind = 1 << 24

// tcpKey names one direction of one connection. The VLAN is part of it: a
// mirror port may see the same connection on two hops.
type tcpKey struct {
	src, dst netip.AddrPort
	vlan     uint16
}

// tcpSegment is an out-of-order segment held until the bytes before it come.
type tcpSegment struct {
	seq  uint32
	data []byte
	t    time.Time
}

// tcpStream is the reassembly state of one direction.
type tcpStream struct {
	next     uint32 // next expected sequence number
	gap      bool   // the next delivered bytes start the stream or follow a gap
	closed   bool   // FIN or RST seen and consumed: kept only to drop retransmissions
	finSeen  bool
	finSeq   uint32
	last     time.Time // capture time of the last segment
	pending  []tcpSegment
	buffered int
	ws       wsTrack // SIP over WebSocket (websocket.go)
}

// tcpAssembler turns TCP segments into in-order stream bytes.
type tcpAssembler struct {
	streams     map[tcpKey]*tcpStream
	maxStreams  int
	maxBuffered int
	idle        time.Duration
	gapTimeout  time.Duration

	delivered     uint64
	segments      uint64
	retransmitted uint64
	skipped       uint64
	dropped       uint64
	refused       uint64
	expired       uint64

	// ws counts the WebSocket layer; scratch is where it unmasks a frame
	// that is handed on at once (websocket.go).
	ws      wsCounters
	scratch []byte
	// wsMessage is true while emit is handed one whole WebSocket message
	// (wsEmit), so the decoder can mark it Datagram.Message. A field, not
	// a fourth emit argument, keeps emit's type for its other callers.
	wsMessage bool
}

func newTCPAssembler(maxStreams, maxBuffered int, idle, gapTimeout time.Duration) *tcpAssembler {
	return &tcpAssembler{
		streams:     make(map[tcpKey]*tcpStream),
		maxStreams:  maxStreams,
		maxBuffered: maxBuffered,
		idle:        idle,
		gapTimeout:  gapTimeout,
	}
}

// tcpFlags are the flags the assembler looks at.
type tcpFlags struct{ syn, fin, rst bool }

// segment takes one TCP segment and emits the in-order bytes it makes
// available through emit, each run with the capture time of the segment that
// carried it and whether it starts the stream.
func (a *tcpAssembler) segment(k tcpKey, seq uint32, fl tcpFlags, payload []byte, ts time.Time,
	emit func(data []byte, t time.Time, start bool),
) error {
	if len(payload) > 0 {
		a.segments++
	}
	s := a.streams[k]
	if s == nil {
		if fl.rst || (len(payload) == 0 && !fl.syn) {
			// A pure ACK or FIN of a stream we do not follow: nothing to keep.
			return nil
		}
		if len(a.streams) >= a.maxStreams {
			a.refused++
			return fmt.Errorf("%w: %d streams, %s > %s", ErrStreamLimit, len(a.streams), k.src, k.dst)
		}
		// Mid-stream pickup: without a SYN the first segment seen starts it.
		s = &tcpStream{next: seq, gap: true}
		if fl.syn {
			s.next = seq + 1
		}
		a.streams[k] = s
	} else if fl.syn && s.next != seq+1 {
		// A new connection on the same ports (RFC 9293 3.4): start over.
		a.reset(s)
		s.next = seq + 1
	}
	s.last = ts
	if len(s.pending) > 0 && ts.Sub(s.pending[0].t) > a.gapTimeout {
		// A segment missing this long was lost on the mirror, not in the
		// network (the peer would have resent it): skip the gap so the
		// bytes held behind it are not stalled.
		first := s.pending[0].seq
		a.skipped += uint64(first - s.next)
		s.next, s.gap = first, true
		a.drain(s, emit)
	}
	if fl.syn {
		seq++ // the SYN occupies one sequence number; data follows it
	}
	if len(payload) > 0 {
		a.data(s, seq, payload, ts, true, emit)
	}
	if fl.rst {
		a.dropStream(k, s)
		// The connection is gone in both directions.
		if r, ok := a.streams[tcpKey{src: k.dst, dst: k.src, vlan: k.vlan}]; ok {
			a.dropStream(tcpKey{src: k.dst, dst: k.src, vlan: k.vlan}, r)
		}
		return nil
	}
	if fl.fin {
		s.finSeen, s.finSeq = true, seq+uint32(len(payload)) //nolint:gosec // G115: a segment is < 64 KiB
	}
	a.closeIfDone(s)
	return nil
}

// data handles the bytes of one segment starting at seq. fresh tells that
// the bytes come from the wire (not from the out-of-order buffer), so they
// alias the capture buffer and must be copied before being held.
func (a *tcpAssembler) data(s *tcpStream, seq uint32, b []byte, ts time.Time, fresh bool,
	emit func([]byte, time.Time, bool),
) {
	off := int64(int32(seq - s.next)) //nolint:gosec // G115: sequence space wraps by design (RFC 9293 3.4)
	end := off + int64(len(b))
	switch {
	case off < -maxRewind:
		// Far behind: a new connection whose SYN we missed.
		a.reset(s)
		s.next = seq
		off = 0
	case end <= 0:
		a.retransmitted += uint64(len(b))
		return
	}
	if off > 0 {
		a.hold(s, seq, b, ts, fresh, emit)
		return
	}
	if off < 0 {
		a.retransmitted += uint64(-off)
		b = b[-off:]
	}
	start := s.gap
	s.gap, s.closed = false, false
	s.next += uint32(len(b)) //nolint:gosec // G115: a segment is < 64 KiB
	a.delivered += uint64(len(b))
	a.deliver(s, b, ts, start, emit)
	a.drain(s, emit)
}

// hold buffers an out-of-order segment. When the buffer would overflow,
// the missing bytes are given up for lost: delivery resumes at the first
// held byte with StreamStart set.
func (a *tcpAssembler) hold(s *tcpStream, seq uint32, b []byte, ts time.Time, fresh bool,
	emit func([]byte, time.Time, bool),
) {
	if s.buffered+len(b) > a.maxBuffered {
		first := seq
		if len(s.pending) > 0 && int32(s.pending[0].seq-seq) < 0 { //nolint:gosec // G115: sequence arithmetic
			first = s.pending[0].seq
		}
		a.skipped += uint64(first - s.next)
		s.next = first
		s.gap = true
		a.drain(s, emit)
		// Now this segment is in order, a retransmission, or still ahead
		// of a smaller buffer.
		if s.buffered+len(b) > a.maxBuffered && int32(seq-s.next) > 0 { //nolint:gosec // G115: sequence arithmetic
			a.skipped += uint64(seq - s.next)
			s.next = seq
			s.gap = true
			a.dropPending(s)
		}
		a.data(s, seq, b, ts, fresh, emit)
		return
	}
	if fresh {
		b = slices.Clone(b)
	}
	i, _ := slices.BinarySearchFunc(s.pending, seq, func(p tcpSegment, q uint32) int {
		return int(int32(p.seq - q)) //nolint:gosec // G115: sequence arithmetic
	})
	s.pending = slices.Insert(s.pending, i, tcpSegment{seq: seq, data: b, t: ts})
	s.buffered += len(b)
}

// drain delivers held segments that have become in order.
func (a *tcpAssembler) drain(s *tcpStream, emit func([]byte, time.Time, bool)) {
	for len(s.pending) > 0 {
		p := s.pending[0]
		if int32(p.seq-s.next) > 0 { //nolint:gosec // G115: sequence arithmetic
			return
		}
		s.pending = s.pending[1:]
		s.buffered -= len(p.data)
		a.data(s, p.seq, p.data, p.t, false, emit)
	}
	s.pending = nil
}

// closeIfDone marks a stream closed once every byte up to its FIN has been
// delivered, and frees its buffer.
func (a *tcpAssembler) closeIfDone(s *tcpStream) {
	if s.finSeen && s.next == s.finSeq {
		s.closed = true
		a.dropPending(s)
	}
}

func (a *tcpAssembler) dropPending(s *tcpStream) {
	a.dropped += uint64(s.buffered) //nolint:gosec // G115: a count
	s.pending, s.buffered = nil, 0
}

func (a *tcpAssembler) reset(s *tcpStream) {
	a.dropPending(s)
	*s = tcpStream{gap: true, last: s.last}
}

// dropStream forgets a stream. After a reset its retransmissions are
// unlikely, so it is not kept.
func (a *tcpAssembler) dropStream(k tcpKey, s *tcpStream) {
	a.dropPending(s)
	delete(a.streams, k)
}

// expire forgets streams idle since before now-idle.
func (a *tcpAssembler) expire(now time.Time) {
	cutoff := now.Add(-a.idle)
	for k, s := range a.streams {
		if s.last.Before(cutoff) {
			a.dropStream(k, s)
			a.expired++
		}
	}
}

// open counts the streams not yet closed.
func (a *tcpAssembler) open() int {
	n := 0
	for _, s := range a.streams {
		if !s.closed {
			n++
		}
	}
	return n
}
