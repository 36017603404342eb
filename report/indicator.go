package report

import (
	"fmt"
	"math"
	"slices"
)

// The indicators a corrective action aims to move (issue 10 §5), and their
// value in a month. The value is computed from the month's figures and
// tabulation by IndicatorValue; the service that has them (the month's
// document) provides it to the Reviewer through IndicatorSource.

// ValidIndicator checks that ind names a kind the report computes, a point
// of form for a point's %, no point for the other kinds, and a configured
// receptionist or none. The error wraps ErrBadAction and says which.
func ValidIndicator(ind Indicator, form Form, operators []string) error {
	switch ind.Kind {
	case IndicatorPointNoCumplePct:
		if ind.Point == "" {
			return fmt.Errorf("%w: indicator %s needs a point", ErrBadAction, ind.Kind)
		}
		if !slices.ContainsFunc(form.Points, func(p FormPoint) bool { return p.ID == ind.Point }) {
			return fmt.Errorf("%w: point %q is not in form %s", ErrBadAction, ind.Point, form.Version)
		}
	case IndicatorServiceLevelPct, IndicatorAbandonedPct, IndicatorASASeconds:
		if ind.Point != "" {
			return fmt.Errorf("%w: indicator %s takes no point", ErrBadAction, ind.Kind)
		}
	default:
		return fmt.Errorf("%w: unknown indicator %q", ErrBadAction, ind.Kind)
	}
	if ind.Operator != "" && !slices.Contains(operators, ind.Operator) {
		return fmt.Errorf("%w: %q is not a configured receptionist", ErrBadAction, ind.Operator)
	}
	return nil
}

// Lower says whether a lower value of the indicator kind is the better one:
// a % of non-compliance, abandons and the time to answer should go down,
// the service level up.
func Lower(kind string) bool {
	return kind != IndicatorServiceLevelPct
}

// IndicatorValue returns the indicator's value from a month's figures and
// tabulation, nil when it cannot be computed (no figures or tabulation, no
// calls, nothing evaluated, a receptionist absent). The figures' kinds are
// read from the inbound block, or the receptionist's; a point's % from
// the tabulation of the sample, except inmediatez, which is measured on
// every call (InmediatezAll). The value is a copy: changing it changes
// neither input.
func IndicatorValue(ind Indicator, f *MonthFigures, tab *Tabulation) *float64 {
	switch ind.Kind {
	case IndicatorServiceLevelPct, IndicatorAbandonedPct, IndicatorASASeconds:
		in := indInbound(f, ind.Operator)
		if in == nil {
			return nil
		}
		switch ind.Kind {
		case IndicatorServiceLevelPct:
			return indCopy(in.ServiceLevelPct)
		case IndicatorASASeconds:
			return indCopy(in.ASASeconds)
		}
		if in.Offered == 0 {
			return nil
		}
		// Rounded to 0.01 like the figures' service level.
		v := math.Round(float64(in.Abandoned)/float64(in.Offered)*100*100) / 100
		return &v
	case IndicatorPointNoCumplePct:
		return indCopy(indPointPct(tab, ind.Point, ind.Operator))
	}
	return nil
}

// indInbound is the inbound block of everyone ("") or of a receptionist.
func indInbound(f *MonthFigures, operator string) *Inbound {
	switch {
	case f == nil:
		return nil
	case operator == "":
		return &f.Inbound
	}
	return f.ByOperator[operator]
}

// indPointPct is a point's non-compliance % in the tabulation.
func indPointPct(tab *Tabulation, point, operator string) *float64 {
	if tab == nil {
		return nil
	}
	if point == PointInmediatez {
		if operator == "" {
			return tab.InmediatezAll.NoCumplePct
		}
		t, ok := tab.InmediatezAllByOperator[operator]
		if !ok {
			return nil
		}
		return t.NoCumplePct
	}
	tallies := tab.Points
	if operator != "" {
		tallies = tab.ByOperator[operator]
	}
	for _, t := range tallies {
		if t.Point == point {
			return t.NoCumplePct
		}
	}
	return nil
}

func indCopy(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
