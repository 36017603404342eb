package report

import (
	"context"
	"errors"
	"time"
)

// SubmitProgress is the review's EvaluationProgress over the evaluations'
// Pending (passed as a function: the Evaluator is built after the Reviewer
// whose lock it takes): the sampled calls still to evaluate. A month with
// no call to sample has nothing to evaluate and its report can go; one
// with calls needs its sample first (ErrNoSample).
func SubmitProgress(pending func(ctx context.Context, month string) (int, error), calls Calls, loc *time.Location) PendingFunc {
	return func(ctx context.Context, month string) (int, error) {
		n, err := pending(ctx, month)
		if !errors.Is(err, ErrNoSample) {
			return n, err
		}
		from, to, rerr := MonthRange(month, loc)
		if rerr != nil {
			return 0, rerr
		}
		frame, ferr := BuildFrame(ctx, calls, from, to)
		if ferr != nil {
			return 0, ferr
		}
		if len(frame) == 0 {
			return 0, nil
		}
		return n, err
	}
}
