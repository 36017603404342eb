package report

import (
	"cmp"
	"fmt"
	"slices"
)

// Draw is the result of drawing a design over a frame with a seed: the
// part of a Sample that Verify recomputes.
type Draw struct {
	NCochran   int       `json:"n_cochran"`
	N          int       `json:"n"`
	Allocation []Stratum `json:"allocation"`
	Items      []Item    `json:"items"`
	Reserves   []Item    `json:"reserves"`
}

// DrawFrame sizes, allocates and draws a sample from a frame (sorted by
// id, as BuildFrame returns it) with the named generator and seed. The
// same frame, design, generator and seed always give the same Draw, on
// every platform: only integer arithmetic follows from the seed.
func DrawFrame(frame []FrameEntry, d Design, generator string, seed uint64) (Draw, error) {
	src, err := newStream(generator, seed)
	if err != nil {
		return Draw{}, err
	}
	strata := stratify(frame)
	sizes := make([]int, len(strata))
	for i, s := range strata {
		sizes[i] = len(s.ids)
	}
	var out Draw
	var alloc []int
	switch d.Method {
	case MethodCochran:
		out.NCochran, err = CochranSize(len(frame), d.Confidence, d.Margin, d.P)
		if err != nil {
			return Draw{}, err
		}
		if d.Floor < 0 {
			return Draw{}, fmt.Errorf("%w: floor %d", ErrDesign, d.Floor)
		}
		alloc = Allocate(out.NCochran, sizes, d.Floor)
	case MethodFixed:
		if d.PerOperator <= 0 {
			return Draw{}, fmt.Errorf("%w: per_operator %d", ErrDesign, d.PerOperator)
		}
		alloc = make([]int, len(sizes))
		for i, s := range sizes {
			alloc[i] = min(d.PerOperator, s)
		}
	default:
		return Draw{}, fmt.Errorf("%w: method %q", ErrDesign, d.Method)
	}
	if d.Reserves < 0 {
		return Draw{}, fmt.Errorf("%w: reserves %d", ErrDesign, d.Reserves)
	}
	// One stream for every stratum, in stratum order (rng.go, pcg-v1).
	for i, s := range strata {
		nh := alloc[i]
		k := nh + min(d.Reserves, len(s.ids)-nh)
		ids := slices.Clone(s.ids)
		for j := 0; j < k; j++ {
			r := j + int(src.bound(uint64(len(ids)-j)))
			ids[j], ids[r] = ids[r], ids[j]
		}
		for j := 0; j < nh; j++ {
			out.Items = append(out.Items, Item{Rank: j + 1, Operator: s.operator, ID: ids[j]})
		}
		for j := nh; j < k; j++ {
			out.Reserves = append(out.Reserves, Item{Rank: j - nh + 1, Operator: s.operator, ID: ids[j]})
		}
		out.Allocation = append(out.Allocation, Stratum{Operator: s.operator, Frame: len(s.ids), N: nh, Reserves: k - nh})
		out.N += nh
	}
	return out, nil
}

// stratum is one receptionist's ids, in id order.
type stratum struct {
	operator string
	ids      []string
}

// stratify splits a frame sorted by id into strata sorted by operator
// name, each keeping id order.
func stratify(frame []FrameEntry) []stratum {
	idx := map[string]int{}
	var strata []stratum
	for _, e := range frame {
		i, ok := idx[e.Operator]
		if !ok {
			i = len(strata)
			idx[e.Operator] = i
			strata = append(strata, stratum{operator: e.Operator})
		}
		strata[i].ids = append(strata[i].ids, e.ID)
	}
	slices.SortFunc(strata, func(a, b stratum) int { return cmp.Compare(a.operator, b.operator) })
	return strata
}
