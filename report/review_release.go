package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ReleaseExpired ends the retention protection of the sampled recordings of
// every approved month whose KeepUntil has passed (issue 10 §2: kept until
// the report is approved plus report.keep_months). Only the protection the
// sample set (reason KeepReason(month)) is removed: a recording kept for
// another reason stays kept. A month is released once; one whose sample
// cannot be read is left for the next run and the others go on. released
// counts the recordings whose protection was removed.
func (r *Reviewer) ReleaseExpired(ctx context.Context, samples SampleSource, keep Keeper) (released int, err error) {
	r.releasing.Lock()
	defer r.releasing.Unlock()
	now := r.now()
	var due []string
	err = r.kv.Scan(ctx, []byte(prefixReview), func(key, val []byte) error {
		var sr storedReview
		if err := json.Unmarshal(val, &sr); err != nil {
			return fmt.Errorf("%s: %w: %w", key, ErrCorrupt, err)
		}
		if sr.State == ReviewApproved && sr.KeepUntil != nil && sr.KeepUntil.Before(now) && sr.KeepReleased == nil {
			due = append(due, sr.Month)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("release expired: %w", err)
	}
	var errs []error
	for _, month := range due {
		n, err := r.release(ctx, month, samples, keep)
		released += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return released, errors.Join(errs...)
}

// release removes the month's sample protection and marks the month done.
func (r *Reviewer) release(ctx context.Context, month string, samples SampleSource, keep Keeper) (int, error) {
	n := 0
	smp, err := samples.Get(ctx, month)
	switch {
	case errors.Is(err, ErrNoSample):
		// Nothing was protected.
	case err != nil:
		return 0, fmt.Errorf("release %s: %w", month, err)
	default:
		reason := KeepReason(month)
		for _, it := range append(append([]Item(nil), smp.Items...), smp.Reserves...) {
			why, err := keep.Kept(ctx, it.ID)
			if err != nil {
				return n, fmt.Errorf("release %s: %s: %w", month, it.ID, err)
			}
			if why != reason {
				continue
			}
			if err := keep.SetKeep(ctx, it.ID, ""); err != nil {
				return n, fmt.Errorf("release %s: %s: %w", month, it.ID, err)
			}
			n++
		}
	}
	_, err = r.update(ctx, month, SystemActor, func(sr *storedReview, at time.Time) error {
		sr.KeepReleased = &at
		sr.History = append(sr.History, Event{At: at, By: SystemActor, Action: EventKeepReleased, Detail: strconv.Itoa(n)})
		return nil
	})
	if err != nil {
		return n, err
	}
	r.log.Info("sample recordings released", "month", month, "released", n)
	return n, nil
}
