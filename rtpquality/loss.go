package rtpquality

// LossPercent is the fraction lost of a source's packets in percent, from
// RFC 3550 A.3: expected = extended highest sequence − base + 1, lost =
// expected − received. A count that comes out negative (duplicates
// received) is no loss; nothing expected is no loss.
func LossPercent(expected, received uint64) float64 {
	if expected == 0 || received >= expected {
		return 0
	}
	return float64(expected-received) / float64(expected) * 100
}
