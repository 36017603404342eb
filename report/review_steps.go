package report

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The steps of the review (issue 10 §5): the técnico writes the
// conclusions and submits; the jefe returns the report with observations or
// approves it. Each step is an Event of the history; each submission opens
// a Round, which the jefe's answer closes.
//
//	draft ──submit──▶ submitted ──approve──▶ approved
//	                   │     ▲
//	             return│     │submit (round n+1)
//	                   ▼     │
//	                  returned
//
// Conclusions are written in draft and returned.
//
// Who may take which step is the web layer's (the roles); the Reviewer
// records who took it. It does not refuse a jefe approving a round he
// submitted himself: the seed document gives the roles, not a rule on
// accounts, and both names stay in the round.

// SaveConclusions stores the técnico's conclusions of a draft or returned
// report, as typed. Consecutive saves by the same account are one event
// of the history (its time is the last save's), so that saving as typed
// does not bury the other steps.
func (r *Reviewer) SaveConclusions(ctx context.Context, month, by, text string) (Review, error) {
	return r.update(ctx, month, by, func(sr *storedReview, at time.Time) error {
		if sr.State != ReviewDraft && sr.State != ReviewReturned {
			return reviewStateErr("conclusions", month, sr.State)
		}
		sr.Conclusions = text
		if n := len(sr.History); n > 0 && sr.History[n-1].Action == EventConclusions && sr.History[n-1].By == by {
			sr.History[n-1].At = at
			return nil
		}
		sr.History = append(sr.History, Event{At: at, By: by, Action: EventConclusions})
		return nil
	})
}

// Submit sends a draft or returned report to the jefe: the month must
// have ended (now ≥ its end in the zone; ErrState), the conclusions must
// be written (ErrReason) and every sampled call must have a submitted
// evaluation (ErrPendingEvaluations, with how many do not). It opens a new
// round with the conclusions as submitted; a returned report's round keeps
// its observations.
func (r *Reviewer) Submit(ctx context.Context, month, by string) (Review, error) {
	_, end, err := MonthRange(month, r.loc)
	if err != nil {
		return Review{}, err
	}
	return r.update(ctx, month, by, func(sr *storedReview, at time.Time) error {
		if sr.State != ReviewDraft && sr.State != ReviewReturned {
			return reviewStateErr("submit", month, sr.State)
		}
		if at.Before(end) {
			return fmt.Errorf("submit %s: %w (the month ends %s)", month, ErrState, end.Format(time.RFC3339))
		}
		if strings.TrimSpace(sr.Conclusions) == "" {
			return fmt.Errorf("submit %s: conclusions: %w", month, ErrReason)
		}
		n, err := r.progress.Pending(ctx, month)
		if err != nil {
			return fmt.Errorf("submit %s: evaluations: %w", month, err)
		}
		if n > 0 {
			return fmt.Errorf("submit %s: %w: %d", month, ErrPendingEvaluations, n)
		}
		round := Round{N: len(sr.Rounds) + 1, SubmittedAt: at, SubmittedBy: by, Conclusions: sr.Conclusions}
		sr.Rounds = append(sr.Rounds, round)
		sr.State = ReviewSubmitted
		sr.History = append(sr.History, Event{At: at, By: by, Action: EventSubmitted, Detail: roundDetail(round.N)})
		r.log.Info("report submitted", "month", month, "round", round.N, "by", by)
		return nil
	})
}

// Return sends a submitted report back to the técnico with the jefe's
// observations (required, ErrReason), kept in the round.
func (r *Reviewer) Return(ctx context.Context, month, by, observations string) (Review, error) {
	return r.update(ctx, month, by, func(sr *storedReview, at time.Time) error {
		if sr.State != ReviewSubmitted {
			return reviewStateErr("return", month, sr.State)
		}
		if strings.TrimSpace(observations) == "" {
			return fmt.Errorf("return %s: observations: %w", month, ErrReason)
		}
		last := &sr.Rounds[len(sr.Rounds)-1]
		last.ReturnedAt, last.ReturnedBy, last.Observations = &at, by, observations
		sr.State = ReviewReturned
		sr.History = append(sr.History, Event{At: at, By: by, Action: EventReturned, Detail: observations})
		r.log.Info("report returned", "month", month, "round", last.N, "by", by)
		return nil
	})
}

// Approve approves a submitted report. The sampled recordings stay
// protected until KeepMonths months after the approval (KeepUntil), on the
// calendar of the zone: approved on 31 March, kept until 31 March of the
// next year with 12 months.
func (r *Reviewer) Approve(ctx context.Context, month, by string) (Review, error) {
	return r.update(ctx, month, by, func(sr *storedReview, at time.Time) error {
		if sr.State != ReviewSubmitted {
			return reviewStateErr("approve", month, sr.State)
		}
		last := &sr.Rounds[len(sr.Rounds)-1]
		last.ApprovedAt, last.ApprovedBy = &at, by
		until := at.In(r.loc).AddDate(0, r.opts.KeepMonths, 0).UTC()
		sr.State, sr.ApprovedAt, sr.KeepUntil = ReviewApproved, &at, &until
		sr.History = append(sr.History, Event{At: at, By: by, Action: EventApproved, Detail: roundDetail(last.N)})
		r.log.Info("report approved", "month", month, "round", last.N, "by", by, "keep_until", until)
		return nil
	})
}

// Locked says whether the month's report is submitted or approved: its
// evaluations then change only after the jefe returns it. It serves the
// Evaluator as its MonthLock.
func (r *Reviewer) Locked(ctx context.Context, month string) (bool, error) {
	rv, err := r.Get(ctx, month)
	if err != nil {
		return false, err
	}
	return rv.State == ReviewSubmitted || rv.State == ReviewApproved, nil
}

// roundDetail is the history's detail of a round.
func roundDetail(n int) string { return "ronda " + strconv.Itoa(n) }
