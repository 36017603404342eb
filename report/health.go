package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrBadDay is returned for a day that is not "YYYY-MM-DD".
var ErrBadDay = errors.New("report: day is not YYYY-MM-DD")

// HealthSource is where the tap's daily health records are kept: the
// daemon's own log on the board (daemon's healthLog), the central server's
// copy later.
type HealthSource interface {
	// HealthDays returns the records of the local days fromDay to toDay
	// ("YYYY-MM-DD", both included) in day order; a day with no record
	// is absent.
	HealthDays(ctx context.Context, fromDay, toDay string) ([]HealthDay, error)
}

// earliestDay bounds the look back for an earlier record (Restarts).
const earliestDay = "0001-01-01"

// Health computes the tap's health over the month "YYYY-MM" in loc, as
// seen at now, from the daemon's daily records.
//
// The days are those of the month up to today: every day of a past month,
// none of a month to come. Today's record is provisional (the daemon adds
// to it every minute): a day it has not yet seen SIP on counts among
// DaysWithoutSIP until it does. A day counts as not running when it has
// no record or its record has no running time (a day spent entirely in a
// capture gap has a record with only its gap).
//
// Capture gaps are the records' gaps of the month, in order; pieces of
// one gap split at local midnight (the daemon keeps each day's share in
// that day's record) are joined back into the one span they were, so a
// night down is one gap. GapSeconds sums the month's share only.
//
// Restarts counts the starts of the daemon in the month that followed an
// earlier run: every start but the box's very first (the one with no
// record of any kind before it). A start right after a clean stop (no gap
// recorded) is a restart too: the daemon was stopped, if briefly.
func Health(ctx context.Context, src HealthSource, month string, loc *time.Location, now time.Time) (*HealthPart, error) {
	from, to, err := MonthRange(month, loc)
	if err != nil {
		return nil, err
	}
	p := &HealthPart{DaysWithoutSIP: []string{}, DaysNotRunning: []string{}, CaptureGaps: []Gap{}, ByDay: []HealthDay{}}
	today := now.In(loc)
	todayStart := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	if todayStart.Before(from) {
		return p, nil
	}
	last := to.AddDate(0, 0, -1)
	if todayStart.Before(last) {
		last = todayStart
	}
	firstDay, lastDay := from.Format(time.DateOnly), last.Format(time.DateOnly)
	days, err := src.HealthDays(ctx, firstDay, lastDay)
	if err != nil {
		return nil, fmt.Errorf("health %s: read days: %w", month, err)
	}
	byDay := make(map[string]HealthDay, len(days))
	for _, d := range days {
		if d.Day >= firstDay && d.Day <= lastDay {
			byDay[d.Day] = d
		}
	}
	starts, firstStart := 0, ""
	var gaps []Gap
	for d := from; !d.After(last); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		p.Days++
		r, ok := byDay[day]
		if !ok {
			p.DaysNotRunning = append(p.DaysNotRunning, day)
			continue
		}
		if r.Gaps == nil {
			r.Gaps = []Gap{}
		}
		p.ByDay = append(p.ByDay, r)
		if r.RunningSeconds <= 0 {
			p.DaysNotRunning = append(p.DaysNotRunning, day)
		} else {
			p.DaysRecorded++
			if r.SIPMessages == 0 {
				p.DaysWithoutSIP = append(p.DaysWithoutSIP, day)
			}
		}
		p.Packets += r.Packets
		p.SIPMessages += r.SIPMessages
		p.KernelDrops += r.KernelDrops
		p.StoreErrors += r.StoreErrors
		p.DroppedRecords += r.DroppedRecords
		if r.Starts > 0 && firstStart == "" {
			firstStart = day
		}
		starts += r.Starts
		gaps = append(gaps, r.Gaps...)
	}
	p.CaptureGaps = joinGaps(gaps)
	for _, g := range p.CaptureGaps {
		p.GapSeconds += g.Seconds
	}
	p.GapSeconds = roundTo(p.GapSeconds, 1000)
	if starts > 0 {
		first, err := firstStartEver(ctx, src, byDay, firstStart)
		if err != nil {
			return nil, fmt.Errorf("health %s: %w", month, err)
		}
		if first {
			starts--
		}
	}
	p.Restarts = starts
	return p, nil
}

// firstStartEver says whether the month's first start, on day, was the
// box's very first: no record of an earlier day, in the month or before
// it. (Two starts on the box's first day are one start and one restart.)
func firstStartEver(ctx context.Context, src HealthSource, byDay map[string]HealthDay, day string) (bool, error) {
	for d := range byDay {
		if d < day {
			return false, nil
		}
	}
	return noEarlier(ctx, src, day)
}

// noEarlier says whether src has no record of a day before day.
func noEarlier(ctx context.Context, src HealthSource, day string) (bool, error) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return false, fmt.Errorf("day %q: %w", day, ErrBadDay)
	}
	before, err := src.HealthDays(ctx, earliestDay, t.AddDate(0, 0, -1).Format(time.DateOnly))
	if err != nil {
		return false, fmt.Errorf("read days before %s: %w", day, err)
	}
	return len(before) == 0, nil
}

// joinGaps sorts the gaps and joins those that touch or overlap (the
// daemon splits a gap at local midnights), summing their seconds.
func joinGaps(gaps []Gap) []Gap {
	out := make([]Gap, 0, len(gaps))
	if len(gaps) == 0 {
		return out
	}
	gaps = slices.Clone(gaps)
	slices.SortFunc(gaps, func(a, b Gap) int { return a.From.Compare(b.From) })
	cur := gaps[0]
	for _, g := range gaps[1:] {
		if !g.From.After(cur.To) {
			if g.To.After(cur.To) {
				cur.To = g.To
			}
			cur.Seconds = cur.To.Sub(cur.From).Seconds()
			continue
		}
		out = append(out, cur)
		cur = g
	}
	return append(out, cur)
}
