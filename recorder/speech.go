package recorder

import (
	"encoding/binary"
	"fmt"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/speech"
	"github.com/zaf/g711"
)

// g711Linear holds the 16-bit samples of the 256 codes of each law, so the
// speech tap decodes a byte with one lookup (constant tables).
var g711Linear = func() (t [2][256]int16) {
	for i := range 256 {
		t[0][i] = g711.DecodeUlawFrame(uint8(i)) //nolint:gosec // G115: i < 256.
		t[1][i] = g711.DecodeAlawFrame(uint8(i)) //nolint:gosec // G115: i < 256.
	}
	return t
}()

// speechBlock is the samples the tap decodes at a time.
const speechBlock = 256

// speechTap feeds a leg's audio, as the mixer flushes it (both channels
// aligned, silence where no packet landed), to its voice-activity
// analyzer (issue 13). A nil tap does nothing.
type speechTap struct {
	an   *speech.Analyzer
	f    format
	l, r [speechBlock]int16
}

// newSpeechTap returns the tap of a file in format f.
func newSpeechTap(f format, cfg speech.Config) (*speechTap, error) {
	an, err := speech.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("speech tap: %w", err)
	}
	return &speechTap{an: an, f: f}, nil
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
		t.decode(t.l[:k], l)
		t.decode(t.r[:k], r)
		t.an.Feed(t.l[:k], t.r[:k])
		done += k
	}
}

// decode writes the samples of b (nil: silence) into dst.
func (t *speechTap) decode(dst []int16, b []byte) {
	switch {
	case b == nil:
		clear(dst)
	case t.f == formatPCM16:
		for i := range dst {
			dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:])) //nolint:gosec // G115: the bits of a signed sample.
		}
	default:
		tab := &g711Linear[0]
		if t.f == formatALaw {
			tab = &g711Linear[1]
		}
		for i := range dst {
			dst[i] = tab[b[i]]
		}
	}
}

// result is the figures of the audio flushed so far; nil for a nil tap.
func (t *speechTap) result() *sip.Speech {
	if t == nil {
		return nil
	}
	return t.an.Result()
}
