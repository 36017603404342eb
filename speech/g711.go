package speech

import "github.com/zaf/g711"

// Law is the companding law of G.711 codes (ITU-T G.711).
type Law uint8

// The laws: μ-law (PCMU, RFC 3551 payload type 0) and A-law (PCMA, 8).
const (
	ULaw Law = iota
	ALaw
)

// g711Code is what a frame needs of one G.711 code: the square of its
// linear sample (at most 32256² < 2³⁰) in the low bits and the sample's
// sign in the top bit, so that a frame's energy and zero crossings take one
// lookup a code instead of a decode, a multiply and a compare.
type g711Code uint32

const (
	codeSquare g711Code = 1<<31 - 1
	codeShift           = 31
)

// lawTables holds, for each law, the code table and the linear samples
// (for the onset and the previous frame's last sample). Constant after
// init.
type lawTables struct {
	code   [256]g711Code
	linear [256]int16
}

var g711Tables = func() (t [2]lawTables) {
	for i := range 256 {
		c := uint8(i) //nolint:gosec // G115: i < 256.
		for law, x := range [2]int16{g711.DecodeUlawFrame(c), g711.DecodeAlawFrame(c)} {
			t[law].linear[i] = x
			t[law].code[i] = g711Code(int64(x)*int64(x)) | g711Code(uint16(x)>>15)<<codeShift //nolint:gosec // G115: a square under 2³⁰, the sign bit.
		}
	}
	return t
}()

// energyG711 is energy for a frame of codes: the same sum of squares and
// sign changes as of the decoded samples, exactly.
func energyG711(x *[FrameSamples]byte, tab *[256]g711Code, last int16) (sum int64, cross int) {
	var s0, s1 uint64
	var c g711Code
	prev := g711Code(uint16(last)>>15) << codeShift //nolint:gosec // G115: the sign bit of a sample.
	for i := 0; i < FrameSamples; i += 2 {
		a, b := tab[x[i]], tab[x[i+1]]
		s0 += uint64(a & codeSquare)
		s1 += uint64(b & codeSquare)
		c += (prev^a)>>codeShift + (a^b)>>codeShift
		prev = b
	}
	return int64(s0 + s1), int(c) //nolint:gosec // G115: 80 squares under 2³⁰.
}

// FeedG711 is Feed for G.711 codes of law, as a recording stores them: it
// gives exactly the figures Feed gives for the decoded samples, without
// decoding them. An analyzer is fed one way, with one law, for its whole
// leg.
func (a *Analyzer) FeedG711(law Law, caller, callee []byte) {
	a.law = &g711Tables[law&1]
	k := min(len(caller), len(callee))
	feedFrames(&a.partCodes, &a.partN, caller[:k], callee[:k], a.frameCodes)
}

// frameCodes is frame for codes.
func (a *Analyzer) frameCodes(caller, callee *[FrameSamples]byte) {
	for i, x := range [2]*[FrameSamples]byte{caller, callee} {
		if s, ok := a.side[i].frameCodes(&a.p, a.n, x, a.law); ok {
			s.side = uint8(i) //nolint:gosec // G115: i is 0 or 1.
			a.add(s)
		}
	}
	a.next()
}
