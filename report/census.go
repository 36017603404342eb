package report

import (
	"context"
	"fmt"

	"github.com/switchtap/switchtap/sip"
)

// InmediatezCensus tabulates inmediatez over every inbound call of the
// month, not only the sample (domain.md §6.2: the rings are measured on
// 100 % of calls). The calls are exactly those Figures counts in
// inbound.offered: the same walk, with the legs a transfer created or
// consulted left out. Per call:
//
//   - answered within the limit (the record's within_limit): Cumple;
//   - answered late: No cumple;
//   - abandoned after more than maxRings rings: No cumple, the caller
//     waited past the limit;
//   - abandoned within the limit, and every short abandon (≤
//     opts.ShortAbandon, the wrong numbers and immediate hang-ups the
//     figures also keep out of the service level) whatever its rings:
//     No aplica, the receptionist had no chance to fail;
//   - busy, rejected, failed, unknown, or redirected before an answer:
//     No aplica.
//
// So Evaluated = answered + abandoned after the limit, and Evaluated +
// NoAplica = inbound.offered. byOperator has every configured
// receptionist (opts.Receptionists) and, like the figures, an operator no
// longer configured under its own name.
func InmediatezCensus(ctx context.Context, calls Calls, month string, maxRings int, opts FiguresOptions) (all PointTally, byOperator map[string]PointTally, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return PointTally{}, nil, err
	}
	if maxRings < 1 {
		return PointTally{}, nil, fmt.Errorf("inmediatez census %s: max_rings must be at least 1, got %d", month, maxRings)
	}
	from, to, err := MonthRange(month, opts.Location)
	if err != nil {
		return PointTally{}, nil, err
	}
	legs, err := countedLegs(ctx, calls, from, to, func(c sip.Call) (figLeg, bool) {
		return newFigLeg(c, from, to), c.Direction == sip.DirectionInbound
	})
	if err != nil {
		return PointTally{}, nil, fmt.Errorf("inmediatez census %s: read calls: %w", month, err)
	}
	label := PointInmediatez
	if form, ferr := FormByVersion(CurrentForm); ferr == nil {
		if i := form.pointIndex(PointInmediatez); i >= 0 {
			label = form.Points[i].Label
		}
	}
	all = PointTally{Point: PointInmediatez, Label: label}
	ops := make(map[string]*PointTally, len(opts.Receptionists))
	for _, r := range opts.Receptionists {
		ops[r] = &PointTally{Point: PointInmediatez, Label: label}
	}
	for i := range legs {
		l := &legs[i]
		v := censusVerdict(l, maxRings, opts)
		all.tally(v)
		if l.operator == "" {
			continue
		}
		t := ops[l.operator]
		if t == nil {
			t = &PointTally{Point: PointInmediatez, Label: label}
			ops[l.operator] = t
		}
		t.tally(v)
	}
	all.finish()
	byOperator = make(map[string]PointTally, len(ops))
	for op, t := range ops {
		t.finish()
		byOperator[op] = *t
	}
	return all, byOperator, nil
}

// censusVerdict is inmediatez for one inbound call of the month.
func censusVerdict(l *figLeg, maxRings int, opts FiguresOptions) Verdict {
	switch {
	case l.answered && l.within:
		return VerdictCumple
	case l.answered:
		return VerdictNoCumple
	case l.redirected():
		return VerdictNoAplica
	case l.reason == sip.EndAbandoned && l.ring > opts.ShortAbandon.Seconds() && l.rings > maxRings:
		return VerdictNoCumple
	default:
		return VerdictNoAplica
	}
}
