// Package speech is the voice-activity detector of issue 13: from the two
// channels of an answered leg's audio (8 kHz, 16-bit linear, decoded from
// the RTP) it finds when each side speaks, in 10 ms frames, and sums what
// the record shows without listening: greeting latency, talk per side,
// silence, overtalk, dead air and the first turns.
//
// A frame is active when its energy stands above an adaptive noise floor
// (one per side), which falls at once to a quieter frame and rises slowly
// (speech does not lift it between words), and above an absolute minimum
// under which G.711 idle patterns (μ-law 0xFF/0x7F, A-law 0xD5/0x55: ±0..8)
// and comfort noise are silence. Frames with a high zero-crossing rate look
// like noise rather than voiced speech: they need more energy and lift the
// floor faster. Active frames make a turn once MinSpeech of them are seen;
// a turn ends after Hangover of inactive frames, at its last active frame,
// so the gaps between words do not split it and the hangover is not
// counted as talk.
//
// Everything is pure Go, O(1) per frame, with no allocation after New.
package speech
