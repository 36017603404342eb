package report

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDueAt(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		month string
		loc   *time.Location
		// local is the wall clock of the instant, utc the instant itself
		// (worked out by hand from the zones' offsets).
		local, utc string
	}{
		{"2026-11", rvZone, "2026-12-04 00:00 -0600", "2026-12-04T06:00:00Z"},
		{"2026-03", rvZone, "2026-04-04 00:00 -0600", "2026-04-04T06:00:00Z"},
		// Year end: due by the end of 3 January.
		{"2026-12", rvZone, "2027-01-04 00:00 -0600", "2027-01-04T06:00:00Z"},
		{"2028-02", rvZone, "2028-03-04 00:00 -0600", "2028-03-04T06:00:00Z"},
		{"2027-02", rvZone, "2027-03-04 00:00 -0600", "2027-03-04T06:00:00Z"},
		// Madrid: CET (+1) in winter, CEST (+2) from the last Sunday of
		// March to the last Sunday of October.
		{"2026-02", madrid, "2026-03-04 00:00 +0100", "2026-03-03T23:00:00Z"},
		{"2026-03", madrid, "2026-04-04 00:00 +0200", "2026-04-03T22:00:00Z"},
		{"2026-09", madrid, "2026-10-04 00:00 +0200", "2026-10-03T22:00:00Z"},
		{"2026-10", madrid, "2026-11-04 00:00 +0100", "2026-11-03T23:00:00Z"},
		{"2026-12", madrid, "2027-01-04 00:00 +0100", "2027-01-03T23:00:00Z"},
	}
	for _, tc := range tests {
		got, err := DueAt(tc.month, tc.loc)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.month, tc.loc, err)
		}
		if l := got.Format("2006-01-02 15:04 -0700"); l != tc.local {
			t.Errorf("%s %s: local %s, want %s", tc.month, tc.loc, l, tc.local)
		}
		if u := got.UTC().Format(time.RFC3339); u != tc.utc {
			t.Errorf("%s %s: %s, want %s", tc.month, tc.loc, u, tc.utc)
		}
	}
	if _, err := DueAt("2026-13", rvZone); !errors.Is(err, ErrBadMonth) {
		t.Errorf("bad month: %v", err)
	}
	if _, err := DueAt("2026-01", nil); !errors.Is(err, ErrNoLocation) {
		t.Errorf("no zone: %v", err)
	}
}

func TestCalendar(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{})
	local := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, rvZone) }
	submitAt := func(month string, at time.Time) {
		t.Helper()
		e.clock.set(at)
		if _, err := e.r.SaveConclusions(ctx, month, "tecnico", "x"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.r.Submit(ctx, month, "tecnico"); err != nil {
			t.Fatal(err)
		}
	}
	// December: first submitted exactly at its due instant, which is late.
	decDue, _ := DueAt("2025-12", rvZone)
	submitAt("2025-12", decDue)
	// January: submitted late, then returned: late stays, it is not
	// overdue.
	submitAt("2026-01", local(2026, 2, 10, 9))
	if _, err := e.r.Return(ctx, "2026-01", "jefe", "obs"); err != nil {
		t.Fatal(err)
	}
	// February: submitted on the 2nd of March, approved later.
	submitAt("2026-02", local(2026, 3, 2, 9))
	e.clock.set(local(2026, 3, 20, 9))
	if _, err := e.r.Approve(ctx, "2026-02", "jefe"); err != nil {
		t.Fatal(err)
	}
	// March has only conclusions.
	if _, err := e.r.SaveConclusions(ctx, "2026-03", "tecnico", "borrador"); err != nil {
		t.Fatal(err)
	}

	type row struct {
		month         string
		state         ReviewState
		overdue, late bool
		submitted     bool
	}
	check := func(now time.Time, months int, want []row) {
		t.Helper()
		e.clock.set(now)
		got, err := e.r.Calendar(ctx, months)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("at %v: %d months, want %d", now, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			due, _ := DueAt(w.month, rvZone)
			if g.Month != w.month || g.State != w.state || g.Overdue != w.overdue || g.SubmittedLate != w.late ||
				(g.SubmittedAt != nil) != w.submitted || !g.DueAt.Equal(due) {
				t.Errorf("at %v, %d: %+v, want %+v due %v", now, i, g, w, due)
			}
		}
	}
	// 3 April 23:59:59.999…: March is still on time.
	marDue, _ := DueAt("2026-03", rvZone)
	check(marDue.Add(-time.Nanosecond), 5, []row{
		{"2026-04", ReviewDraft, false, false, false},
		{"2026-03", ReviewDraft, false, false, false},
		{"2026-02", ReviewApproved, false, false, true},
		{"2026-01", ReviewReturned, false, true, true},
		{"2025-12", ReviewSubmitted, false, true, true},
	})
	// At the due instant March is overdue.
	check(marDue, 2, []row{
		{"2026-04", ReviewDraft, false, false, false},
		{"2026-03", ReviewDraft, true, false, false},
	})
	// 30 April 21:00 local is 1 May in UTC: the current month is April.
	check(time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC), 1, []row{{"2026-04", ReviewDraft, false, false, false}})
	// Submitted late, March is no longer overdue but late.
	submitAt("2026-03", local(2026, 4, 6, 8))
	check(local(2026, 4, 6, 9), 2, []row{
		{"2026-04", ReviewDraft, false, false, false},
		{"2026-03", ReviewSubmitted, false, true, true},
	})

	for months, want := range map[int]int{0: 0, -3: 0, 13: 13, 1000: 120} {
		got, err := e.r.Calendar(ctx, months)
		if err != nil || len(got) != want || got == nil {
			t.Errorf("Calendar(%d): %d months %v, want %d", months, len(got), err, want)
		}
	}
	got, _ := e.r.Calendar(ctx, 13)
	if got[12].Month != "2025-04" || !got[12].Overdue {
		t.Errorf("a year back: %+v", got[12])
	}
}
