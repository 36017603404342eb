package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// EvaluationLister lists a month's evaluations; *Evaluator satisfies it.
type EvaluationLister interface {
	List(ctx context.Context, month string) ([]Evaluation, error)
}

// ReviewReader is what a document reads of the review; *Reviewer satisfies
// it.
type ReviewReader interface {
	Get(ctx context.Context, month string) (Review, error)
	Actions(ctx context.Context, f ActionFilter) ([]Action, error)
	FollowUps(ctx context.Context, month string) ([]FollowUp, error)
}

// DocumentSources are the parts a month's document is assembled from.
// Calls, Samples and Evaluations are required; Review and Health may be
// nil (a document without review or health section).
type DocumentSources struct {
	Calls       Calls
	Figures     FiguresOptions
	MaxRings    int
	Samples     SampleSource
	Evaluations EvaluationLister
	Review      ReviewReader
	Health      HealthSource
	Office      string
	// Now stamps generated_at and decides what is due (time.Now).
	Now func() time.Time
}

// BuildDocument assembles the month's report: the figures recomputed from
// the records, the stored sample, evaluations, review and actions, the
// tabulation over them, the outgoing calls and the tap's health.
func BuildDocument(ctx context.Context, src DocumentSources, month string) (*Document, error) {
	opts, err := src.Figures.withDefaults()
	if err != nil {
		return nil, err
	}
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	opts.Now = now
	loc := opts.Location
	from, to, err := MonthRange(month, loc)
	if err != nil {
		return nil, err
	}
	// The figures, the inmediatez census, the outgoing calls and the
	// voice part each walk the month's legs: read them from the store once.
	wfrom, wto := walkRange(from, to)
	legs, err := readCalls(ctx, src.Calls, wfrom, wto)
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", month, err)
	}
	src.Calls = legs
	doc := &Document{
		Month: month, TimeZone: loc.String(), GeneratedAt: now().UTC(), Office: src.Office,
		Evaluations: []Evaluation{}, Actions: []Action{}, FollowUps: []FollowUp{},
	}
	parts, err := monthParts(ctx, src, month, opts)
	if err != nil {
		return nil, err
	}
	doc.Figures, doc.Sample, doc.Tabulation = parts.figures, parts.sample, parts.tab
	if parts.evals != nil {
		doc.Evaluations = parts.evals
	}
	if doc.Outgoing, err = Outgoing(ctx, src.Calls, month, opts); err != nil {
		return nil, fmt.Errorf("document %s: %w", month, err)
	}
	if doc.Voice, err = Voice(ctx, src.Calls, month, opts); err != nil {
		return nil, fmt.Errorf("document %s: %w", month, err)
	}
	if src.Health != nil {
		if doc.Health, err = Health(ctx, src.Health, month, loc, now()); err != nil {
			return nil, fmt.Errorf("document %s: %w", month, err)
		}
	}
	due, err := DueAt(month, loc)
	if err != nil {
		return nil, err
	}
	doc.Review = Review{Month: month, State: ReviewDraft, DueAt: due, Rounds: []Round{}, History: []Event{}}
	if src.Review != nil {
		if doc.Review, err = src.Review.Get(ctx, month); err != nil {
			return nil, fmt.Errorf("document %s: %w", month, err)
		}
		if doc.Actions, err = src.Review.Actions(ctx, ActionFilter{Month: month}); err != nil {
			return nil, fmt.Errorf("document %s: %w", month, err)
		}
		if doc.FollowUps, err = src.Review.FollowUps(ctx, month); err != nil {
			return nil, fmt.Errorf("document %s: %w", month, err)
		}
	}
	doc.Due = dueOf(doc.Review, now())
	return doc, nil
}

// callList is a span of legs held in memory, in the order read; it is
// Calls for the walks of one document.
type callList []sip.Call

// Calls calls fn for each leg with from <= invite_at < to.
func (l callList) Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error {
	for _, c := range l {
		if c.InviteAt.Before(from) || !c.InviteAt.Before(to) {
			continue
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// readCalls reads the legs with from <= invite_at < to.
func readCalls(ctx context.Context, calls Calls, from, to time.Time) (callList, error) {
	var l callList
	err := calls.Calls(ctx, from, to, func(c sip.Call) error {
		l = append(l, c)
		return nil
	})
	return l, err
}

// dueOf places a review in the calendar at now: overdue while it has never
// been submitted past its due instant, late when its first submission came
// after it.
func dueOf(r Review, now time.Time) Due {
	d := Due{Month: r.Month, State: r.State, DueAt: r.DueAt}
	if len(r.Rounds) > 0 {
		at := r.Rounds[0].SubmittedAt
		d.SubmittedAt = &at
		d.SubmittedLate = !at.Before(r.DueAt)
		return d
	}
	d.Overdue = !now.Before(r.DueAt)
	return d
}

// monthPartsOf are the computed parts of a month: figures, sample,
// evaluations and their tabulation with the inmediatez census.
type monthPartsOf struct {
	figures *MonthFigures
	sample  *Sample
	evals   []Evaluation
	tab     *Tabulation
}

// monthParts computes a month's figures and tabulation; a month without a
// sample has a tabulation with only the inmediatez census.
func monthParts(ctx context.Context, src DocumentSources, month string, opts FiguresOptions) (monthPartsOf, error) {
	var p monthPartsOf
	var err error
	if p.figures, err = Figures(ctx, src.Calls, month, opts); err != nil {
		return p, fmt.Errorf("document %s: %w", month, err)
	}
	smp, err := src.Samples.Get(ctx, month)
	switch {
	case errors.Is(err, ErrNoSample):
	case err != nil:
		return p, fmt.Errorf("document %s: %w", month, err)
	default:
		p.sample = &smp
	}
	if p.evals, err = src.Evaluations.List(ctx, month); err != nil {
		return p, fmt.Errorf("document %s: %w", month, err)
	}
	form, err := FormByVersion(CurrentForm)
	if err != nil {
		return p, err
	}
	if len(p.evals) > 0 {
		if f, err := FormByVersion(p.evals[0].Form); err == nil {
			form = f
		}
	}
	tab := Tabulate(form, p.sample, p.evals, opts.Receptionists, opts.Location)
	tab.Month = month
	if tab.InmediatezAll, tab.InmediatezAllByOperator, err = InmediatezCensus(ctx, src.Calls, month, src.MaxRings, opts); err != nil {
		return p, fmt.Errorf("document %s: %w", month, err)
	}
	p.tab = &tab
	return p, nil
}

// Indicators computes the indicator of a corrective action in a month
// from that month's figures and tabulation; it is the Reviewer's
// IndicatorSource. Src is a pointer: the sources are completed after the
// Reviewer that holds it is built (the evaluations need the review's
// lock).
type Indicators struct {
	Src *DocumentSources
}

// Indicator returns ind's value in month, nil when it has none.
func (i Indicators) Indicator(ctx context.Context, month string, ind Indicator) (*float64, error) {
	opts, err := i.Src.Figures.withDefaults()
	if err != nil {
		return nil, err
	}
	if i.Src.Now != nil {
		opts.Now = i.Src.Now
	}
	p, err := monthParts(ctx, *i.Src, month, opts)
	if err != nil {
		return nil, err
	}
	return IndicatorValue(ind, p.figures, p.tab), nil
}
