package report

import (
	"context"
	"fmt"
	"time"
)

// SaveDraft merges the request's answers into a draft, by point: a point
// not named keeps its earlier answer, a pending verdict clears one.
// Inmediatez keeps the measured verdict whatever the request says; its
// observation and moment are kept. A submitted evaluation is ErrSubmitted,
// a locked month ErrLocked, a bad answer ErrBadAnswer.
func (e *Evaluator) SaveDraft(ctx context.Context, req DraftRequest) (Evaluation, error) {
	return e.update(ctx, req.Month, req.ID, req.By, "save draft", func(ev *Evaluation, form Form, _ time.Time) (bool, error) {
		if ev.Status != EvalDraft {
			return false, ErrSubmitted
		}
		if err := e.checkLock(ctx, req.Month); err != nil {
			return false, err
		}
		if err := checkAnswers(form, ev.Facts, req.Answers, true); err != nil {
			return false, err
		}
		ev.Answers = mergeAnswers(form, ev.Facts, ev.Answers, req.Answers)
		return true, nil
	})
}

// Submit makes a complete draft revision 1. The call must still be in the
// sample (not replaced since the draft was opened); a second submission
// is ErrSubmitted: a change is a revision with its reason.
func (e *Evaluator) Submit(ctx context.Context, month, id, by string) (Evaluation, error) {
	// The sample is read before the write lock: the sampler has its own,
	// and a replacement racing a submission is decided by which of the two
	// the técnico did first, as on paper.
	if err := checkMonth(month); err != nil {
		return Evaluation{}, err
	}
	if _, err := e.sampled(ctx, month, id); err != nil {
		return Evaluation{}, err
	}
	return e.update(ctx, month, id, by, "submit evaluation", func(ev *Evaluation, form Form, now time.Time) (bool, error) {
		if ev.Status != EvalDraft {
			return false, ErrSubmitted
		}
		if err := e.checkLock(ctx, month); err != nil {
			return false, err
		}
		// Re-merge so a draft stored by an older build still has one
		// answer per point and the measured inmediatez.
		ans := mergeAnswers(form, ev.Facts, ev.Answers, nil)
		if err := incomplete(form, ans); err != nil {
			return false, err
		}
		ev.Status = EvalSubmitted
		ev.Answers = ans
		ev.Revision = 1
		ev.Revisions = append(ev.Revisions[:0:0], Revision{N: 1, At: now, By: by, Answers: cloneAnswers(ans)})
		return true, nil
	})
}

// Revise changes a submitted evaluation: the complete answers (every
// point but inmediatez named) become revision n+1 with its reason. The
// receptionist's acknowledgement of the earlier revision is cleared, since
// they must acknowledge the new one; a dispute that is not resolved stays,
// to be resolved with Resolve.
func (e *Evaluator) Revise(ctx context.Context, req ReviseRequest) (Evaluation, error) {
	if req.Reason == "" {
		return Evaluation{}, fmt.Errorf("revise evaluation %s in %s: %w", req.ID, req.Month, ErrReason)
	}
	return e.update(ctx, req.Month, req.ID, req.By, "revise evaluation", func(ev *Evaluation, form Form, now time.Time) (bool, error) {
		if ev.Status != EvalSubmitted {
			return false, ErrNotSubmitted
		}
		if err := e.checkLock(ctx, req.Month); err != nil {
			return false, err
		}
		ans, err := fullAnswers(form, ev.Facts, ev.Answers, req.Answers)
		if err != nil {
			return false, err
		}
		ev.addRevision(Revision{At: now, By: req.By, Reason: req.Reason, Answers: ans})
		if ev.Ack != nil && ev.Ack.State != AckDisputed {
			// The receptionist answers the new revision; what they said
			// of the earlier one stays in the history.
			ev.AckHistory = append(ev.AckHistory, *ev.Ack)
			ev.Ack = nil
		}
		return true, nil
	})
}

// addRevision appends r as the next revision and makes its answers the
// current ones.
func (ev *Evaluation) addRevision(r Revision) {
	r.N = ev.Revision + 1
	ev.Revision = r.N
	ev.Answers = cloneAnswers(r.Answers)
	ev.Revisions = append(ev.Revisions, r)
}
