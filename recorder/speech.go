package recorder

import (
	"encoding/binary"
	"fmt"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/speech"
)

// speechBlock is the samples the tap feeds at a time: whole 10 ms frames,
// so the analyzer keeps no partial frame but at a flush's end.
const speechBlock = 4 * speech.FrameSamples

// idleBlocks are the frames of silence of a G.711 file (its law's idle
// code, as the mixer fills), fed for the frames past a channel's ring.
// Constant after init.
var idleBlocks = func() (b [2][speechBlock]byte) {
	for law, f := range [2]format{formatULaw, formatALaw} {
		for i := range b[law] {
			b[law][i] = f.silence()
		}
	}
	return b
}()

// speechTap feeds a leg's audio, as the mixer flushes it (both channels
// aligned, silence where no packet landed), to its voice-activity
// analyzer (issue 13). A G.711 file's codes go in as they are stored
// (speech.Analyzer.FeedG711: no decode); 16-bit PCM is read as samples. A
// nil tap does nothing.
type speechTap struct {
	an *speech.Analyzer
	// law is the law of a G.711 file.
	law speech.Law
	// pcm holds the decoded samples of a 16-bit PCM file (nil for
	// G.711, which needs none).
	pcm *[2][speechBlock]int16
}

// newSpeechTap returns the tap of a file in format f.
func newSpeechTap(f format, cfg speech.Config) (*speechTap, error) {
	an, err := speech.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("speech tap: %w", err)
	}
	t := &speechTap{an: an}
	switch f {
	case formatALaw:
		t.law = speech.ALaw
	case formatPCM16:
		t.pcm = new([2][speechBlock]int16)
	}
	return t, nil
}

// feed takes the next n frames of the mixer, from its flushed frame on,
// before the channels consume them.
func (t *speechTap) feed(m *mixer, n int) {
	if t == nil {
		return
	}
	for done := 0; done < n; {
		k := min(n-done, speechBlock)
		l, kl := m.source(left, done, k)
		r, kr := m.source(right, done, k)
		k = min(k, kl, kr)
		if t.pcm != nil {
			t.an.Feed(t.decode(t.pcm[left][:k], l), t.decode(t.pcm[right][:k], r))
		} else {
			t.an.FeedG711(t.law, t.codes(l, k), t.codes(r, k))
		}
		done += k
	}
}

// codes returns k codes of b, or of silence for nil.
func (t *speechTap) codes(b []byte, k int) []byte {
	if b == nil {
		return idleBlocks[t.law][:k]
	}
	return b[:k]
}

// decode writes the 16-bit samples of b (nil: silence) into dst.
func (t *speechTap) decode(dst []int16, b []byte) []int16 {
	if b == nil {
		clear(dst)
		return dst
	}
	for i := range dst {
		dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:])) //nolint:gosec // G115: the bits of a signed sample.
	}
	return dst
}

// result is the figures of the audio flushed so far; nil for a nil tap.
func (t *speechTap) result() *sip.Speech {
	if t == nil {
		return nil
	}
	return t.an.Result()
}
