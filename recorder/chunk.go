package recorder

import "sync"

// A leg's interleaved audio waits in pooled blocks until a chunk of
// chunkBytes is ready, then goes to the disk in one write: 1 s of G.711
// stereo (0.5 s of 16-bit PCM), as the 16 KB bufio.Writer each leg had
// before, but the blocks are shared (a leg holds what it has pending, not a
// buffer sized for the worst) and the write is done by the writer
// goroutine (writer.go), not the capture's.
const (
	// blockSize divides chunkBytes; it is a multiple of every frame size
	// (2 and 4 bytes) and so are the headers (58 and 44), so no frame
	// straddles two blocks, in a first chunk short by its header too.
	blockSize   = 1 << 10
	chunkBytes  = 16 << 10
	chunkBlocks = chunkBytes / blockSize
)

// block is a piece of a chunk.
type block [blockSize]byte

// blockPool recycles blocks between the legs and the writer. A nil pool
// allocates.
type blockPool struct{ p sync.Pool }

func (bp *blockPool) get() *block {
	if bp != nil {
		if b, ok := bp.p.Get().(*block); ok {
			return b
		}
	}
	return new(block)
}

func (bp *blockPool) put(b *block) {
	if bp != nil && b != nil {
		bp.p.Put(b)
	}
}

// chunk is bytes in order: full blocks, the last one filled to n%blockSize.
type chunk struct {
	blocks [chunkBlocks]*block
	n      int // bytes
	// short is how many bytes short of chunkBytes the chunk is full: a
	// file's first chunk is short by its header, so that the first write
	// (header and chunk) ends on a chunkBytes boundary and every later
	// one is chunkBytes at a multiple of it. A write that ends inside a
	// file-system block has the kernel zero the rest of the new block
	// before the next write fills it (ext4_block_write_begin): measured
	// as 3 % of the daemon's CPU with 1,000 legs recorded (4 KiB zeroed
	// for every 16 KiB written). Only the writer's sink (legFile), which
	// takes full chunks, keeps every later write on a boundary; the sink
	// that writes each flush at once (wavWriter, the tests' files) writes
	// partial chunks, so after its first write the offsets drift.
	short int
}

// full reports whether the chunk has no room left.
func (c *chunk) full() bool { return c.n == chunkBytes-c.short }

// room returns the free part of the current block, taking a new block from
// pool when the last is full (never called on a full chunk).
func (c *chunk) room(pool *blockPool) []byte {
	i, off := c.n/blockSize, c.n%blockSize
	if c.blocks[i] == nil {
		c.blocks[i] = pool.get()
	}
	b := c.blocks[i][off:]
	return b[:min(len(b), chunkBytes-c.short-c.n)]
}

// release gives the blocks back to pool and empties the chunk; an emptied
// chunk is a whole one (short is the file's first chunk's alone).
func (c *chunk) release(pool *blockPool) {
	for i, b := range c.blocks {
		pool.put(b)
		c.blocks[i] = nil
	}
	c.n, c.short = 0, 0
}

// held is the memory the chunk holds, in bytes.
func (c *chunk) held() int {
	n := 0
	for _, b := range c.blocks {
		if b != nil {
			n += blockSize
		}
	}
	return n
}
