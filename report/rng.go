package report

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// GeneratorPCGv1 names the only draw algorithm of this build. A sample
// records it so that it can be reproduced years later; the algorithm never
// changes under this name, a new algorithm gets a new name (domain.md §6.3:
// SAS changed its default generator and old samples needed the old one).
//
// pcg-v1 is: the 64-bit words of math/rand/v2's PCG (128-bit LCG with the
// DXSM output, O'Neill 2014) seeded NewPCG(seed, 0); a bound n is drawn by
// Lemire's multiply-and-reject (ACM TOMACS 2019) on those words; each
// stratum (receptionists in byte order of their name, items in byte order
// of their id) is shuffled by a partial Fisher–Yates: for i from 0 while
// i < k, j = i + bound(N−i), swap(i, j); the first n_h are the sample in
// rank order, the next ones the reserve. rand.Rand's methods are not used:
// their derivation from the source is not part of Go's compatibility
// promise, the PCG words are (TestPCGKnownAnswer pins them).
const GeneratorPCGv1 = "pcg-v1"

// stream is a generator's word source and its bounded draw.
type stream interface {
	// bound returns a uniform integer in [0, n); n > 0.
	bound(n uint64) uint64
}

// newStream returns the stream of a named generator.
func newStream(name string, seed uint64) (stream, error) {
	switch name {
	case GeneratorPCGv1:
		return &pcgStream{src: rand.NewPCG(seed, 0)}, nil
	default:
		return nil, fmt.Errorf("%w: %q", ErrGenerator, name)
	}
}

// pcgStream is pcg-v1.
type pcgStream struct {
	src *rand.PCG
}

// bound is Lemire's nearly divisionless method: the high word of x·n is
// uniform in [0, n) once the low words below 2⁶⁴ mod n are rejected.
func (s *pcgStream) bound(n uint64) uint64 {
	hi, lo := bits.Mul64(s.src.Uint64(), n)
	if lo < n {
		threshold := -n % n
		for lo < threshold {
			hi, lo = bits.Mul64(s.src.Uint64(), n)
		}
	}
	return hi
}
