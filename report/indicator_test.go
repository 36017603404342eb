package report

import (
	"errors"
	"fmt"
	"testing"
)

func rvForm(t testing.TB) Form {
	t.Helper()
	f, err := FormByVersion(CurrentForm)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestValidIndicator(t *testing.T) {
	form := rvForm(t)
	tests := []struct {
		ind Indicator
		ok  bool
	}{
		{Indicator{Kind: IndicatorServiceLevelPct}, true},
		{Indicator{Kind: IndicatorAbandonedPct, Operator: "Ana"}, true},
		{Indicator{Kind: IndicatorASASeconds, Operator: "Carlos"}, true},
		{Indicator{Kind: IndicatorPointNoCumplePct, Point: PointSaludo}, true},
		{Indicator{Kind: IndicatorPointNoCumplePct, Point: PointInmediatez, Operator: "Beatriz"}, true},
		{Indicator{Kind: IndicatorPointNoCumplePct, Point: PointAmabilidad}, true},
		{Indicator{}, false},
		{Indicator{Kind: "calls_total"}, false},
		{Indicator{Kind: "SERVICE_LEVEL_PCT"}, false},
		{Indicator{Kind: IndicatorPointNoCumplePct}, false},
		{Indicator{Kind: IndicatorPointNoCumplePct, Point: "puntualidad"}, false},
		{Indicator{Kind: IndicatorServiceLevelPct, Point: PointSaludo}, false},
		{Indicator{Kind: IndicatorServiceLevelPct, Operator: "Daniel"}, false},
		{Indicator{Kind: IndicatorPointNoCumplePct, Point: PointTono, Operator: "ana"}, false},
	}
	for _, tc := range tests {
		err := ValidIndicator(tc.ind, form, rvOperators)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadAction)) {
			t.Errorf("%+v: %v, want ok=%v", tc.ind, err, tc.ok)
		}
	}
	// A form without the point refuses it.
	if err := ValidIndicator(Indicator{Kind: IndicatorPointNoCumplePct, Point: PointSaludo}, Form{Version: "x"}, nil); !errors.Is(err, ErrBadAction) {
		t.Errorf("empty form: %v", err)
	}
}

func TestLower(t *testing.T) {
	for kind, want := range map[string]bool{
		IndicatorPointNoCumplePct: true, IndicatorAbandonedPct: true, IndicatorASASeconds: true, IndicatorServiceLevelPct: false,
	} {
		if Lower(kind) != want {
			t.Errorf("Lower(%s) = %v", kind, !want)
		}
	}
}

// rvFigures are figures with everyone's block and Ana's; Beatriz has no
// calls and Carlos is absent.
func rvFigures() *MonthFigures {
	return &MonthFigures{
		Month:   "2026-03",
		Inbound: Inbound{Offered: 200, Abandoned: 13, ServiceLevelPct: new(87.5), ASASeconds: new(6.25)},
		ByOperator: map[string]*Inbound{
			"Ana":     {Offered: 120, Abandoned: 7, ServiceLevelPct: new(90.0), ASASeconds: new(5.5)},
			"Beatriz": {},
		},
	}
}

func rvTabulation() *Tabulation {
	return &Tabulation{
		Month: "2026-03",
		Points: []PointTally{
			{Point: PointSaludo, Evaluated: 40, NoCumple: 10, NoCumplePct: new(25.0)},
			{Point: PointTono, Evaluated: 0},
			{Point: PointInmediatez, Evaluated: 40, NoCumple: 2, NoCumplePct: new(5.0)},
		},
		ByOperator: map[string][]PointTally{
			"Ana": {{Point: PointSaludo, Evaluated: 20, NoCumple: 3, NoCumplePct: new(15.0)}},
		},
		InmediatezAll:           PointTally{Point: PointInmediatez, Evaluated: 180, NoCumple: 18, NoCumplePct: new(10.0)},
		InmediatezAllByOperator: map[string]PointTally{"Ana": {Point: PointInmediatez, Evaluated: 110, NoCumple: 11, NoCumplePct: new(10.0)}},
	}
}

func TestIndicatorValue(t *testing.T) {
	f, tab := rvFigures(), rvTabulation()
	p := func(kind, point, op string) Indicator { return Indicator{Kind: kind, Point: point, Operator: op} }
	tests := []struct {
		ind  Indicator
		f    *MonthFigures
		tab  *Tabulation
		want *float64
	}{
		{p(IndicatorServiceLevelPct, "", ""), f, tab, new(87.5)},
		{p(IndicatorServiceLevelPct, "", "Ana"), f, tab, new(90.0)},
		{p(IndicatorServiceLevelPct, "", "Beatriz"), f, tab, nil},
		{p(IndicatorServiceLevelPct, "", "Carlos"), f, tab, nil},
		{p(IndicatorServiceLevelPct, "", ""), nil, tab, nil},
		// 13 ÷ 200 = 6.5 %; 7 ÷ 120 = 5.8333… → 5.83.
		{p(IndicatorAbandonedPct, "", ""), f, tab, new(6.5)},
		{p(IndicatorAbandonedPct, "", "Ana"), f, tab, new(5.83)},
		{p(IndicatorAbandonedPct, "", "Beatriz"), f, tab, nil},
		{p(IndicatorASASeconds, "", ""), f, tab, new(6.25)},
		{p(IndicatorASASeconds, "", "Ana"), f, tab, new(5.5)},
		{p(IndicatorASASeconds, "", "Beatriz"), f, tab, nil},
		{p(IndicatorPointNoCumplePct, PointSaludo, ""), f, tab, new(25.0)},
		{p(IndicatorPointNoCumplePct, PointSaludo, "Ana"), f, tab, new(15.0)},
		{p(IndicatorPointNoCumplePct, PointSaludo, "Beatriz"), f, tab, nil},
		{p(IndicatorPointNoCumplePct, PointTono, ""), f, tab, nil},
		{p(IndicatorPointNoCumplePct, rvNoPoint, ""), f, tab, nil},
		// Inmediatez over every call, not the sample's 5 %.
		{p(IndicatorPointNoCumplePct, PointInmediatez, ""), f, tab, new(10.0)},
		{p(IndicatorPointNoCumplePct, PointInmediatez, "Ana"), f, tab, new(10.0)},
		{p(IndicatorPointNoCumplePct, PointInmediatez, "Carlos"), f, tab, nil},
		{p(IndicatorPointNoCumplePct, PointSaludo, ""), f, nil, nil},
		{p("otro", "", ""), f, tab, nil},
	}
	for _, tc := range tests {
		got := IndicatorValue(tc.ind, tc.f, tc.tab)
		if rvFloat(got) != rvFloat(tc.want) {
			t.Errorf("%+v: %s, want %s", tc.ind, rvFloat(got), rvFloat(tc.want))
		}
	}
	// The value is a copy.
	v := IndicatorValue(p(IndicatorServiceLevelPct, "", ""), f, tab)
	*v = 0
	if *f.Inbound.ServiceLevelPct != 87.5 {
		t.Error("IndicatorValue returned the figures' own pointer")
	}
}

// rvNoPoint is a point id no form has.
const rvNoPoint = "parciencia"

func rvFloat(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}
