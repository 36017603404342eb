package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/storage"
)

// procedure is ETAPA 2 of the switchboard procedure over the store (issue
// 10): the sample, the evaluations, the review with its corrective
// actions, and the month's document assembled from them. The services
// keep their state in the store's "report" bucket.
type procedure struct {
	sampler *report.Sampler
	evals   *report.Evaluator
	review  *report.Reviewer
	sources report.DocumentSources
}

// newProcedure builds the procedure's services; health may be nil (no
// health section).
func newProcedure(st *storage.Store, cfg config.Config, loc *time.Location, now func() time.Time, health report.HealthSource, log *slog.Logger) (*procedure, error) {
	kv := st.KV("report")
	smp, err := report.NewSampler(st, kv, st, loc, SampleOptions(cfg), log, report.WithSamplerClock(now))
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	p := &procedure{sampler: smp}
	maxRings := cfg.RingPolicy().MaxRings
	// The review needs the evaluations' progress and the evaluations the
	// review's lock: the progress is asked through p, filled below.
	p.sources = report.DocumentSources{
		Calls: storeCalls{st},
		Figures: report.FiguresOptions{
			Location:      loc,
			Receptionists: operatorNames(cfg),
			ShortAbandon:  cfg.Report.ShortAbandon,
			GreetingLimit: cfg.Report.GreetingLimit,
		},
		MaxRings: maxRings,
		Samples:  smp,
		Health:   health,
		Office:   cfg.Report.Office,
		Now:      now,
	}
	pending := report.SubmitProgress(func(ctx context.Context, month string) (int, error) {
		return p.evals.Pending(ctx, month)
	}, storeCalls{st}, loc)
	rv, err := report.NewReviewer(kv, pending, report.Indicators{Src: &p.sources}, loc,
		report.ReviewOptions{KeepMonths: cfg.Report.KeepMonths, Operators: operatorNames(cfg)},
		log, report.WithReviewerClock(now))
	if err != nil {
		return nil, fmt.Errorf("review: %w", err)
	}
	ev, err := report.NewEvaluator(st, smp, kv, rv, maxRings, log, report.WithEvaluatorClock(now))
	if err != nil {
		return nil, fmt.Errorf("evaluations: %w", err)
	}
	p.evals, p.review = ev, rv
	p.sources.Evaluations, p.sources.Review = ev, rv
	// Indicators computed for the review read the same evaluations.
	return p, nil
}

// Document returns the month's report.
func (p *procedure) Document(ctx context.Context, month string) (*report.Document, error) {
	return report.BuildDocument(ctx, p.sources, month)
}

// keepRelease ends the retention protection of the sampled recordings of
// months whose report was approved more than report.keep_months ago
// (issue 10 §2), once an hour.
type keepRelease struct {
	review  expiredReleaser
	samples report.SampleSource
	keep    report.Keeper
	every   time.Duration
	log     *slog.Logger
}

// expiredReleaser is the review as keepRelease uses it
// (report.Reviewer).
type expiredReleaser interface {
	ReleaseExpired(ctx context.Context, samples report.SampleSource, keep report.Keeper) (int, error)
}

// Run releases at start and then every k.every until ctx ends. A failure is
// logged and tried again at the next round: a recording kept too long is
// the safe side.
func (k *keepRelease) Run(ctx context.Context) error {
	t := time.NewTicker(k.every)
	defer t.Stop()
	for {
		n, err := k.review.ReleaseExpired(ctx, k.samples, k.keep)
		if err != nil && ctx.Err() == nil {
			k.log.Error("release sampled recordings", "err", err)
		} else if n > 0 {
			k.log.Info("sampled recordings released from retention protection", "recordings", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// MonthDocument builds the month's report over a store the caller holds
// open (the command line while no daemon runs): the same services as the
// daemon's, with the tap's health as the daemon last recorded it.
func MonthDocument(ctx context.Context, st *storage.Store, cfg config.Config, month string, log *slog.Logger) (*report.Document, error) {
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	health := newHealthLog(st.KV(HealthBucket), nil, loc, time.Now, log)
	p, err := newProcedure(st, cfg, loc, time.Now, health, log)
	if err != nil {
		return nil, err
	}
	return p.Document(ctx, month)
}
