package storage

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Records, their SIP ladders and the calls in progress are stored as zstd
// frames (RFC 8878) of their JSON. Compressed, a record (~1.6 KB of JSON)
// and its ladder (~4.6 KB for an answered call) fall under badger's value
// threshold (1 KiB, badgerOptions) and stay in the LSM tree instead of the
// value log, whose mapped pages stay resident after every write: on the
// lab's 1,000-call capture that was 11.8 MB of the daemon's RSS
// (BenchmarkValueCodec and the README give the figures).
//
// A value is told apart by its first bytes: a zstd frame starts with the
// magic 28 B5 2F FD (RFC 8878 §3.1.1), which no JSON text can (it starts
// with '{', '[', '"', a digit, t, f, n or whitespace). So a store written
// before values were compressed reads as it is, value by value.
const (
	// zstdMagic opens every zstd frame.
	zstdMagic = "\x28\xb5\x2f\xfd"
	// minPack is the smallest value worth compressing: below it the
	// frame's header and checksum outweigh the gain.
	minPack = 256
	// packWindow bounds the encoder's window and so its memory; a ladder
	// longer than it still compresses, from within the window.
	packWindow = 64 << 10
	// maxUnpacked bounds what one stored value may expand to, so a
	// corrupt frame cannot claim the board's memory.
	maxUnpacked = 64 << 20
)

// valueCodec compresses and expands stored values. It is safe for
// concurrent use: the encoder and decoder run one value at a time each,
// which keeps their state to one set (a few hundred KB) on the board.
type valueCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newValueCodec() (*valueCodec, error) {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(packWindow),
		zstd.WithLowerEncoderMem(true),
		// The frame's content checksum: a flipped bit in a record is
		// ErrCorrupt, not a different record.
		zstd.WithEncoderCRC(true))
	if err != nil {
		return nil, fmt.Errorf("value encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(maxUnpacked))
	if err != nil {
		_ = enc.Close()
		return nil, fmt.Errorf("value decoder: %w", err)
	}
	return &valueCodec{enc: enc, dec: dec}, nil
}

// pack returns v as stored: a zstd frame, or v itself when it is short or
// would not shrink.
func (c *valueCodec) pack(v []byte) []byte {
	if len(v) < minPack {
		return v
	}
	z := c.enc.EncodeAll(v, make([]byte, 0, len(v)/2))
	if len(z) >= len(v) {
		return v
	}
	return z
}

// unpack returns the JSON a stored value holds: v itself when it is not a
// zstd frame, else the frame expanded into a new slice (v belongs to
// badger and is valid only inside Item.Value).
func (c *valueCodec) unpack(v []byte) ([]byte, error) {
	if !packed(v) {
		return v, nil
	}
	out, err := c.dec.DecodeAll(v, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: compressed value: %w", ErrCorrupt, err)
	}
	return out, nil
}

// unpackCopy is unpack into a slice of the caller's own, also when v is
// not packed.
func (c *valueCodec) unpackCopy(v []byte) ([]byte, error) {
	if !packed(v) {
		return bytes.Clone(v), nil
	}
	return c.unpack(v)
}

// packed reports whether a stored value is a zstd frame.
func packed(v []byte) bool { return bytes.HasPrefix(v, []byte(zstdMagic)) }

// close releases the decoder's goroutines.
func (c *valueCodec) close() {
	_ = c.enc.Close()
	c.dec.Close()
}
