package report

import (
	"context"
	"fmt"
	"time"
)

// Acknowledge records a receptionist's acknowledgement or dispute of the
// last revision of one of their evaluations. It is allowed on a locked
// month: a receptionist's answer does not change the técnico's. A
// receptionist answers each revision once: an evaluation already
// acknowledged, or disputed and not yet resolved, or resolved with no new
// revision since, is returned unchanged. After a resolution that made a
// new revision the receptionist may answer that revision.
func (e *Evaluator) Acknowledge(ctx context.Context, req AckRequest) (Evaluation, error) {
	if req.Dispute && req.Comment == "" {
		return Evaluation{}, fmt.Errorf("dispute evaluation %s in %s: %w", req.ID, req.Month, ErrReason)
	}
	what := "acknowledge evaluation"
	if req.Dispute {
		what = "dispute evaluation"
	}
	return e.update(ctx, req.Month, req.ID, req.By, what, func(ev *Evaluation, _ Form, now time.Time) (bool, error) {
		if ev.Status != EvalSubmitted {
			return false, ErrNotSubmitted
		}
		if req.Operator == "" || req.Operator != ev.Operator {
			return false, ErrNotYours
		}
		if a := ev.Ack; a != nil && a.State != AckNone && (a.State != AckResolved || a.Revision >= ev.Revision) {
			return false, nil
		}
		st := AckAcknowledged
		if req.Dispute {
			st = AckDisputed
		}
		ev.Ack = &Ack{State: st, At: now, By: req.By, Comment: req.Comment, Revision: ev.Revision}
		return true, nil
	})
}

// Resolve resolves a receptionist's dispute. With Answers (complete, like
// a revision's) the resolution becomes a new revision marked as the
// dispute's and Ack.Changed is set; without, the evaluation stands. It is
// allowed on a locked month (disputes are the exception to the lock).
func (e *Evaluator) Resolve(ctx context.Context, req ResolveRequest) (Evaluation, error) {
	if req.Resolution == "" {
		return Evaluation{}, fmt.Errorf("resolve dispute of %s in %s: %w", req.ID, req.Month, ErrReason)
	}
	return e.update(ctx, req.Month, req.ID, req.By, "resolve dispute", func(ev *Evaluation, form Form, now time.Time) (bool, error) {
		if ev.Ack == nil || ev.Ack.State != AckDisputed {
			return false, ErrNoDispute
		}
		ack := *ev.Ack
		if req.Answers != nil {
			ans, err := fullAnswers(form, ev.Facts, ev.Answers, req.Answers)
			if err != nil {
				return false, err
			}
			ev.addRevision(Revision{At: now, By: req.By, Reason: req.Resolution, Answers: ans, Dispute: true})
			ack.Changed = true
		}
		ack.State = AckResolved
		ack.ResolvedAt = &now
		ack.ResolvedBy = req.By
		ack.Resolution = req.Resolution
		ev.Ack = &ack
		return true, nil
	})
}
