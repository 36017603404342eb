package report

import (
	"cmp"
	"slices"
)

// Allocate shares n calls among strata of the given sizes, proportionally
// with a floor (domain.md §6.2; SAS SURVEYSELECT ALLOC=PROP with ALLOCMIN):
//
//  1. n is capped at the frame (Σ sizes); each stratum's lower bound is
//     min(floor, size), so one with fewer calls than the floor gives all.
//  2. When the lower bounds already reach n, each stratum gets its lower
//     bound and the total is Σ lower bounds, above n: the floor wins.
//  3. Otherwise a stratum whose proportional quota n'·N_h/N' is below its
//     lower bound is fixed at it, and the rest n' is shared again among the
//     others, until no quota falls below its bound.
//  4. The free strata get the integer part of their quota and the calls
//     left are given one each by largest remainder (Hamilton's method),
//     ties to the larger stratum then the earlier one. Remainders are
//     compared as exact integers (n'·N_h mod N'), never as floats.
//
// The result sums to max(min(n, Σ sizes), Σ lower bounds) and no stratum
// gets more than its size.
func Allocate(n int, sizes []int, floor int) []int {
	alloc := make([]int, len(sizes))
	total := 0
	for _, s := range sizes {
		total += max(s, 0)
	}
	n = min(max(n, 0), total)
	lower := make([]int, len(sizes))
	sumLower := 0
	for i, s := range sizes {
		lower[i] = min(max(floor, 0), max(s, 0))
		sumLower += lower[i]
	}
	if sumLower >= n {
		copy(alloc, lower)
		return alloc
	}
	fixed := make([]bool, len(sizes))
	remN, remFrame := n, total
	for changed := true; changed; {
		changed = false
		for i, s := range sizes {
			if fixed[i] || s <= 0 {
				continue
			}
			// quota < lower  ⇔  remN·s < lower·remFrame, in int64: N²
			// overflows a 32-bit int past 46 340 calls.
			if int64(remN)*int64(s) < int64(lower[i])*int64(remFrame) {
				fixed[i] = true
				alloc[i] = lower[i]
				remN -= lower[i]
				remFrame -= s
				changed = true
			}
		}
	}
	if remFrame <= 0 {
		return alloc
	}
	type rest struct {
		i, size int
		rem     int64
	}
	var rests []rest
	left := remN
	for i, s := range sizes {
		if fixed[i] || s <= 0 {
			continue
		}
		q := int64(remN) * int64(s)
		alloc[i] = int(q / int64(remFrame))
		left -= alloc[i]
		rests = append(rests, rest{i: i, rem: q % int64(remFrame), size: s})
	}
	slices.SortFunc(rests, func(a, b rest) int {
		if c := cmp.Compare(b.rem, a.rem); c != 0 {
			return c
		}
		if c := cmp.Compare(b.size, a.size); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	for k := 0; left > 0 && k < len(rests); k++ {
		if alloc[rests[k].i] < sizes[rests[k].i] {
			alloc[rests[k].i]++
			left--
		}
	}
	return alloc
}
