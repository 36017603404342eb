package recorder

// firstRing is the first capacity of a channel's ring, in samples: in a
// call with audio both ways the leading channel is at most a flush
// (flushChunk) and the network's jitter ahead of the file, so it rarely
// grows; one-way audio (hold, DTX on the other side) grows it to the
// look-ahead.
const firstRing = 2048

// chanBuf holds one channel's samples from the first frame not yet
// flushed (the mixer's flushed) on, in a ring of samples of the file's
// width, so a flush moves nothing. Unset samples are silence. The ring is
// allocated when the channel's first audio lands and grows, up to the
// look-ahead, only when a packet lands beyond it.
type chanBuf struct {
	buf  []byte
	head int   // sample index of frame flushed
	hi   int64 // frame after the last one written by a packet
}

// samples is the ring's capacity in samples.
func (c *chanBuf) samples(w int) int { return len(c.buf) / w }

// ensure makes room for n samples past flushed, keeping what is held.
func (c *chanBuf) ensure(n, w, limit int, silence byte) {
	size := c.samples(w)
	if n <= size {
		return
	}
	grown := max(size, firstRing)
	for grown < n {
		grown *= 2
	}
	grown = min(grown, limit)
	b := make([]byte, grown*w)
	// The ring unrolled: frame flushed first.
	k := copy(b, c.buf[c.head*w:])
	k += copy(b[k:], c.buf[:c.head*w])
	if silence != 0 { // make's zeros are 16-bit PCM's silence
		fillBytes(b[k:], silence)
	}
	c.buf, c.head = b, 0
}

// at returns the bytes of samples off.. of the ring (off < samples),
// contiguous, at most n samples of them.
func (c *chanBuf) at(off, n, w int) []byte {
	size := c.samples(w)
	i := c.head + off
	if i >= size {
		i -= size
	}
	k := min(n, size-i, size-off)
	return c.buf[i*w : (i+k)*w]
}

// consume drops the first n samples (flushed): they become silence, the
// ring's head moves past them.
func (c *chanBuf) consume(n, w int, silence byte) {
	size := c.samples(w)
	if size == 0 {
		return
	}
	n = min(n, size)
	for done := 0; done < n; {
		b := c.at(done, n-done, w)
		fillBytes(b, silence)
		done += len(b) / w
	}
	c.head += n
	if c.head >= size {
		c.head -= size
	}
}
