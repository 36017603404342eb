package sip

import (
	"bytes"
	"fmt"
	"strconv"
)

// Framer cuts SIP messages out of one direction of a TCP stream (RFC 3261
// §18.3: the Content-Length header frames each message on stream
// transports; §7.5: CRLFs before a start line are ignored, which also skips
// RFC 5626 §4.4.1 CRLF keep-alives). It holds at most MaxMessageSize bytes,
// and only the start of a message still incomplete: between messages it
// holds no buffer at all (issue 12: one per TCP connection kept the
// capacity of the largest burst it ever saw).
type Framer struct {
	buf []byte
}

// Write appends stream bytes and calls fn for every whole message they
// complete, in order. msg aliases p or the framer's buffer and is valid
// only during fn. Bytes that cannot start a SIP message are discarded up
// to the next line; Write returns the number of bytes discarded so the
// caller can count them, and an error when a message outgrew
// MaxMessageSize (the framer then resynchronises on the next start line).
func (f *Framer) Write(p []byte, fn func(msg []byte)) (discarded int, err error) {
	// With nothing held, the messages are cut out of p itself: only what
	// is left incomplete at its end is copied.
	data := p
	if len(f.buf) > 0 {
		f.buf = append(f.buf, p...)
		data = f.buf
	}
	off := 0
	for {
		// Skip CRLF keep-alives and blank lines before a start line.
		for off < len(data) && (data[off] == '\r' || data[off] == '\n') {
			off++
		}
		rest := data[off:]
		if len(rest) == 0 {
			break
		}
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			if len(rest) > maxStartLine {
				discarded += len(rest)
				off = len(data)
			}
			break
		}
		if !LooksLikeSIP(rest) {
			// Not a start line: drop this line and look again.
			discarded += nl + 1
			off += nl + 1
			continue
		}
		hdrEnd, sepLen := headerEnd(rest)
		if hdrEnd < 0 {
			if len(rest) > MaxMessageSize {
				err = fmt.Errorf("%w: headers longer than %d bytes", ErrTooLarge, MaxMessageSize)
				discarded += nl + 1
				off += nl + 1
				continue
			}
			break
		}
		bodyLen := contentLength(rest[:hdrEnd])
		total := hdrEnd + sepLen + bodyLen
		if total > MaxMessageSize {
			err = fmt.Errorf("%w: %d bytes", ErrTooLarge, total)
			discarded += nl + 1
			off += nl + 1
			continue
		}
		if len(rest) < total {
			break
		}
		fn(rest[:total])
		off += total
	}
	f.hold(data[off:])
	return discarded, err
}

// hold keeps rest, the incomplete start of the next message (a suffix of
// the framer's buffer or of the bytes just written), or frees the buffer
// when there is none.
func (f *Framer) hold(rest []byte) {
	switch {
	case len(rest) == 0:
		f.buf = nil
	case len(f.buf) > 0:
		n := copy(f.buf, rest)
		f.buf = f.buf[:n]
	default:
		f.buf = append([]byte(nil), rest...)
	}
}

// Reset drops any partial message, after a gap in the stream.
func (f *Framer) Reset() { f.buf = nil }

// Buffered returns the number of bytes held for an incomplete message.
func (f *Framer) Buffered() int { return len(f.buf) }

// headerEnd returns the index where the header block ends and the length
// of the blank-line separator, or -1.
func headerEnd(b []byte) (int, int) {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return i, 4
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return i, 2
	}
	return -1, 0
}

// contentLength reads Content-Length (or its compact form "l", RFC 3261
// §7.3.3) from a header block; absent or unreadable means 0 (§18.3 makes it
// mandatory on streams, so its absence means an empty body).
func contentLength(hdr []byte) int {
	for len(hdr) > 0 {
		line := hdr
		if nl := bytes.IndexByte(hdr, '\n'); nl >= 0 {
			line, hdr = hdr[:nl], hdr[nl+1:]
		} else {
			hdr = nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if !bytes.EqualFold(name, []byte("content-length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	return 0
}
