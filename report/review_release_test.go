package report

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"
)

// rvSamples is a SampleSource over a map.
type rvSamples struct {
	m    map[string]Sample
	err  map[string]error
	gets []string
}

func (s *rvSamples) Get(_ context.Context, month string) (Sample, error) {
	s.gets = append(s.gets, month)
	if err := s.err[month]; err != nil {
		return Sample{}, err
	}
	smp, ok := s.m[month]
	if !ok {
		return Sample{}, fmt.Errorf("sample %s: %w", month, ErrNoSample)
	}
	return smp, nil
}

// rvKeeper is a Keeper over a map, logging its writes.
type rvKeeper struct {
	mu     sync.Mutex
	kept   map[string]string
	writes []string
}

func (k *rvKeeper) SetKeep(_ context.Context, id, reason string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.writes = append(k.writes, id+"="+reason)
	if reason == "" {
		delete(k.kept, id)
	} else {
		k.kept[id] = reason
	}
	return nil
}

func (k *rvKeeper) Kept(_ context.Context, id string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.kept[id], nil
}

func rvSampleOf(month string, items []string, reserves ...string) Sample {
	smp := Sample{Month: month}
	for i, id := range items {
		smp.Items = append(smp.Items, Item{Rank: i + 1, Operator: "Ana", ID: id, Replaced: i == 0})
	}
	for i, id := range reserves {
		smp.Reserves = append(smp.Reserves, Item{Rank: i + 1, Operator: "Ana", ID: id})
	}
	return smp
}

func TestReleaseExpired(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{KeepMonths: 2})
	// January approved on 2 February, February on 2 March; March returned,
	// April only drafted.
	e.clock.set(time.Date(2026, 2, 2, 10, 0, 0, 0, rvZone))
	e.rvTo(t, "2026-01", ReviewApproved)
	e.clock.set(time.Date(2026, 3, 2, 10, 0, 0, 0, rvZone))
	e.rvTo(t, "2026-02", ReviewApproved)
	e.clock.set(time.Date(2026, 4, 2, 10, 0, 0, 0, rvZone))
	e.rvTo(t, "2026-03", ReviewReturned)

	samples := &rvSamples{m: map[string]Sample{
		"2026-01": rvSampleOf("2026-01", []string{"j1", "j2", "j3"}, "j4", "j5"),
		"2026-02": rvSampleOf("2026-02", []string{"f1", "f2"}, "f3"),
		"2026-03": rvSampleOf("2026-03", []string{"m1"}),
	}}
	keep := &rvKeeper{kept: map[string]string{
		"j1": KeepReason("2026-01"), "j2": KeepReason("2026-01"), "j4": KeepReason("2026-01"),
		// j3 is kept by something else, j5 not at all.
		"j3": "evaluación disputada",
		"f1": KeepReason("2026-02"), "f2": KeepReason("2026-02"), "f3": KeepReason("2026-02"),
		"m1": KeepReason("2026-03"),
		// Kept by January's sample though February's lists it.
		"x": KeepReason("2026-01"),
	}}
	keep.kept["f2"] = KeepReason("2026-01")

	// January's KeepUntil is 2 April 10:00 local: one second before, nothing.
	e.clock.set(time.Date(2026, 4, 2, 9, 59, 59, 0, rvZone))
	n, err := e.r.ReleaseExpired(ctx, samples, keep)
	if err != nil || n != 0 || len(keep.writes) != 0 {
		t.Fatalf("before: released %d %v, writes %v", n, err, keep.writes)
	}
	e.clock.set(time.Date(2026, 4, 2, 10, 0, 1, 0, rvZone))
	n, err = e.r.ReleaseExpired(ctx, samples, keep)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || !slices.Equal(keep.writes, []string{"j1=", "j2=", "j4="}) {
		t.Errorf("released %d, writes %v; want j1 j2 j4", n, keep.writes)
	}
	wantKept := map[string]string{
		"j3": "evaluación disputada", "f1": KeepReason("2026-02"), "f2": KeepReason("2026-01"), "f3": KeepReason("2026-02"),
		"m1": KeepReason("2026-03"), "x": KeepReason("2026-01"),
	}
	if !maps.Equal(keep.kept, wantKept) {
		t.Errorf("kept %v\nwant %v", keep.kept, wantKept)
	}
	rv, _ := e.r.Get(ctx, "2026-01")
	last := rv.History[len(rv.History)-1]
	if last.Action != EventKeepReleased || last.By != SystemActor || last.Detail != "3" || rv.State != ReviewApproved {
		t.Errorf("January history ends %+v, state %s", last, rv.State)
	}
	// Once: a later run does not read January's sample again, even when
	// the sample would protect a call again.
	keep.kept["j1"] = KeepReason("2026-01")
	keep.writes, samples.gets = nil, nil
	e.clock.set(time.Date(2026, 5, 3, 0, 0, 0, 0, rvZone))
	n, err = e.r.ReleaseExpired(ctx, samples, keep)
	if err != nil {
		t.Fatal(err)
	}
	// February's expired on 2 May: f1, f3 released, f2 (January's reason) kept.
	if n != 2 || !slices.Equal(samples.gets, []string{"2026-02"}) || !slices.Equal(keep.writes, []string{"f1=", "f3="}) {
		t.Errorf("second run: %d, gets %v, writes %v", n, samples.gets, keep.writes)
	}
	if keep.kept["j1"] == "" || keep.kept["m1"] == "" {
		t.Errorf("kept %v", keep.kept)
	}
	// A third run releases nothing.
	keep.writes = nil
	if n, err := e.r.ReleaseExpired(ctx, samples, keep); n != 0 || err != nil || len(keep.writes) != 0 {
		t.Errorf("third run: %d %v %v", n, err, keep.writes)
	}
}

func TestReleaseExpiredErrors(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{KeepMonths: 1})
	e.clock.set(time.Date(2026, 2, 2, 10, 0, 0, 0, rvZone))
	e.rvTo(t, "2026-01", ReviewApproved)
	e.rvTo(t, "2025-12", ReviewApproved)
	e.rvTo(t, "2025-11", ReviewApproved)
	e.clock.set(time.Date(2026, 6, 1, 0, 0, 0, 0, rvZone))
	samples := &rvSamples{
		m:   map[string]Sample{"2025-12": rvSampleOf("2025-12", []string{"d1", "d2"})},
		err: map[string]error{"2026-01": errRVStore}, // November has none
	}
	keep := &rvKeeper{kept: map[string]string{"d1": KeepReason("2025-12"), "d2": KeepReason("2025-12")}}
	n, err := e.r.ReleaseExpired(ctx, samples, keep)
	if n != 2 || !errors.Is(err, errRVStore) {
		t.Fatalf("released %d, %v; want 2 and January's error", n, err)
	}
	// November (no sample) and December are done; January is retried.
	samples.gets = nil
	delete(samples.err, "2026-01")
	if n, err := e.r.ReleaseExpired(ctx, samples, keep); err != nil || n != 0 || !slices.Equal(samples.gets, []string{"2026-01"}) {
		t.Errorf("retry: %d %v, gets %v", n, err, samples.gets)
	}
	if n, err := e.r.ReleaseExpired(ctx, samples, keep); err != nil || n != 0 {
		t.Errorf("after: %d %v", n, err)
	}
}
