package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxObservation is the longest observation accepted, in characters: a
// paragraph or two, enough for what was heard, and a bound on what one
// request can make the board store.
const MaxObservation = 2000

// atSlack is how far past the recording's length a moment may point: the
// player's position and the stored duration are rounded differently.
const atSlack = 1.0

// checkAnswers validates answers against the form and the call's facts:
// each point known and answered once, each verdict one of the form's
// (pending allowed only when pending is true), each moment inside the
// recording and each observation valid UTF-8 of at most MaxObservation
// characters. The error wraps ErrBadAnswer and says which answer.
func checkAnswers(form Form, facts EvalFacts, as []Answer, pending bool) error {
	seen := make(map[string]bool, len(as))
	for _, a := range as {
		if form.pointIndex(a.Point) < 0 {
			return fmt.Errorf("%w: unknown point %q", ErrBadAnswer, a.Point)
		}
		if seen[a.Point] {
			return fmt.Errorf("%w: point %s answered twice", ErrBadAnswer, a.Point)
		}
		seen[a.Point] = true
		switch a.Verdict {
		case VerdictCumple, VerdictNoCumple, VerdictNoAplica:
		case VerdictPending:
			if !pending {
				return fmt.Errorf("%w: point %s has no verdict", ErrIncomplete, a.Point)
			}
		default:
			return fmt.Errorf("%w: point %s: unknown verdict %q", ErrBadAnswer, a.Point, a.Verdict)
		}
		if at := a.AtSeconds; at != nil {
			if math.IsNaN(*at) || *at < 0 || *at > facts.RecordingSeconds+atSlack {
				return fmt.Errorf("%w: point %s: moment %g s outside the recording (%g s)",
					ErrBadAnswer, a.Point, *at, facts.RecordingSeconds)
			}
		}
		if !utf8.ValidString(a.Observation) {
			return fmt.Errorf("%w: point %s: observation is not UTF-8", ErrBadAnswer, a.Point)
		}
		if n := utf8.RuneCountInString(a.Observation); n > MaxObservation {
			return fmt.Errorf("%w: point %s: observation of %d characters, at most %d",
				ErrBadAnswer, a.Point, n, MaxObservation)
		}
	}
	return nil
}

// mergeAnswers returns cur (one answer per point of the form, in its
// order) with each answer of as put in its point's place, and the
// automatic points' verdicts forced to the measurement. as must have been
// checked.
func mergeAnswers(form Form, facts EvalFacts, cur, as []Answer) []Answer {
	out := make([]Answer, len(form.Points))
	for i, p := range form.Points {
		out[i] = Answer{Point: p.ID}
		if j := slices.IndexFunc(cur, func(a Answer) bool { return a.Point == p.ID }); j >= 0 {
			out[i] = cloneAnswer(cur[j])
		}
	}
	for _, a := range as {
		out[form.pointIndex(a.Point)] = cloneAnswer(a)
	}
	for i, p := range form.Points {
		if p.Auto {
			out[i].Verdict = measured(facts)
		}
	}
	return out
}

// cloneAnswer copies an answer so that no two answers share AtSeconds.
func cloneAnswer(a Answer) Answer {
	if a.AtSeconds != nil {
		v := *a.AtSeconds
		a.AtSeconds = &v
	}
	return a
}

// cloneAnswers copies a slice of answers.
func cloneAnswers(as []Answer) []Answer {
	out := make([]Answer, len(as))
	for i, a := range as {
		out[i] = cloneAnswer(a)
	}
	return out
}

// missingPoints names the points of the form without a verdict in as.
func missingPoints(form Form, as []Answer) []string {
	var miss []string
	for _, p := range form.Points {
		j := slices.IndexFunc(as, func(a Answer) bool { return a.Point == p.ID })
		if j < 0 || as[j].Verdict == VerdictPending {
			miss = append(miss, p.ID)
		}
	}
	return miss
}

// incomplete returns ErrIncomplete naming the points of as without a
// verdict, nil when every point has one.
func incomplete(form Form, as []Answer) error {
	if miss := missingPoints(form, as); len(miss) > 0 {
		return fmt.Errorf("%w: %s", ErrIncomplete, strings.Join(miss, ", "))
	}
	return nil
}

// fullAnswers checks the complete answers of a revision or a resolution:
// every point but the automatic ones named with a verdict, and returns
// them merged over cur (an automatic point not named keeps its current
// observation).
func fullAnswers(form Form, facts EvalFacts, cur, as []Answer) ([]Answer, error) {
	if err := checkAnswers(form, facts, as, false); err != nil {
		return nil, err
	}
	var miss []string
	for _, p := range form.Points {
		if !p.Auto && !slices.ContainsFunc(as, func(a Answer) bool { return a.Point == p.ID }) {
			miss = append(miss, p.ID)
		}
	}
	if len(miss) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrIncomplete, strings.Join(miss, ", "))
	}
	out := mergeAnswers(form, facts, cur, as)
	if err := incomplete(form, out); err != nil {
		return nil, err
	}
	return out, nil
}
