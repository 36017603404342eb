package capture

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// SIP over WebSocket (RFC 7118), as WebRTC phones speak it. A WebSocket
// connection is recognised by its opening handshake (RFC 6455 §4: an
// HTTP/1.1 GET with "Upgrade: websocket", answered by "101"), carrying the
// "sip" subprotocol (RFC 7118 §4) in Sec-WebSocket-Protocol, on any port and
// in each direction on its own (the request says it for the client's bytes,
// the 101 for the server's). After the handshake the direction's bytes are
// RFC 6455 §5 frames; every WebSocket message is one SIP message (RFC 7118
// §5), handed on as one run of stream bytes with StreamStart set (it owes
// nothing to what came before) and Datagram.Message set (it is whole: not
// to be framed by Content-Length, which RFC 7118 does not require), with
// the capture time of the segment that completed it. The handshake itself
// and control frames are not handed on.
// A stream that is not WebSocket is passed through untouched.
//
// The capture may also start on a connection already open (phones keep
// theirs for hours), or lose a segment of it: then frames are picked up
// where a data frame header is followed by a SIP start line.

// Limits of the WebSocket layer.
const (
	// wsMaxMessage bounds a message (all its fragments): a SIP message is
	// at most sip.MaxMessageSize, larger frames are skipped, not held.
	wsMaxMessage = sip.MaxMessageSize
	// wsMaxHandshake bounds the HTTP header block of a handshake held
	// while it spans segments (browsers send well under 1 KiB).
	wsMaxHandshake = 8 << 10
	// wsKeepBuffer is the largest message buffer a stream keeps between
	// messages; a larger one is released so a rare big message does not
	// pin memory for the life of the connection.
	wsKeepBuffer = 8 << 10
	// wsMaxHeader is the longest frame header: 2 bytes, 8 of extended
	// length, 4 of masking key (RFC 6455 §5.2).
	wsMaxHeader = 14
	// wsPeek bounds how much of a payload is unmasked to see whether it
	// starts with a SIP start line.
	wsPeek = 1024
)

// WebSocket opcodes (RFC 6455 §5.2) and header bits.
const (
	wsOpContinuation = 0x0
	wsOpText         = 0x1
	wsOpBinary       = 0x2
	wsOpClose        = 0x8
	wsOpPing         = 0x9
	wsOpPong         = 0xa
	wsFIN            = 0x80
	wsRSV1           = 0x40
	wsRSV23          = 0x30
	wsMaskBit        = 0x80
	wsMaxControl     = 125
)

// wsState is what a TCP direction is known to carry.
type wsState uint8

const (
	// wsUnknown: nothing decided yet; the start of every run is looked
	// at for a handshake or a frame (a connection picked up mid-way).
	wsUnknown wsState = iota
	// wsPlain: the stream began with a SIP start line, so it is SIP over
	// TCP and passed through for good (until the connection is reset).
	wsPlain
	// wsHTTP: inside an HTTP header block that began in an earlier run.
	wsHTTP
	// wsFrames: after a SIP WebSocket handshake, reading frames.
	wsFrames
	// wsResync: frames, after a gap or a protocol error: looking for the
	// next frame that carries the start of a SIP message.
	wsResync
)

// wsTrack is the WebSocket state of one TCP direction, kept in its
// tcpStream. conn is allocated only for HTTP and WebSocket streams.
type wsTrack struct {
	state wsState
	conn  *wsConn
}

// wsConn is the framing state of one WebSocket direction.
type wsConn struct {
	// http holds a handshake header block spanning segments; httpStart
	// is the StreamStart of its first bytes, kept for passing them on if
	// they turn out not to be a SIP handshake.
	http      []byte
	httpStart bool

	// hdr holds a frame header split across segments.
	hdr  [wsMaxHeader]byte
	nhdr int

	// The frame being read: payload bytes left, its opcode, FIN, masking
	// key and the key's phase, and whether its payload is thrown away.
	left   uint64
	op     byte
	fin    bool
	masked bool
	key    [4]byte
	phase  int
	skip   bool

	// The message being assembled from fragments; inMsg says a data
	// frame without FIN was seen, dropMsg that the message is refused
	// and its remaining fragments skipped.
	msg     []byte
	inMsg   bool
	dropMsg bool
}

// wsCounters counts what the WebSocket layer did.
type wsCounters struct {
	handshakes uint64 // directions that completed a SIP WebSocket handshake
	pickups    uint64 // directions picked up (or resynchronised) on a frame
	messages   uint64 // messages handed on
	frames     uint64 // frames read
	control    uint64 // control frames skipped (ping, pong, close)
	refused    uint64 // frames refused: message over wsMaxMessage
	compressed uint64 // frames refused: compressed (RSV1, RFC 7692)
	errors     uint64 // protocol errors that cost a resynchronisation
	skipped    uint64 // bytes thrown away: refused frames, resync, gaps
}

var (
	httpGet      = []byte("GET ")
	httpResponse = []byte("HTTP/1.")
)

// deliver is the hook between TCP reassembly and the callback: every run
// of in-order bytes of s goes through it. Plain streams cost one compare.
func (a *tcpAssembler) deliver(s *tcpStream, b []byte, ts time.Time, start bool,
	emit func([]byte, time.Time, bool),
) {
	w := &s.ws
	if w.state == wsPlain {
		emit(b, ts, start)
		return
	}
	if start {
		a.wsGap(w)
	}
	for len(b) > 0 {
		switch w.state {
		case wsPlain:
			emit(b, ts, start)
			return
		case wsUnknown:
			b, start = a.wsSniff(w, b, ts, start, emit)
		case wsHTTP:
			b, start = a.wsHTTPMore(w, b, ts, emit)
		case wsFrames:
			b = a.wsFrames(w.conn, w, b, ts, emit)
		case wsResync:
			b = a.wsResync(w, b)
		}
	}
}

// wsGap handles the start of a stream or the bytes after a gap: whatever
// was partial is lost.
func (a *tcpAssembler) wsGap(w *wsTrack) {
	c := w.conn
	switch w.state {
	case wsHTTP:
		// A handshake cut by a gap cannot be read; its bytes were HTTP.
		a.ws.skipped += uint64(len(c.http))
		c.http = nil
		w.state = wsUnknown
	case wsFrames:
		a.wsLose(c)
		w.state = wsResync
	}
}

// wsLose drops the frame and message in progress.
func (a *tcpAssembler) wsLose(c *wsConn) {
	a.ws.skipped += uint64(c.nhdr) + uint64(len(c.msg))
	c.nhdr, c.left, c.skip = 0, 0, false
	c.inMsg, c.dropMsg = false, false
	c.releaseMsg()
}

// wsSniff looks at the first bytes of a run of an undecided stream. It
// returns what is left to process and the StreamStart of it.
func (a *tcpAssembler) wsSniff(w *wsTrack, b []byte, ts time.Time, start bool,
	emit func([]byte, time.Time, bool),
) ([]byte, bool) {
	switch {
	case isPrefixOf(b, httpGet) || isPrefixOf(b, httpResponse):
		if w.conn == nil {
			w.conn = &wsConn{}
		}
		end := httpHeaderEnd(b)
		if end < 0 {
			if len(b) > wsMaxHandshake {
				// Far too long for a handshake: not one.
				emit(b, ts, start)
				return nil, false
			}
			w.conn.http = append(w.conn.http[:0], b...)
			w.conn.httpStart = start
			w.state = wsHTTP
			return nil, false
		}
		if a.wsHandshake(b[:end]) {
			w.state = wsFrames
			a.ws.handshakes++
			return b[end:], false
		}
		emit(b, ts, start)
		return nil, false
	case sip.LooksLikeSIP(b):
		w.state = wsPlain
		emit(b, ts, start)
		return nil, false
	}
	if a.wsPlausible(b) {
		if w.conn == nil {
			w.conn = &wsConn{}
		}
		w.state = wsFrames
		a.ws.pickups++
		return b, false
	}
	emit(b, ts, start)
	return nil, false
}

// wsHTTPMore continues a handshake header block held from earlier runs.
func (a *tcpAssembler) wsHTTPMore(w *wsTrack, b []byte, ts time.Time,
	emit func([]byte, time.Time, bool),
) ([]byte, bool) {
	c := w.conn
	held := len(c.http)
	c.http = append(c.http, b[:min(len(b), wsMaxHandshake+1-held)]...)
	if !isPrefixOf(c.http, httpGet) && !isPrefixOf(c.http, httpResponse) {
		// The few bytes held were not the start of HTTP after all.
		return a.wsNotHTTP(w, held, b, ts, emit)
	}
	// The blank line may straddle the two runs: search from a few bytes
	// back.
	from := max(held-3, 0)
	end := httpHeaderEnd(c.http[from:])
	if end < 0 {
		if len(c.http) > wsMaxHandshake {
			return a.wsNotHTTP(w, held, b, ts, emit)
		}
		return nil, false
	}
	end += from
	if !a.wsHandshake(c.http[:end]) {
		return a.wsNotHTTP(w, held, b, ts, emit)
	}
	c.http = nil // a handshake happens once: do not keep its buffer
	w.state = wsFrames
	a.ws.handshakes++
	return b[end-held:], false
}

// wsNotHTTP passes on, unchanged, the held bytes and the run, and leaves
// the stream undecided.
func (a *tcpAssembler) wsNotHTTP(w *wsTrack, held int, b []byte, ts time.Time,
	emit func([]byte, time.Time, bool),
) ([]byte, bool) {
	c := w.conn
	emit(c.http[:held], ts, c.httpStart)
	c.http = nil
	w.state = wsUnknown
	emit(b, ts, false)
	return nil, false
}

// wsHandshake reports whether an HTTP header block is the opening
// handshake of a SIP WebSocket: a GET or a 101 response, with
// "Upgrade: websocket" and the "sip" subprotocol.
func (a *tcpAssembler) wsHandshake(h []byte) bool {
	line, rest, _ := bytes.Cut(h, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	switch {
	case bytes.HasPrefix(line, httpGet):
		if !bytes.HasSuffix(line, []byte(" HTTP/1.1")) {
			return false
		}
	case bytes.HasPrefix(line, httpResponse):
		// "HTTP/1.1 101 Switching Protocols"
		if len(line) < 12 || !bytes.Equal(line[8:12], []byte(" 101")) {
			return false
		}
	default:
		return false
	}
	var upgrade, proto bool
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		switch {
		case bytes.EqualFold(name, []byte("upgrade")):
			upgrade = upgrade || hasToken(value, "websocket")
		case bytes.EqualFold(name, []byte("sec-websocket-protocol")):
			proto = proto || hasToken(value, "sip")
		}
	}
	return upgrade && proto
}

// hasToken reports whether a comma-separated header value holds tok,
// without regard to case.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(tok)) {
			return true
		}
	}
	return false
}

// httpHeaderEnd returns the index just past the blank line that ends an
// HTTP header block, or -1.
func httpHeaderEnd(b []byte) int {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return i + 2
	}
	return -1
}

// isPrefixOf reports whether b starts with p, or is a start of p (a run
// of a few bytes that may still become p).
func isPrefixOf(b, p []byte) bool {
	n := min(len(b), len(p))
	return n > 0 && bytes.Equal(b[:n], p[:n])
}

// wsResync looks for a frame boundary in a run after a gap: the first
// offset where a data frame starts with a SIP start line. Bytes before it
// are thrown away; a run without one is thrown away whole.
func (a *tcpAssembler) wsResync(w *wsTrack, b []byte) []byte {
	for i := range b {
		if a.wsPlausible(b[i:]) {
			a.ws.skipped += uint64(i)
			a.ws.pickups++
			w.state = wsFrames
			return b[i:]
		}
	}
	a.ws.skipped += uint64(len(b))
	return nil
}

// wsPlausible reports whether b starts with the header of a data frame
// that begins a message and whose payload starts with a SIP start line.
func (a *tcpAssembler) wsPlausible(b []byte) bool {
	if len(b) < 2 || b[0]&(wsRSV1|wsRSV23) != 0 {
		return false
	}
	if op := b[0] & 0x0f; op != wsOpText && op != wsOpBinary {
		return false
	}
	h, n, ok := parseFrameHeader(b)
	if !ok || h.n == 0 || n > uint64(wsMaxMessage) {
		return false
	}
	p := b[h.n:]
	if uint64(len(p)) > n {
		p = p[:n]
	}
	p = p[:min(len(p), wsPeek)]
	if h.masked {
		a.scratch = unmask(a.scratch[:0], p, h.key, 0)
		p = a.scratch
	}
	return sip.LooksLikeSIP(p)
}

// frameHeader is a parsed frame header; n is its length in bytes, 0 when
// b holds too few bytes for it.
type frameHeader struct {
	n      int
	fin    bool
	op     byte
	rsv    byte
	masked bool
	key    [4]byte
}

// parseFrameHeader reads a frame header (RFC 6455 §5.2) from the start of
// b and returns it with the payload length. ok is false for a header no
// endpoint may send: a 64-bit length with its top bit set, a control
// frame fragmented or over 125 bytes, a reserved opcode.
func parseFrameHeader(b []byte) (h frameHeader, length uint64, ok bool) {
	if len(b) < 2 {
		return h, 0, true
	}
	h.fin = b[0]&wsFIN != 0
	h.rsv = b[0] & (wsRSV1 | wsRSV23)
	h.op = b[0] & 0x0f
	h.masked = b[1]&wsMaskBit != 0
	length = uint64(b[1] & 0x7f)
	n := 2
	switch length {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h.masked {
		n += 4
	}
	switch h.op {
	case wsOpContinuation, wsOpText, wsOpBinary:
	case wsOpClose, wsOpPing, wsOpPong:
		if !h.fin || length > wsMaxControl {
			return h, 0, false
		}
	default:
		return h, 0, false
	}
	if len(b) < n {
		return h, 0, true
	}
	i := 2
	switch length {
	case 126:
		length = uint64(binary.BigEndian.Uint16(b[2:4]))
		i = 4
	case 127:
		length = binary.BigEndian.Uint64(b[2:10])
		if length>>63 != 0 {
			return h, 0, false
		}
		i = 10
	}
	if h.masked {
		copy(h.key[:], b[i:i+4])
	}
	h.n = n
	return h, length, true
}

// unmask appends p unmasked with key (RFC 6455 §5.3), starting at phase
// (the payload offset modulo 4), to dst.
func unmask(dst, p []byte, key [4]byte, phase int) []byte {
	n := len(dst)
	dst = append(dst, p...)
	q := dst[n:]
	i := 0
	// Bring the phase to 0, then go eight bytes at a time.
	for ; i < len(q) && (phase+i)&3 != 0; i++ {
		q[i] ^= key[(phase+i)&3]
	}
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32) | uint64(k32)<<32
	for ; i+8 <= len(q); i += 8 {
		binary.LittleEndian.PutUint64(q[i:], binary.LittleEndian.Uint64(q[i:])^k64)
	}
	for ; i < len(q); i++ {
		q[i] ^= key[(phase+i)&3]
	}
	return dst
}

// wsFrames reads frames from b and hands on every message they complete.
// It returns what is left when the stream has to resynchronise.
func (a *tcpAssembler) wsFrames(c *wsConn, w *wsTrack, b []byte, ts time.Time,
	emit func([]byte, time.Time, bool),
) []byte {
	for len(b) > 0 {
		if c.left == 0 {
			var ok bool
			if b, ok = a.wsHeader(c, b); !ok {
				a.ws.errors++
				a.wsLose(c)
				w.state = wsResync
				return b
			}
			if c.nhdr > 0 {
				return nil // header continues in the next run
			}
			if c.left == 0 {
				a.wsFrameDone(c, ts, emit)
				continue
			}
			// The whole payload of an unfragmented frame is here:
			// hand it on without copying it into the message buffer.
			if !c.skip && c.fin && !c.inMsg && uint64(len(b)) >= c.left {
				n := int(c.left) //nolint:gosec // G115: c.left ≤ wsMaxMessage
				p := b[:n]
				if c.masked {
					a.scratch = unmask(a.scratch[:0], p, c.key, 0)
					p = a.scratch
				}
				c.left = 0
				a.wsEmit(p, ts, emit)
				b = b[n:]
				continue
			}
		}
		n := uint64(len(b))
		if n > c.left {
			n = c.left
		}
		p := b[:n]
		b = b[n:]
		c.left -= n
		if c.skip {
			a.ws.skipped += n
		} else {
			if c.masked {
				c.msg = unmask(c.msg, p, c.key, c.phase)
				c.phase = (c.phase + len(p)) & 3
			} else {
				c.msg = append(c.msg, p...)
			}
		}
		if c.left == 0 {
			a.wsFrameDone(c, ts, emit)
		}
	}
	return nil
}

// wsHeader reads the next frame header from b (completing one held from
// the previous run) and sets up the frame. It returns the rest of b, and
// false on a protocol error.
func (a *tcpAssembler) wsHeader(c *wsConn, b []byte) ([]byte, bool) {
	src := b
	if c.nhdr > 0 {
		k := copy(c.hdr[c.nhdr:], b)
		src = c.hdr[:c.nhdr+k]
	}
	h, length, ok := parseFrameHeader(src)
	if !ok {
		return b, false
	}
	if h.n == 0 {
		// Incomplete: hold what there is (at most wsMaxHeader bytes).
		if c.nhdr == 0 {
			c.nhdr = copy(c.hdr[:], b)
		} else {
			c.nhdr = len(src)
		}
		return nil, true
	}
	used := h.n - c.nhdr // bytes of b in the header
	c.nhdr = 0
	b = b[used:]
	a.ws.frames++
	c.left, c.op, c.fin, c.masked, c.key, c.phase = length, h.op, h.fin, h.masked, h.key, 0
	c.skip = false
	switch {
	case h.op >= wsOpClose:
		a.ws.control++
		c.skip = true
		return b, true
	case h.op == wsOpContinuation && !c.inMsg:
		// A continuation of a message whose start was not seen.
		return b, false
	case h.op != wsOpContinuation && c.inMsg:
		// RFC 6455 §5.4: a new message before the last one ended.
		return b, false
	}
	if h.op != wsOpContinuation {
		c.dropMsg = false
	}
	switch {
	case c.dropMsg:
		c.skip = true
	case h.rsv&wsRSV1 != 0:
		// permessage-deflate (RFC 7692): not decoded.
		a.ws.compressed++
		c.skip, c.dropMsg = true, true
		a.wsDropMsg(c)
	case h.rsv != 0:
		return b, false
	case uint64(len(c.msg))+length > uint64(wsMaxMessage):
		a.ws.refused++
		c.skip, c.dropMsg = true, true
		a.wsDropMsg(c)
	}
	if !c.fin {
		c.inMsg = true
	}
	return b, true
}

// wsDropMsg throws away the fragments of a refused message held so far.
func (a *tcpAssembler) wsDropMsg(c *wsConn) {
	a.ws.skipped += uint64(len(c.msg))
	c.msg = c.msg[:0]
}

// wsFrameDone ends a frame whose payload has been read.
func (a *tcpAssembler) wsFrameDone(c *wsConn, ts time.Time, emit func([]byte, time.Time, bool)) {
	if c.op >= wsOpClose || !c.fin {
		return
	}
	c.inMsg = false
	if c.dropMsg {
		c.dropMsg = false
		return
	}
	a.wsEmit(c.msg, ts, emit)
	c.msg = c.msg[:0]
	if cap(c.msg) > wsKeepBuffer {
		c.releaseMsg()
	}
}

func (c *wsConn) releaseMsg() {
	if cap(c.msg) > wsKeepBuffer {
		c.msg = nil
		return
	}
	c.msg = c.msg[:0]
}

// wsEmit hands on one whole message, marked so (a.wsMessage) for the
// decoder to tell the consumer not to frame it by Content-Length.
func (a *tcpAssembler) wsEmit(p []byte, ts time.Time, emit func([]byte, time.Time, bool)) {
	a.ws.messages++
	if len(p) == 0 {
		return
	}
	a.wsMessage = true
	emit(p, ts, true)
	a.wsMessage = false
}
