package report

import (
	"fmt"
	"math"
)

// CochranSize returns the sample size for estimating a proportion p with
// margin e at the given confidence over a frame of N calls: Cochran
// (Sampling Techniques, 3rd ed., 1977, §4.4) n₀ = z²·p(1−p)/e², with the
// finite-population correction n = n₀ / (1 + (n₀−1)/N), rounded up (a
// fractional call cannot be evaluated, and rounding down would miss the
// margin). It never exceeds N. domain.md §6.1 tabulates it for 95 %.
func CochranSize(frame int, confidence, margin, p float64) (int, error) {
	switch {
	case frame < 0:
		return 0, fmt.Errorf("%w: frame %d", ErrDesign, frame)
	case !(confidence > 0 && confidence < 1):
		return 0, fmt.Errorf("%w: confidence %v not in (0,1)", ErrDesign, confidence)
	case !(margin > 0 && margin < 1):
		return 0, fmt.Errorf("%w: margin %v not in (0,1)", ErrDesign, margin)
	case !(p > 0 && p < 1):
		return 0, fmt.Errorf("%w: p %v not in (0,1)", ErrDesign, p)
	}
	if frame == 0 {
		return 0, nil
	}
	z := ZScore(confidence)
	n0 := z * z * p * (1 - p) / (margin * margin)
	n := n0 / (1 + (n0-1)/float64(frame))
	// 1e-9 absorbs float noise on sizes that are whole numbers in exact
	// arithmetic; no real design sits within 1e-9 of an integer.
	size := int(math.Ceil(n - 1e-9))
	if size > frame {
		size = frame
	}
	if size < 1 {
		size = 1
	}
	return size, nil
}

// ZScore returns the two-sided standard normal quantile for a confidence
// level, z = √2·erfinv(c), rounded to three decimals: the conventional
// values of the tables (1.645 for 90 %, 1.960 for 95 %, 2.576 for 99 %),
// with which domain.md §6.1 and Cochran's own tables are computed.
func ZScore(confidence float64) float64 {
	z := math.Sqrt2 * math.Erfinv(confidence)
	return math.Round(z*1000) / 1000
}
