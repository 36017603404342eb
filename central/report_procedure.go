package central

import (
	"context"
	"fmt"
	"time"

	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
)

// Procedure configures ETAPA 2 of the procedure on the central server:
// what a box's configuration says in ring:, report: and sample:. Every
// zero field takes report's default.
type Procedure struct {
	// Ring is the ring policy (max_rings); zero: sip.DefaultRingPolicy.
	Ring sip.RingPolicy
	// ShortAbandon is report.short_abandon.
	ShortAbandon time.Duration
	// GreetingLimit is report.greeting_limit.
	GreetingLimit time.Duration
	// KeepMonths is report.keep_months.
	KeepMonths int
	// Sample is the sample's design (sample:); its KeepMonths, when zero,
	// is KeepMonths.
	Sample report.SampleOptions
	// Location is the zone of the months; nil: central.timezone, or
	// report.DefaultTimeZone when that is not set either.
	Location *time.Location
	// Version and Secure are the console's (web.Config).
	Version string
	Secure  bool
}

// kvReport is the namespace prefix of the procedure's state in the kv
// table: "report/<office>", and "report/*" for all offices together.
const kvReport = "report/"

// reportNamespace is the kv namespace of office's procedure.
func reportNamespace(office string) string {
	if office == AllOffices {
		return kvReport + "*"
	}
	return kvReport + office
}

// OfficeProcedure is the month's procedure of one office (or all): its
// sample, evaluations, review and report, over the office's records and
// its own kv namespace, as the daemon's procedure is over its store.
type OfficeProcedure struct {
	Office    string
	Calls     *OfficeCalls
	Operators []string
	Location  *time.Location
	Ring      sip.RingPolicy

	Sampler *report.Sampler
	Evals   *report.Evaluator
	Review  *report.Reviewer
	Figures *report.FiguresService
	sources report.DocumentSources
}

// location is the zone of the procedure's months.
func (s *Server) location(p Procedure) (*time.Location, error) {
	switch {
	case p.Location != nil:
		return p.Location, nil
	case s.cfg.Timezone != "":
		return s.loc, nil
	}
	loc, err := time.LoadLocation(report.DefaultTimeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone %s: %w", report.DefaultTimeZone, err)
	}
	return loc, nil
}

// Procedure builds office's procedure (AllOffices: every office's records
// as one); its receptionists are the distinct operators of the office's
// records at the time of the call.
func (s *Server) Procedure(ctx context.Context, office string, p Procedure) (*OfficeProcedure, error) {
	loc, err := s.location(p)
	if err != nil {
		return nil, err
	}
	if p.Ring.MaxRings < 1 {
		p.Ring = sip.DefaultRingPolicy()
	}
	if p.Sample.KeepMonths == 0 {
		p.Sample.KeepMonths = p.KeepMonths
	}
	calls := s.OfficeCalls(office)
	ops, err := calls.Operators(ctx)
	if err != nil {
		return nil, err
	}
	log := s.log.With("component", "report", "office", office)
	kv := NewKV(s.pool, reportNamespace(office))
	now := s.cfg.Now
	// The sample's frame and the evaluations read the console's view: a
	// call can be sampled only when its recording is on the server. The
	// figures read the box's view (what was recorded there).
	smp, err := report.NewSampler(calls, kv, s.Keeper(), loc, p.Sample, log, report.WithSamplerClock(now))
	if err != nil {
		return nil, fmt.Errorf("office %q: sample: %w", office, err)
	}
	fopts := report.FiguresOptions{Location: loc, Receptionists: ops, ShortAbandon: p.ShortAbandon, GreetingLimit: p.GreetingLimit}
	op := &OfficeProcedure{
		Office: office, Calls: calls, Operators: ops, Location: loc, Ring: p.Ring, Sampler: smp,
		Figures: report.NewFiguresService(calls.AsRecorded(), report.FiguresOptions{
			Location: loc, Receptionists: ops, ShortAbandon: p.ShortAbandon, GreetingLimit: p.GreetingLimit, Now: now,
		}),
	}
	label := office
	if office == AllOffices {
		label = "Todas las oficinas"
	}
	op.sources = report.DocumentSources{
		Calls: calls.AsRecorded(), Figures: fopts, MaxRings: p.Ring.MaxRings,
		Samples: smp, Office: label, Now: now,
	}
	// As in the daemon: the review asks the evaluations' progress and the
	// evaluations the review's lock, so the progress goes through op.
	pending := report.SubmitProgress(func(ctx context.Context, month string) (int, error) {
		return op.Evals.Pending(ctx, month)
	}, calls, loc)
	rv, err := report.NewReviewer(kv, pending, report.Indicators{Src: &op.sources}, loc,
		report.ReviewOptions{KeepMonths: p.KeepMonths, Operators: ops}, log, report.WithReviewerClock(now))
	if err != nil {
		return nil, fmt.Errorf("office %q: review: %w", office, err)
	}
	ev, err := report.NewEvaluator(calls, smp, kv, rv, p.Ring.MaxRings, log, report.WithEvaluatorClock(now))
	if err != nil {
		return nil, fmt.Errorf("office %q: evaluations: %w", office, err)
	}
	op.Evals, op.Review = ev, rv
	op.sources.Evaluations, op.sources.Review = ev, rv
	return op, nil
}

// Document returns the month's report of the office.
func (p *OfficeProcedure) Document(ctx context.Context, month string) (*report.Document, error) {
	return report.BuildDocument(ctx, p.sources, month)
}

// Release ends the protection of the sampled recordings of months
// approved more than keep_months ago (what the daemon does hourly).
func (p *OfficeProcedure) Release(ctx context.Context, keep report.Keeper) (int, error) {
	return p.Review.ReleaseExpired(ctx, p.Sampler, keep)
}
