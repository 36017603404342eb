package report

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// ReplaceRequest asks to take a sampled call out of the sample (its
// recording is unusable, the call was encrypted…) in favour of the next
// reserve of the same receptionist (domain.md §6.3).
type ReplaceRequest struct {
	Month  string
	ID     string
	By     string
	Reason string
}

// Replace swaps the sampled call for its receptionist's next unused
// reserve, logs who and why, protects the new recording and stores the
// sample. The replaced call stays listed (marked replaced) and keeps its
// protection: it is part of the month's record.
func (s *Sampler) Replace(ctx context.Context, req ReplaceRequest) (Sample, Replacement, error) {
	if req.By == "" || req.Reason == "" {
		return Sample{}, Replacement{}, fmt.Errorf("replace %s in %s: %w", req.ID, req.Month, ErrReason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	smp, err := s.Get(ctx, req.Month)
	if err != nil {
		return Sample{}, Replacement{}, err
	}
	at := slices.IndexFunc(smp.Items, func(it Item) bool { return it.ID == req.ID && !it.Replaced })
	if at < 0 {
		return Sample{}, Replacement{}, fmt.Errorf("replace %s in %s: %w", req.ID, req.Month, ErrNotSampled)
	}
	old := smp.Items[at]
	used := map[string]bool{}
	for _, r := range smp.Replacements {
		used[r.NewID] = true
	}
	next := slices.IndexFunc(smp.Reserves, func(it Item) bool { return it.Operator == old.Operator && !used[it.ID] })
	if next < 0 {
		return Sample{}, Replacement{}, fmt.Errorf("replace %s in %s (%s): %w", req.ID, req.Month, old.Operator, ErrNoReserve)
	}
	res := smp.Reserves[next]
	nh := 0
	for _, st := range smp.Allocation {
		if st.Operator == old.Operator {
			nh = st.N
		}
	}
	rep := Replacement{
		At: s.now().UTC(), By: req.By, Reason: req.Reason, Operator: old.Operator,
		OldID: old.ID, NewID: res.ID, ReserveRank: res.Rank,
	}
	smp.Items[at].Replaced = true
	// The reserve's rank continues its receptionist's draw: rank n_h + r.
	smp.Items = append(smp.Items, Item{Rank: nh + res.Rank, Operator: old.Operator, ID: res.ID, Replacement: true})
	smp.Replacements = append(smp.Replacements, rep)
	val, err := json.Marshal(smp)
	if err != nil {
		return Sample{}, Replacement{}, fmt.Errorf("replace %s in %s: encode: %w", req.ID, req.Month, err)
	}
	// Protected first, as in Draw: no sampled call is ever unprotected.
	if err := s.keep.SetKeep(ctx, res.ID, smp.Keep.Reason); err != nil {
		return Sample{}, Replacement{}, fmt.Errorf("replace %s in %s: keep %s: %w", req.ID, req.Month, res.ID, err)
	}
	if err := s.kv.Set(ctx, sampleKey(req.Month), val); err != nil {
		return Sample{}, Replacement{}, fmt.Errorf("replace %s in %s: store: %w", req.ID, req.Month, err)
	}
	s.log.Info("sample call replaced", "month", req.Month, "old", old.ID, "new", res.ID, "by", req.By)
	return smp, rep, nil
}
