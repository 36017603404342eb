package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Errors of MonthRange. They live here, with the shared declarations, so
// both halves of the package can match them with errors.Is.
var (
	// ErrBadMonth is returned for a month that is not "YYYY-MM".
	ErrBadMonth = errors.New("report: month is not YYYY-MM")
	// ErrNoLocation is returned when no time zone was given.
	ErrNoLocation = errors.New("report: no time zone")
)

// Calls is what the report needs from a store of call records: every leg
// whose invite_at falls in [from, to), in any order. The board's badger
// store and, later, the central server's PostgreSQL both provide it; the
// report package never sees either.
type Calls interface {
	// Calls calls fn for each leg with from <= invite_at < to. An error
	// from fn stops the walk and is returned.
	Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error
}

// MonthRange returns the instants that bound the month "YYYY-MM" in loc:
// from is local midnight of its first day, to that of the next month's
// first day, so a call belongs to the month when from <= invite_at < to
// (issue 10 §1: the month of its invite_at in the configured zone).
func MonthRange(month string, loc *time.Location) (from, to time.Time, err error) {
	if loc == nil {
		return time.Time{}, time.Time{}, fmt.Errorf("month %q: %w", month, ErrNoLocation)
	}
	t, perr := time.ParseInLocation("2006-01", month, loc)
	if perr != nil || len(month) != len("2006-01") {
		return time.Time{}, time.Time{}, fmt.Errorf("month %q: %w", month, ErrBadMonth)
	}
	from = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	to = from.AddDate(0, 1, 0)
	return from, to, nil
}
