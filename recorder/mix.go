package recorder

// Channels of the stereo file: left is the audio the caller sent, right the
// audio the answering side sent.
const (
	left  = 0
	right = 1
)

// mixer interleaves the two directions of a leg into the WAV file. Each
// channel buffers at most limit frames past what is on disk; audio for
// frames already written is counted late and dropped. Frames are flushed
// when both channels have reached them, or when one channel runs limit
// ahead of the file (the other is silent: hold, DTX, one-way audio).
type mixer struct {
	w       *wavWriter
	f       format
	limit   int64
	flushed int64 // frames on disk
	ch      [2]chanBuf
	late    uint64 // samples dropped because their frames were written
	err     error
}

type chanBuf struct {
	buf []int16
	hi  int64 // frame after the last one written by a packet
}

// flushChunk is the least a normal flush writes, to keep writes large.
const flushChunk = 1600

func newMixer(w *wavWriter, f format, limit int) *mixer {
	m := &mixer{w: w, f: f, limit: int64(limit)}
	for i := range m.ch {
		m.ch[i].buf = make([]int16, limit)
		fill(m.ch[i].buf, f.silence())
	}
	return m
}

func fill(b []int16, v int16) {
	for i := range b {
		b[i] = v
	}
}

// channel returns a placer for one side.
func (m *mixer) channel(c int) placer { return chanPlacer{m, c} }

type chanPlacer struct {
	m *mixer
	c int
}

func (p chanPlacer) place(pos int64, k kind, payload []byte) { p.m.place(p.c, pos, k, payload) }

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
	off := pos - m.flushed
	m.f.convert(ch.buf[off:off+int64(len(p))], k, p)
	ch.hi = max(ch.hi, end)
	if both := min(m.ch[0].hi, m.ch[1].hi); both-m.flushed >= flushChunk {
		m.flushTo(both)
	}
}

// flushTo writes frames up to (not including) frame to, silence where no
// packet landed.
func (m *mixer) flushTo(to int64) {
	for m.flushed < to {
		n := min(to-m.flushed, m.limit)
		if m.err == nil {
			m.err = m.w.frames(m.ch[0].buf[:n], m.ch[1].buf[:n])
		}
		for i := range m.ch {
			b := m.ch[i].buf
			copy(b, b[n:])
			fill(b[int64(len(b))-n:], m.f.silence())
		}
		m.flushed += n
	}
}
