package report

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// SampleSource gives the month's sample; *Sampler satisfies it.
type SampleSource interface {
	// Get returns the month's sample, ErrNoSample when it has none.
	Get(ctx context.Context, month string) (Sample, error)
}

// CallGetter gives one call record by id; *storage.Store satisfies it.
type CallGetter interface {
	Call(ctx context.Context, id string) (sip.Call, error)
}

// MonthLock says whether the month's report is submitted or approved, so
// that its evaluations must not change; the review workflow satisfies it.
type MonthLock interface {
	Locked(ctx context.Context, month string) (bool, error)
}

// prefixEval is the key prefix of the evaluations: eval/<month>/<id>.
const prefixEval = "eval/"

func evalKey(month, id string) []byte { return []byte(prefixEval + month + "/" + id) }

// EvaluatorOption configures an Evaluator.
type EvaluatorOption func(*Evaluator)

// WithEvaluatorClock sets the clock of the evaluations' stamps.
func WithEvaluatorClock(now func() time.Time) EvaluatorOption {
	return func(e *Evaluator) { e.now = now }
}

// Evaluator keeps the evaluations of the sampled calls (issue 10 §3): the
// drafts, their submission, the revisions, and the receptionists'
// acknowledgements and disputes. Its methods are safe for concurrent use;
// the writes are serialized, so two saves of one evaluation never lose
// each other's answers.
type Evaluator struct {
	calls    CallGetter
	samples  SampleSource
	kv       KV
	lock     MonthLock
	maxRings int
	now      func() time.Time
	log      *slog.Logger

	// mu serializes every read-modify-write of an evaluation. One lock
	// for all of them is enough: a técnico evaluates one call at a time.
	mu sync.Mutex
}

// NewEvaluator returns an Evaluator reading records from calls and samples
// from samples, keeping evaluations in kv. lock may be nil (the months are
// never locked). maxRings is the configured limit (max_rings) recorded in
// each evaluation's facts.
func NewEvaluator(calls CallGetter, samples SampleSource, kv KV, lock MonthLock, maxRings int, log *slog.Logger, o ...EvaluatorOption) (*Evaluator, error) {
	if calls == nil || samples == nil || kv == nil {
		return nil, errors.New("evaluator: calls, samples and kv are required")
	}
	if maxRings < 1 {
		return nil, fmt.Errorf("evaluator: max_rings must be at least 1, got %d", maxRings)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Evaluator{
		calls: calls, samples: samples, kv: kv, lock: lock, maxRings: maxRings,
		now: time.Now, log: log.With("component", "evaluation"),
	}
	for _, f := range o {
		f(e)
	}
	return e, nil
}

// checkMonth rejects a month that is not YYYY-MM: it is part of the key.
func checkMonth(month string) error {
	if _, err := time.Parse("2006-01", month); err != nil || len(month) != len("2006-01") {
		return fmt.Errorf("month %q: %w", month, ErrBadMonth)
	}
	return nil
}

// Open returns the evaluation of a sampled call, creating its draft when
// there is none: every point pending but inmediatez, which is the
// measurement, and the facts copied from the record.
func (e *Evaluator) Open(ctx context.Context, month, id, by string) (Evaluation, error) {
	if err := checkMonth(month); err != nil {
		return Evaluation{}, err
	}
	if by == "" {
		return Evaluation{}, fmt.Errorf("open evaluation %s in %s: %w", id, month, ErrReason)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, ok, err := e.get(ctx, month, id)
	if err != nil || ok {
		return ev, err
	}
	if err := e.checkLock(ctx, month); err != nil {
		return Evaluation{}, fmt.Errorf("open evaluation %s in %s: %w", id, month, err)
	}
	it, err := e.sampled(ctx, month, id)
	if err != nil {
		return Evaluation{}, err
	}
	c, err := e.calls.Call(ctx, id)
	if err != nil {
		return Evaluation{}, fmt.Errorf("open evaluation %s in %s: %w", id, month, err)
	}
	form, err := FormByVersion(CurrentForm)
	if err != nil {
		return Evaluation{}, err
	}
	now := e.now().UTC()
	ev = Evaluation{
		Month: month, ID: id, Operator: it.Operator, Form: form.Version, Status: EvalDraft,
		Facts:     e.facts(c),
		Revisions: []Revision{},
		CreatedAt: now, CreatedBy: by, UpdatedAt: now, UpdatedBy: by,
	}
	ev.Answers = make([]Answer, len(form.Points))
	for i, p := range form.Points {
		ev.Answers[i] = Answer{Point: p.ID}
		if p.Auto {
			ev.Answers[i].Verdict = measured(ev.Facts)
		}
	}
	if err := e.put(ctx, ev); err != nil {
		return Evaluation{}, err
	}
	e.log.Info("evaluation opened", "month", month, "id", id, "operator", it.Operator, "by", by)
	return ev, nil
}

// sampled returns the sample's item for id, ErrNotSampled when the call
// is not in the month's sample or was replaced.
func (e *Evaluator) sampled(ctx context.Context, month, id string) (Item, error) {
	smp, err := e.samples.Get(ctx, month)
	if err != nil {
		return Item{}, fmt.Errorf("evaluation %s in %s: %w", id, month, err)
	}
	i := slices.IndexFunc(smp.Items, func(it Item) bool { return it.ID == id && !it.Replaced })
	if i < 0 {
		return Item{}, fmt.Errorf("evaluation %s in %s: %w", id, month, ErrNotSampled)
	}
	return smp.Items[i], nil
}

// facts copies what the capture measured of the call.
func (e *Evaluator) facts(c sip.Call) EvalFacts {
	f := EvalFacts{
		InviteAt: c.InviteAt.UTC(), Rings: c.Rings, RingSeconds: c.RingSeconds,
		WithinLimit: c.WithinLimit, MaxRings: e.maxRings,
	}
	if t := c.Transfer; t != nil {
		f.Transfer = &TransferFacts{Kind: t.Kind, Target: t.Target, Result: t.Result}
	}
	if c.Recording != nil {
		f.RecordingSeconds = c.Recording.DurationSeconds
	}
	return f
}

// measured is inmediatez's verdict: the record's within_limit, the rings
// counted against max_rings by the tracker.
func measured(f EvalFacts) Verdict {
	if f.WithinLimit {
		return VerdictCumple
	}
	return VerdictNoCumple
}

// Get returns the month's evaluation of a call, ErrNoEvaluation when
// there is none.
func (e *Evaluator) Get(ctx context.Context, month, id string) (Evaluation, error) {
	if err := checkMonth(month); err != nil {
		return Evaluation{}, err
	}
	ev, ok, err := e.get(ctx, month, id)
	if err != nil {
		return Evaluation{}, err
	}
	if !ok {
		return Evaluation{}, fmt.Errorf("evaluation %s in %s: %w", id, month, ErrNoEvaluation)
	}
	return ev, nil
}

// List returns the month's evaluations by operator, then id.
func (e *Evaluator) List(ctx context.Context, month string) ([]Evaluation, error) {
	if err := checkMonth(month); err != nil {
		return nil, err
	}
	out := []Evaluation{}
	err := e.kv.Scan(ctx, []byte(prefixEval+month+"/"), func(key, val []byte) error {
		var ev Evaluation
		if err := json.Unmarshal(val, &ev); err != nil {
			return fmt.Errorf("%s: %w: %w", key, ErrCorrupt, err)
		}
		out = append(out, ev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("evaluations of %s: %w", month, err)
	}
	slices.SortFunc(out, func(a, b Evaluation) int {
		return cmp.Or(cmp.Compare(a.Operator, b.Operator), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Pending returns how many calls of the month's sample (replaced ones
// excluded) have no submitted evaluation.
func (e *Evaluator) Pending(ctx context.Context, month string) (int, error) {
	if err := checkMonth(month); err != nil {
		return 0, err
	}
	smp, err := e.samples.Get(ctx, month)
	if err != nil {
		return 0, fmt.Errorf("pending evaluations of %s: %w", month, err)
	}
	evs, err := e.List(ctx, month)
	if err != nil {
		return 0, err
	}
	done := map[string]bool{}
	for _, ev := range evs {
		if ev.Status == EvalSubmitted {
			done[ev.ID] = true
		}
	}
	n := 0
	for _, it := range smp.Items {
		if !it.Replaced && !done[it.ID] {
			n++
		}
	}
	return n, nil
}

// get reads an evaluation; ok is false when there is none.
func (e *Evaluator) get(ctx context.Context, month, id string) (Evaluation, bool, error) {
	if id == "" {
		return Evaluation{}, false, fmt.Errorf("evaluation in %s: %w", month, ErrNotSampled)
	}
	val, ok, err := e.kv.Get(ctx, evalKey(month, id))
	if err != nil {
		return Evaluation{}, false, fmt.Errorf("evaluation %s in %s: %w", id, month, err)
	}
	if !ok {
		return Evaluation{}, false, nil
	}
	var ev Evaluation
	if err := json.Unmarshal(val, &ev); err != nil {
		return Evaluation{}, false, fmt.Errorf("evaluation %s in %s: %w: %w", id, month, ErrCorrupt, err)
	}
	return ev, true, nil
}

// put stores an evaluation.
func (e *Evaluator) put(ctx context.Context, ev Evaluation) error {
	val, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("evaluation %s in %s: encode: %w", ev.ID, ev.Month, err)
	}
	if err := e.kv.Set(ctx, evalKey(ev.Month, ev.ID), val); err != nil {
		return fmt.Errorf("evaluation %s in %s: store: %w", ev.ID, ev.Month, err)
	}
	return nil
}

// checkLock returns ErrLocked when the month's report is submitted or
// approved.
func (e *Evaluator) checkLock(ctx context.Context, month string) error {
	if e.lock == nil {
		return nil
	}
	locked, err := e.lock.Locked(ctx, month)
	if err != nil {
		return fmt.Errorf("lock of %s: %w", month, err)
	}
	if locked {
		return ErrLocked
	}
	return nil
}

// update applies fn to the stored evaluation under the write lock and
// stores the result stamped with by and the clock. fn returning an error,
// or false (nothing to change), leaves the evaluation as it was; update
// then returns it as stored.
func (e *Evaluator) update(ctx context.Context, month, id, by, what string, fn func(ev *Evaluation, form Form, now time.Time) (bool, error)) (Evaluation, error) {
	if err := checkMonth(month); err != nil {
		return Evaluation{}, err
	}
	if by == "" {
		return Evaluation{}, fmt.Errorf("%s %s in %s: %w", what, id, month, ErrReason)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, ok, err := e.get(ctx, month, id)
	if err != nil {
		return Evaluation{}, err
	}
	if !ok {
		return Evaluation{}, fmt.Errorf("%s %s in %s: %w", what, id, month, ErrNoEvaluation)
	}
	form, err := FormByVersion(ev.Form)
	if err != nil {
		return Evaluation{}, fmt.Errorf("%s %s in %s: %w", what, id, month, err)
	}
	now := e.now().UTC()
	stored := ev
	changed, err := fn(&ev, form, now)
	if err != nil {
		return Evaluation{}, fmt.Errorf("%s %s in %s: %w", what, id, month, err)
	}
	if !changed {
		return stored, nil
	}
	ev.UpdatedAt, ev.UpdatedBy = now, by
	if err := e.put(ctx, ev); err != nil {
		return Evaluation{}, err
	}
	e.log.Info("evaluation changed", "what", what, "month", month, "id", id, "by", by,
		"status", ev.Status, "revision", ev.Revision)
	return ev, nil
}
