package recorder

// Channels of the stereo file: left is the audio the caller sent, right the
// audio the answering side sent.
const (
	left  = 0
	right = 1
)

// chunkSink takes the interleaved bytes of a file. The mixer gives it its
// pending chunk when full and after each flush: a sink that writes at once
// takes everything (the test files), one that hands off to the writer
// goroutine takes full chunks only (writer.go).
type chunkSink interface {
	pool() *blockPool
	// take takes (and empties) the part of c it writes or hands off.
	take(c *chunk) error
}

// mixer interleaves the two directions of a leg into the WAV file. Each
// channel buffers at most limit frames past what is flushed; audio for
// frames already flushed is counted late and dropped. Frames are flushed
// when both channels have reached them, or when one channel runs limit
// ahead of the file (the other is silent: hold, DTX, one-way audio).
//
// The channels hold samples in the file's width (G.711 bytes as they go
// into the file, or 16-bit PCM), in rings, so that a flush only
// interleaves, straight into the pending chunk's blocks.
type mixer struct {
	// chans are the placers of the two sides (channel): in the mixer's
	// own memory, so a packet's placing reaches the mixer in one fetch.
	chans   [2]chanPlacer
	out     chunkSink
	f       format
	width   int   // bytes a sample
	align   int   // bytes a frame
	limit   int64 // frames
	flushed int64 // frames flushed (written or handed off)
	bytes   uint64
	ch      [2]chanBuf
	late    uint64 // samples dropped because their frames were flushed
	err     error
	pend    chunk
	// speech analyses the audio as it is flushed (speech.go); nil: not.
	speech *speechTap
}

// flushChunk is the least a normal flush moves out of the channels. It
// decides which audio is late (a second flow of a channel landing behind
// the first), so it is kept as it was when it also sized the writes.
const flushChunk = 1600

func newMixer(out chunkSink, f format, limit int) *mixer {
	w := f.width()
	m := &mixer{out: out, f: f, width: w, align: channels * w, limit: int64(limit)}
	m.pend.short = f.wav().headerBytes()
	m.chans = [2]chanPlacer{{m, left}, {m, right}}
	return m
}

// channel returns a placer for one side.
func (m *mixer) channel(c int) placer { return &m.chans[c] }

type chanPlacer struct {
	m *mixer
	c int
}

func (p *chanPlacer) place(pos int64, k kind, payload []byte) { p.m.place(p.c, pos, k, payload) }

// place writes a packet's samples at frame pos of channel c.
func (m *mixer) place(c int, pos int64, k kind, p []byte) {
	if int64(len(p)) > m.limit {
		p = p[:m.limit]
	}
	if pos < m.flushed {
		skip := m.flushed - pos
		if skip >= int64(len(p)) {
			m.late += uint64(len(p))
			return
		}
		m.late += uint64(skip)
		p, pos = p[skip:], m.flushed
	}
	end := pos + int64(len(p))
	if end-m.flushed > m.limit {
		m.flushTo(end - m.limit)
	}
	ch := &m.ch[c]
	off := int(pos - m.flushed)
	ch.ensure(off+len(p), m.width, int(m.limit), m.f.silence())
	for done := 0; done < len(p); {
		dst := ch.at(off+done, len(p)-done, m.width)
		n := len(dst) / m.width
		m.f.convert(dst, k, p[done:done+n])
		done += n
	}
	ch.hi = max(ch.hi, end)
	if both := min(m.ch[0].hi, m.ch[1].hi); both-m.flushed >= flushChunk {
		m.flushTo(both)
	}
}

// flushTo moves frames up to (not including) frame to into the file,
// silence where no packet landed.
func (m *mixer) flushTo(to int64) {
	sil := m.f.silence()
	for m.flushed < to {
		n := int(min(to-m.flushed, m.limit))
		m.speech.feed(m, n)
		m.emit(n)
		for i := range m.ch {
			m.ch[i].consume(n, m.width, sil)
		}
		m.flushed += int64(n)
		m.bytes += uint64(n * m.align) //nolint:gosec // G115: n is positive.
	}
	if m.err == nil && m.pend.n > 0 {
		m.give()
	}
}

// emit interleaves the next n frames into the pending chunk, handing it
// to the sink each time it is full.
func (m *mixer) emit(n int) {
	pool := m.out.pool()
	for done := 0; done < n && m.err == nil; {
		room := m.pend.room(pool)
		k := min(n-done, len(room)/m.align)
		l, kl := m.source(left, done, k)
		r, kr := m.source(right, done, k)
		k = min(k, kl, kr)
		interleave(room, l, r, k, m.width, m.f.silence())
		m.pend.n += k * m.align
		done += k
		if m.pend.full() {
			m.give()
		}
	}
}

// give hands the pending chunk to the sink; a refusal drops what is
// pending and every later frame (the leg is cut: Recorder.cut).
func (m *mixer) give() {
	if err := m.out.take(&m.pend); err != nil {
		m.err = err
		m.pend.release(m.out.pool())
	}
}

// source returns up to k samples of channel c from frame flushed+off, and
// how many: nil (silence) past the ring.
func (m *mixer) source(c, off, k int) ([]byte, int) {
	ch := &m.ch[c]
	if off >= ch.samples(m.width) {
		return nil, k
	}
	b := ch.at(off, k, m.width)
	return b, len(b) / m.width
}

// interleave writes k stereo frames of samples w bytes wide into dst; a
// nil channel is silence.
func interleave(dst, l, r []byte, k, w int, silence byte) {
	if w == 1 {
		dst = dst[:2*k]
		i := 0
		if wordSize == 64 && (l != nil || r != nil) {
			i = interleaveWords(dst, l, r, k, silence)
		}
		switch {
		case l != nil && r != nil:
			l, r = l[:k], r[:k]
			for ; i < k; i++ {
				dst[2*i], dst[2*i+1] = l[i], r[i]
			}
		case l != nil:
			l = l[:k]
			for ; i < k; i++ {
				dst[2*i], dst[2*i+1] = l[i], silence
			}
		case r != nil:
			r = r[:k]
			for ; i < k; i++ {
				dst[2*i], dst[2*i+1] = silence, r[i]
			}
		default:
			fillBytes(dst, silence)
		}
		return
	}
	dst = dst[:4*k]
	for i := range k {
		if l != nil {
			dst[4*i], dst[4*i+1] = l[2*i], l[2*i+1]
		} else {
			dst[4*i], dst[4*i+1] = silence, silence
		}
		if r != nil {
			dst[4*i+2], dst[4*i+3] = r[2*i], r[2*i+1]
		} else {
			dst[4*i+2], dst[4*i+3] = silence, silence
		}
	}
}

// fillBytes sets every byte of b to v. Go turns a loop storing zero into a
// memory clear but stores any other byte one at a time, and G.711's silence
// is not zero (0xFF μ-law, 0xD5 A-law): the bytes are doubled by copy
// instead. A flush returns flushChunk samples of each channel's ring to
// silence (chanBuf.consume): byte stores made that 2.4 % of the daemon's
// CPU with 1,000 legs recorded, 460 ns a channel against 70-84 ns so.
func fillBytes(b []byte, v byte) {
	if v == 0 {
		clear(b)
		return
	}
	if len(b) == 0 {
		return
	}
	b[0] = v
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}
