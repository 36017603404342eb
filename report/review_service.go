package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// EvaluationProgress says how many of the month's sampled calls have no
// submitted evaluation yet; *Evaluator satisfies it. A report is submitted
// only when none is pending.
type EvaluationProgress interface {
	Pending(ctx context.Context, month string) (int, error)
}

// PendingFunc adapts a function to EvaluationProgress, so that the
// Evaluator (which asks the Reviewer whether a month is locked) and the
// Reviewer can be built in either order.
type PendingFunc func(ctx context.Context, month string) (int, error)

// Pending calls f.
func (f PendingFunc) Pending(ctx context.Context, month string) (int, error) { return f(ctx, month) }

// IndicatorSource gives an indicator's value in a month, nil when it has
// none (the month's document builder, from IndicatorValue).
type IndicatorSource interface {
	Indicator(ctx context.Context, month string, ind Indicator) (*float64, error)
}

// IndicatorFunc adapts a function to IndicatorSource: the document builder
// reads the Reviewer too, so one of the two is built first and the other
// reached through a function.
type IndicatorFunc func(ctx context.Context, month string, ind Indicator) (*float64, error)

// Indicator calls f.
func (f IndicatorFunc) Indicator(ctx context.Context, month string, ind Indicator) (*float64, error) {
	return f(ctx, month, ind)
}

// ReviewOptions configures the Reviewer. The zero value of a field means
// its default.
type ReviewOptions struct {
	// KeepMonths is report.keep_months: how long after the approval the
	// month's sampled recordings stay protected (DefaultKeepMonths).
	KeepMonths int
	// Operators are the configured receptionists, the ones an action can
	// be given to.
	Operators []string
}

// ReviewerOption configures a Reviewer.
type ReviewerOption func(*Reviewer)

// WithReviewerClock sets the clock of the review's steps, of the month's
// end and of the calendar.
func WithReviewerClock(now func() time.Time) ReviewerOption {
	return func(r *Reviewer) { r.now = now }
}

// Event actions of the review's history.
const (
	EventConclusions    = "conclusiones"
	EventSubmitted      = "enviado"
	EventReturned       = "devuelto"
	EventApproved       = "aprobado"
	EventActionAdded    = "accion_registrada"
	EventActionAssessed = "accion_evaluada"
	EventActionRead     = "accion_leida"
	// EventKeepReleased is the protection of the month's sampled
	// recordings ending (ReleaseExpired), by SystemActor.
	EventKeepReleased = "retencion_liberada"
)

// SystemActor is the By of the steps the box takes by itself.
const SystemActor = "sistema"

// Key layout in the bucket.
const (
	prefixReview = "review/"
	prefixAction = "action/"
)

func reviewKey(month string) []byte { return []byte(prefixReview + month) }

func actionKey(id string) []byte { return []byte(prefixAction + id) }

// Reviewer keeps the month's report through its review (steps 03–06 of
// ETAPA 2): conclusions, submission, return or approval, the corrective
// actions and their follow-up, and the calendar. Its methods are safe for
// concurrent use; every write goes through one mutex, reads do not take
// it (so that Locked, which the Evaluator asks while Submit asks the
// Evaluator, never waits on it).
type Reviewer struct {
	kv         KV
	progress   EvaluationProgress
	indicators IndicatorSource
	loc        *time.Location
	opts       ReviewOptions
	now        func() time.Time
	log        *slog.Logger

	mu sync.Mutex
	// releasing serializes ReleaseExpired, so that two runs never release
	// one month twice.
	releasing sync.Mutex
}

// NewReviewer returns a Reviewer keeping reviews and actions in kv, asking
// progress whether the sample is evaluated and indicators for the
// actions' values, with months in loc. indicators may be nil: the
// actions then have no values.
func NewReviewer(kv KV, progress EvaluationProgress, indicators IndicatorSource, loc *time.Location, opts ReviewOptions, log *slog.Logger, o ...ReviewerOption) (*Reviewer, error) {
	if loc == nil {
		return nil, ErrNoLocation
	}
	if kv == nil || progress == nil {
		return nil, errors.New("report: reviewer needs a store and the evaluations' progress")
	}
	if opts.KeepMonths <= 0 {
		opts.KeepMonths = DefaultKeepMonths
	}
	opts.Operators = append([]string(nil), opts.Operators...)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reviewer{
		kv: kv, progress: progress, indicators: indicators, loc: loc, opts: opts,
		now: time.Now, log: log.With("component", "review"),
	}
	for _, f := range o {
		f(r)
	}
	return r, nil
}

// storedReview is a Review as stored, with what the Review type does not
// show: when the sampled recordings' protection was released.
type storedReview struct {
	Review
	KeepReleased *time.Time `json:"keep_released,omitempty"`
}

// Get returns the month's report review. A month with nothing stored is a
// draft with no conclusions, rounds or history.
func (r *Reviewer) Get(ctx context.Context, month string) (Review, error) {
	sr, err := r.get(ctx, month)
	if err != nil {
		return Review{}, err
	}
	return sr.Review, nil
}

// get reads the month's review, or makes the draft of a month with none.
func (r *Reviewer) get(ctx context.Context, month string) (storedReview, error) {
	due, err := DueAt(month, r.loc)
	if err != nil {
		return storedReview{}, err
	}
	val, ok, err := r.kv.Get(ctx, reviewKey(month))
	if err != nil {
		return storedReview{}, fmt.Errorf("review %s: %w", month, err)
	}
	sr := storedReview{Review: Review{Month: month, State: ReviewDraft}}
	if ok {
		if err := json.Unmarshal(val, &sr); err != nil {
			return storedReview{}, fmt.Errorf("review %s: %w: %w", month, ErrCorrupt, err)
		}
	}
	// The due instant follows the configured zone, not the one of the day
	// the review was first stored; in UTC like every instant stored.
	sr.DueAt = due.UTC()
	if sr.Rounds == nil {
		sr.Rounds = []Round{}
	}
	if sr.History == nil {
		sr.History = []Event{}
	}
	return sr, nil
}

// encode returns the review's stored form, stamped by the step's author.
func (sr *storedReview) encode(at time.Time, by string) ([]byte, error) {
	sr.UpdatedAt, sr.UpdatedBy = at, by
	val, err := json.Marshal(sr)
	if err != nil {
		return nil, fmt.Errorf("review %s: encode: %w", sr.Month, err)
	}
	return val, nil
}

// update applies step to the month's review and stores it, under the
// write mutex. step gets the step's instant (UTC).
func (r *Reviewer) update(ctx context.Context, month, by string, step func(sr *storedReview, at time.Time) error) (Review, error) {
	if _, _, err := MonthRange(month, r.loc); err != nil {
		return Review{}, err
	}
	if by == "" {
		return Review{}, fmt.Errorf("review %s: %w", month, ErrReason)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sr, err := r.get(ctx, month)
	if err != nil {
		return Review{}, err
	}
	at := r.now().UTC()
	if err := step(&sr, at); err != nil {
		return Review{}, err
	}
	val, err := sr.encode(at, by)
	if err != nil {
		return Review{}, err
	}
	if err := r.kv.Set(ctx, reviewKey(month), val); err != nil {
		return Review{}, fmt.Errorf("review %s: store: %w", month, err)
	}
	return sr.Review, nil
}

// reviewStateErr is ErrState for a step, saying the state the report is in.
func reviewStateErr(step, month string, st ReviewState) error {
	return fmt.Errorf("%s %s: %w (%s)", step, month, ErrState, st)
}
