package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

// evKV is an in-memory KV for the evaluation tests.
type evKV struct {
	mu   sync.Mutex
	m    map[string][]byte
	sets int
}

func newEvKV() *evKV { return &evKV{m: map[string][]byte{}} }

func (k *evKV) Get(_ context.Context, key []byte) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[string(key)]
	return bytes.Clone(v), ok, nil
}

func (k *evKV) Set(_ context.Context, key, val []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[string(key)] = bytes.Clone(val)
	k.sets++
	return nil
}

func (k *evKV) Scan(_ context.Context, prefix []byte, fn func(key, val []byte) error) error {
	k.mu.Lock()
	var keys []string
	for key := range k.m {
		if bytes.HasPrefix([]byte(key), prefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, key := range keys {
		vals[i] = bytes.Clone(k.m[key])
	}
	k.mu.Unlock()
	for i, key := range keys {
		if err := fn([]byte(key), vals[i]); err != nil {
			return err
		}
	}
	return nil
}

func (k *evKV) Batch(_ context.Context, set [][2][]byte, del [][]byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, kv := range set {
		k.m[string(kv[0])] = bytes.Clone(kv[1])
	}
	for _, key := range del {
		delete(k.m, string(key))
	}
	return nil
}

// evCalls is a CallGetter over a map of records.
type evCalls map[string]sip.Call

var errEvNoCall = errors.New("no such call")

func (c evCalls) Call(_ context.Context, id string) (sip.Call, error) {
	r, ok := c[id]
	if !ok {
		return sip.Call{}, fmt.Errorf("call %s: %w", id, errEvNoCall)
	}
	return r, nil
}

// evSamples is a SampleSource over a map of samples; it returns a copy so
// a test can change a stored sample (replace an item) between calls.
type evSamples struct {
	mu sync.Mutex
	m  map[string]Sample
}

func (s *evSamples) Get(_ context.Context, month string) (Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	smp, ok := s.m[month]
	if !ok {
		return Sample{}, fmt.Errorf("sample %s: %w", month, ErrNoSample)
	}
	smp.Items = append([]Item(nil), smp.Items...)
	return smp, nil
}

func (s *evSamples) replace(month, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	smp := s.m[month]
	items := append([]Item(nil), smp.Items...)
	for i := range items {
		if items[i].ID == id {
			items[i].Replaced = true
		}
	}
	smp.Items = items
	s.m[month] = smp
}

// evLock is a MonthLock whose months are locked by a test.
type evLock struct {
	mu     sync.Mutex
	locked map[string]bool
	err    error
}

func (l *evLock) Locked(_ context.Context, month string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked[month], l.err
}

func (l *evLock) set(month string, v bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.locked[month] = v
}

// evClock is a clock that moves a minute at each reading.
type evClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *evClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

// evFixture is an Evaluator over a month of four sampled calls:
//
//	r-a1 Ana, answered in 2 rings, 120 s recording, blind transfer;
//	r-a2 Ana, answered in 6 rings (late), 60 s recording;
//	r-b1 Beto, answered in 1 ring, 30 s recording;
//	r-b2 Beto, replaced by r-b3 (Beto, 3 rings, 45 s).
type evFixture struct {
	ev      *Evaluator
	kv      *evKV
	samples *evSamples
	lock    *evLock
	clock   *evClock
	calls   evCalls
}

const evMonth = "2026-03"

func evCall(id, op string, at time.Time, rings int, ring float64, within bool, rec float64) sip.Call {
	ans := at.Add(time.Duration(ring * float64(time.Second)))
	return sip.Call{
		ID: id, CallID: "c-" + id, Direction: sip.DirectionInbound, Operator: op,
		InviteAt: at, AnsweredAt: &ans, EndReason: sip.EndCompleted,
		RingSeconds: ring, Rings: rings, WithinLimit: within,
		Recording: &sip.Recording{File: "2026/03/02/" + id + ".wav", DurationSeconds: rec},
	}
}

func newEvFixture(t testing.TB) *evFixture {
	t.Helper()
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	a1 := evCall("r-a1", "Ana", at, 2, 6.5, true, 120)
	a1.Transfer = &sip.Transfer{Kind: "blind", Target: "2003", Result: "200"}
	// The record names another operator than the sample: the sample's
	// stratum is what the evaluation belongs to.
	a2 := evCall("r-a2", "Ana (ext 2001)", at.Add(time.Hour), 6, 31, false, 60)
	calls := evCalls{
		"r-a1": a1,
		"r-a2": a2,
		"r-b1": evCall("r-b1", "Beto", at.Add(2*time.Hour), 1, 2, true, 30),
		"r-b2": evCall("r-b2", "Beto", at.Add(3*time.Hour), 1, 2, true, 30),
		"r-b3": evCall("r-b3", "Beto", at.Add(4*time.Hour), 3, 13, true, 45),
	}
	samples := &evSamples{m: map[string]Sample{evMonth: {
		Month: evMonth,
		Items: []Item{
			{Rank: 1, Operator: "Ana", ID: "r-a1"},
			{Rank: 2, Operator: "Ana", ID: "r-a2"},
			{Rank: 1, Operator: "Beto", ID: "r-b1"},
			{Rank: 2, Operator: "Beto", ID: "r-b2", Replaced: true},
			{Rank: 3, Operator: "Beto", ID: "r-b3", Replacement: true},
		},
	}}}
	kv := newEvKV()
	lock := &evLock{locked: map[string]bool{}}
	clock := &evClock{t: time.Date(2026, 4, 2, 15, 0, 0, 0, time.UTC)}
	ev, err := NewEvaluator(calls, samples, kv, lock, 4, slog.New(slog.NewTextHandler(io.Discard, nil)),
		WithEvaluatorClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	return &evFixture{ev: ev, kv: kv, samples: samples, lock: lock, clock: clock, calls: calls}
}

// evComplete returns answers for every point but inmediatez.
func evComplete(v Verdict) []Answer {
	var as []Answer
	for _, p := range formAnexo1V1().Points {
		if !p.Auto {
			as = append(as, Answer{Point: p.ID, Verdict: v})
		}
	}
	return as
}

// evSubmitted opens, fills and submits the evaluation of id.
func (f *evFixture) evSubmitted(t testing.TB, id string, as []Answer) Evaluation {
	t.Helper()
	ctx := context.Background()
	if _, err := f.ev.Open(ctx, evMonth, id, "tecnico"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: id, By: "tecnico", Answers: as}); err != nil {
		t.Fatal(err)
	}
	e, err := f.ev.Submit(ctx, evMonth, id, "tecnico")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func evF(v float64) *float64 { return &v }

// evAnswer returns the answer to a point.
func evAnswer(t testing.TB, e Evaluation, point string) Answer {
	t.Helper()
	for _, a := range e.Answers {
		if a.Point == point {
			return a
		}
	}
	t.Fatalf("no answer to %s in %+v", point, e.Answers)
	return Answer{}
}

// The board's types are the Evaluator's dependencies.
var (
	_ SampleSource = (*Sampler)(nil)
	_ CallGetter   = (*storage.Store)(nil)
	_ KV           = (*storage.Bucket)(nil)
	_ MonthLock    = (*Reviewer)(nil)
)
