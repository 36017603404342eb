package report

import (
	"context"
	"fmt"
	"time"
)

// maxCalendarMonths bounds Calendar: ten years of reports is more than any
// view shows, and a number from a query string must not make it read
// without end.
const maxCalendarMonths = 120

// DueAt returns when the month's report is due (lineamiento 6b: "tres días
// posteriores de finalizado el mes"): the end of the DueDays-th day after
// the month's last day, in loc. It is returned as the midnight that ends
// that day, so due means "before this instant": 2026-11 is due by the end
// of 3 December, and DueAt is 2026-12-04 00:00 local. The day is counted
// on the calendar, not as 72 hours, so a change of offset between the
// month's end and the due day moves nothing.
func DueAt(month string, loc *time.Location) (time.Time, error) {
	_, to, err := MonthRange(month, loc)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(to.Year(), to.Month(), to.Day()+DueDays, 0, 0, 0, 0, loc), nil
}

// Calendar returns the months months up to and including the current one
// in the configured zone, newest first, each with its report's state, due
// instant and lateness. Overdue is set on a month whose report was never
// submitted and whose DueAt has passed; SubmittedLate on one whose first
// submission came at or after DueAt (a later resubmission after a return
// does not make a report late: the técnico delivered it on time). The
// current month is never due yet: its DueAt is after its end. months < 1
// gives none; more than 120 are cut to 120.
func (r *Reviewer) Calendar(ctx context.Context, months int) ([]Due, error) {
	months = min(months, maxCalendarMonths)
	out := make([]Due, 0, max(months, 0))
	now := r.now()
	local := now.In(r.loc)
	first := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, r.loc)
	for i := range months {
		month := first.AddDate(0, -i, 0).Format("2006-01")
		rv, err := r.Get(ctx, month)
		if err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		d := Due{Month: month, State: rv.State, DueAt: rv.DueAt}
		if len(rv.Rounds) > 0 {
			at := rv.Rounds[0].SubmittedAt
			d.SubmittedAt = &at
			d.SubmittedLate = !at.Before(rv.DueAt)
		} else {
			d.Overdue = !now.Before(rv.DueAt)
		}
		out = append(out, d)
	}
	return out, nil
}
