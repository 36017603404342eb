package report

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// Z95 is the normal quantile of a two-sided 95 % interval, the z of the
// tabulation's Wilson intervals (issue 10 §4).
const Z95 = 1.96

// Wilson returns the Wilson score interval (E. B. Wilson, "Probable
// inference, the law of succession, and statistical inference", JASA 22,
// 1927; method 3 of R. G. Newcombe, "Two-sided confidence intervals for
// the single proportion", Statistics in Medicine 17, 1998) of k successes
// in n trials, in percent:
//
//	(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n),  p = k/n
//
// Unlike the normal approximation it stays inside 0–100 % and is not
// empty at k = 0 or k = n, which small per-receptionist samples hit
// often. ok is false when n is 0 or k is outside 0…n.
func Wilson(k, n int, z float64) (Interval, bool) {
	if n <= 0 || k < 0 || k > n {
		return Interval{}, false
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	d := 1 + z2/nf
	c := (p + z2/(2*nf)) / d
	h := z / d * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	// At k = 0 and k = n the ends are 0 and 1 exactly; the subtraction
	// leaves a rounding error of the order of 1e-17 on the wrong side.
	lo, hi := math.Max(0, c-h), math.Min(1, c+h)
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return Interval{Low: lo * 100, High: hi * 100}, true
}

// tally adds one verdict to a point's tally.
func (t *PointTally) tally(v Verdict) {
	switch v {
	case VerdictCumple:
		t.Cumple++
	case VerdictNoCumple:
		t.NoCumple++
	case VerdictNoAplica:
		t.NoAplica++
	default:
		return
	}
	t.Evaluated = t.Cumple + t.NoCumple
}

// finish fills the percentage and its interval, both rounded to 0.01 %
// as the report prints them.
func (t *PointTally) finish() {
	t.Evaluated = t.Cumple + t.NoCumple
	t.NoCumplePct, t.Wilson95 = nil, nil
	if t.Evaluated == 0 {
		return
	}
	t.NoCumplePct = figPtr(roundTo(float64(t.NoCumple)/float64(t.Evaluated)*100, 100))
	if w, ok := Wilson(t.NoCumple, t.Evaluated, Z95); ok {
		t.Wilson95 = &Interval{Low: roundTo(w.Low, 100), High: roundTo(w.High, 100)}
	}
}

// newTallies returns an empty tally per point of the form, in its order.
func newTallies(form Form) []PointTally {
	ts := make([]PointTally, len(form.Points))
	for i, p := range form.Points {
		ts[i] = PointTally{Point: p.ID, Label: p.Label}
	}
	return ts
}

// Tabulate counts the month's submitted evaluations (their last
// revision's answers) by point, overall and per receptionist (every one
// of operators present; one not configured any more keeps its own key).
// Sampled, Submitted, Drafts and Pending are over the sample's calls that
// were not replaced; an evaluation of a call no longer in the sample (a
// replaced one) is not counted. With a nil sample every submitted
// evaluation is counted. Observations are sorted by receptionist, call
// time and point order, InviteLocal written in loc (UTC when nil). The
// inmediatez census (InmediatezAll…) is left for the caller to fill from
// InmediatezCensus.
func Tabulate(form Form, smp *Sample, evals []Evaluation, operators []string, loc *time.Location) Tabulation {
	if loc == nil {
		loc = time.UTC
	}
	tab := Tabulation{
		Form:         form.Version,
		Points:       newTallies(form),
		ByOperator:   make(map[string][]PointTally, len(operators)),
		Observations: []Observation{},
	}
	for _, op := range operators {
		tab.ByOperator[op] = newTallies(form)
	}
	byID := make(map[string]*Evaluation, len(evals))
	for i := range evals {
		byID[evals[i].ID] = &evals[i]
	}
	var counted []*Evaluation
	if smp != nil {
		tab.Month = smp.Month
		for _, it := range smp.Items {
			if it.Replaced {
				continue
			}
			tab.Sampled++
			ev := byID[it.ID]
			switch {
			case ev == nil:
				tab.Pending++
			case ev.Status == EvalSubmitted:
				tab.Submitted++
				counted = append(counted, ev)
			default:
				tab.Drafts++
			}
		}
	} else {
		for i := range evals {
			if evals[i].Status == EvalSubmitted {
				tab.Submitted++
				counted = append(counted, &evals[i])
			}
		}
	}
	if tab.Month == "" && len(evals) > 0 {
		tab.Month = evals[0].Month
	}
	var keys []obsKey
	for _, ev := range counted {
		keys = tab.add(form, ev, loc, keys)
	}
	for i := range tab.Points {
		tab.Points[i].finish()
	}
	for _, ts := range tab.ByOperator {
		for i := range ts {
			ts[i].finish()
		}
	}
	// Sorted by key, not by Observation, so the sort moves small values
	// and reads no map.
	slices.SortFunc(keys, func(a, b obsKey) int {
		return cmp.Or(
			cmp.Compare(a.op, b.op),
			a.at.Compare(b.at),
			cmp.Compare(a.id, b.id),
			cmp.Compare(a.point, b.point),
		)
	})
	sorted := make([]Observation, len(keys))
	for i, k := range keys {
		sorted[i] = tab.Observations[k.i]
	}
	tab.Observations = sorted
	return tab
}

// obsKey is what the observations are sorted by: receptionist, call
// time, call, point order; i is the observation's index before sorting.
type obsKey struct {
	op    string
	at    time.Time
	id    string
	point int
	i     int
}

// add counts one submitted evaluation and appends the sort keys of its
// observations to keys.
func (tab *Tabulation) add(form Form, ev *Evaluation, loc *time.Location, keys []obsKey) []obsKey {
	answers := ev.Answers
	if n := len(ev.Revisions); n > 0 {
		answers = ev.Revisions[n-1].Answers
	}
	ops := tab.ByOperator[ev.Operator]
	if ops == nil {
		ops = newTallies(form)
		tab.ByOperator[ev.Operator] = ops
	}
	bad := false
	for _, a := range answers {
		i := form.pointIndex(a.Point)
		if i < 0 {
			continue
		}
		tab.Points[i].tally(a.Verdict)
		ops[i].tally(a.Verdict)
		bad = bad || a.Verdict == VerdictNoCumple
		if strings.TrimSpace(a.Observation) != "" {
			keys = append(keys, obsKey{op: ev.Operator, at: ev.Facts.InviteAt, id: ev.ID, point: i, i: len(tab.Observations)})
			tab.Observations = append(tab.Observations, Observation{
				ID: ev.ID, Operator: ev.Operator, Point: a.Point, Verdict: a.Verdict,
				Text: a.Observation, AtSeconds: a.AtSeconds,
				InviteLocal: ev.Facts.InviteAt.In(loc).Format("2006-01-02 15:04"),
			})
		}
	}
	if bad {
		tab.WithNonCompliance++
	}
	if ev.Revision > 1 {
		tab.Changed++
	}
	disputed := slices.ContainsFunc(ev.Revisions, func(r Revision) bool { return r.Dispute })
	if a := ev.Ack; a != nil {
		switch a.State {
		case AckAcknowledged:
			tab.Acknowledged++
		case AckDisputed:
			disputed = true
			tab.Unresolved++
		case AckResolved:
			disputed = true
		}
	}
	if disputed {
		tab.Disputed++
	}
	return keys
}
