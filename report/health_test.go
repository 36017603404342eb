package report

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// hlSource is a HealthSource over records in memory, as the daemon's log
// and the central server's copy return them.
type hlSource struct {
	days []HealthDay
	err  error
	// asked records the ranges asked for.
	asked [][2]string
}

func (s *hlSource) HealthDays(_ context.Context, from, to string) ([]HealthDay, error) {
	s.asked = append(s.asked, [2]string{from, to})
	if s.err != nil {
		return nil, s.err
	}
	var out []HealthDay
	for _, d := range s.days {
		if d.Day >= from && d.Day <= to {
			out = append(out, d)
		}
	}
	return out, nil
}

// hlDay is a day the daemon ran all of, with SIP.
func hlDay(day string) HealthDay {
	return HealthDay{Day: day, RunningSeconds: 86400, Packets: 1000, SIPMessages: 100}
}

// hlMonthDays are the days of March 2026 from first to last, each made by
// mk (nil leaves the day out).
func hlMonthDays(first, last int, mk func(day string) *HealthDay) []HealthDay {
	var out []HealthDay
	for d := first; d <= last; d++ {
		day := time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		if r := mk(day); r != nil {
			out = append(out, *r)
		}
	}
	return out
}

func TestHealth(t *testing.T) {
	loc := hlLoc(t)
	lt := func(s string) time.Time {
		v, err := time.ParseInLocation(time.DateTime, s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	gap := func(from, to string) Gap {
		f, e := lt(from), lt(to)
		return Gap{From: f.UTC(), To: e.UTC(), Seconds: e.Sub(f).Seconds()}
	}
	full := func(day string) *HealthDay { d := hlDay(day); return &d }
	// An earlier run, so the month's starts are all restarts unless
	// said otherwise.
	feb := HealthDay{Day: "2026-02-27", RunningSeconds: 3600, Starts: 1}
	march := "2026-03"
	tests := []struct {
		name string
		days []HealthDay
		now  time.Time
		// check tests the part; want* are compared whole where set.
		wantDays, wantRecorded int
		wantNotRunning         []string
		wantNoSIP              []string
		wantGaps               []Gap
		wantGapSeconds         float64
		wantRestarts           int
		wantSums               [5]uint64 // packets, sip, kernel drops, store errors, dropped
		wantByDay              int
	}{
		{
			name:     "past month, ran every day",
			days:     append([]HealthDay{feb}, hlMonthDays(1, 31, full)...),
			now:      lt("2026-04-15 10:00:00"),
			wantDays: 31, wantRecorded: 31, wantNotRunning: []string{}, wantNoSIP: []string{}, wantGaps: []Gap{},
			wantSums: [5]uint64{31000, 3100, 0, 0, 0}, wantByDay: 31,
		},
		{
			name:           "month to come",
			days:           []HealthDay{feb},
			now:            lt("2026-02-28 23:59:59"),
			wantNotRunning: []string{}, wantNoSIP: []string{}, wantGaps: []Gap{},
		},
		{
			name: "current month up to today, in the local zone",
			// 03:00 UTC on the 11th is still the 10th in El Salvador.
			days:     append([]HealthDay{feb}, hlMonthDays(1, 31, full)...),
			now:      time.Date(2026, 3, 11, 3, 0, 0, 0, time.UTC),
			wantDays: 10, wantRecorded: 10, wantNotRunning: []string{}, wantNoSIP: []string{}, wantGaps: []Gap{},
			wantSums: [5]uint64{10000, 1000, 0, 0, 0}, wantByDay: 10,
		},
		{
			name: "days not running, without SIP, and the counters",
			days: append([]HealthDay{feb}, hlMonthDays(1, 5, func(day string) *HealthDay {
				d := hlDay(day)
				switch day {
				case "2026-03-02":
					return nil // no record
				case "2026-03-03":
					// Only the share of a gap: not running, and not
					// "without SIP" (it did not run).
					return &HealthDay{Day: day, Gaps: []Gap{gap("2026-03-03 00:00:00", "2026-03-04 00:00:00")}}
				case "2026-03-04":
					d.SIPMessages = 0
					d.Gaps = []Gap{gap("2026-03-04 00:00:00", "2026-03-04 08:00:00")}
					d.Starts = 1
				case "2026-03-05":
					d.KernelDrops, d.StoreErrors, d.DroppedRecords = 7, 2, 1
				}
				return &d
			})...),
			now:      lt("2026-03-05 12:00:00"),
			wantDays: 5, wantRecorded: 3,
			wantNotRunning: []string{"2026-03-02", "2026-03-03"},
			wantNoSIP:      []string{"2026-03-04"},
			// The two pieces of the gap split at midnight are one gap.
			wantGaps:       []Gap{gap("2026-03-03 00:00:00", "2026-03-04 08:00:00")},
			wantGapSeconds: 32 * 3600,
			wantRestarts:   1,
			wantSums:       [5]uint64{3000, 200, 7, 2, 1},
			wantByDay:      4,
		},
		{
			name: "gaps sorted, across the month's first midnight clipped",
			days: []HealthDay{
				feb,
				{Day: "2026-02-28", RunningSeconds: 60, Gaps: []Gap{gap("2026-02-28 23:00:00", "2026-03-01 00:00:00")}},
				{Day: "2026-03-01", RunningSeconds: 80000, Starts: 2, SIPMessages: 5,
					Gaps: []Gap{gap("2026-03-01 12:00:00", "2026-03-01 12:10:00"), gap("2026-03-01 00:00:00", "2026-03-01 00:30:00")}},
				{Day: "2026-03-02", RunningSeconds: 80000, SIPMessages: 5,
					Gaps: []Gap{gap("2026-03-02 12:00:00", "2026-03-02 12:03:00")}},
			},
			now:      lt("2026-03-02 23:00:00"),
			wantDays: 2, wantRecorded: 2, wantNotRunning: []string{}, wantNoSIP: []string{},
			wantGaps: []Gap{gap("2026-03-01 00:00:00", "2026-03-01 00:30:00"), gap("2026-03-01 12:00:00", "2026-03-01 12:10:00"),
				gap("2026-03-02 12:00:00", "2026-03-02 12:03:00")},
			wantGapSeconds: 43 * 60,
			wantRestarts:   2,
			wantSums:       [5]uint64{0, 10, 0, 0, 0},
			wantByDay:      2,
		},
		{
			name: "the box's very first start is not a restart",
			days: hlMonthDays(10, 12, func(day string) *HealthDay {
				d := hlDay(day)
				if day == "2026-03-10" {
					d.Starts = 2
				}
				if day == "2026-03-12" {
					d.Starts = 1
				}
				return &d
			}),
			now:      lt("2026-03-12 20:00:00"),
			wantDays: 12, wantRecorded: 3,
			wantNotRunning: []string{"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05",
				"2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09"},
			wantNoSIP: []string{}, wantGaps: []Gap{},
			wantRestarts: 2, wantSums: [5]uint64{3000, 300, 0, 0, 0}, wantByDay: 3,
		},
		{
			name:     "a run carried over from last month has no start",
			days:     []HealthDay{feb, hlDay("2026-03-01")},
			now:      lt("2026-03-01 23:59:59"),
			wantDays: 1, wantRecorded: 1, wantNotRunning: []string{}, wantNoSIP: []string{}, wantGaps: []Gap{},
			wantSums: [5]uint64{1000, 100, 0, 0, 0}, wantByDay: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &hlSource{days: tt.days}
			p, err := Health(context.Background(), src, march, loc, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if p.Days != tt.wantDays || p.DaysRecorded != tt.wantRecorded {
				t.Errorf("days %d recorded %d, want %d %d", p.Days, p.DaysRecorded, tt.wantDays, tt.wantRecorded)
			}
			if !reflect.DeepEqual(p.DaysNotRunning, tt.wantNotRunning) {
				t.Errorf("not running %v, want %v", p.DaysNotRunning, tt.wantNotRunning)
			}
			if !reflect.DeepEqual(p.DaysWithoutSIP, tt.wantNoSIP) {
				t.Errorf("without SIP %v, want %v", p.DaysWithoutSIP, tt.wantNoSIP)
			}
			if !hlGapsEqual(p.CaptureGaps, tt.wantGaps) {
				t.Errorf("gaps %v, want %v", p.CaptureGaps, tt.wantGaps)
			}
			if p.GapSeconds != tt.wantGapSeconds {
				t.Errorf("gap seconds %v, want %v", p.GapSeconds, tt.wantGapSeconds)
			}
			if p.Restarts != tt.wantRestarts {
				t.Errorf("restarts %d, want %d", p.Restarts, tt.wantRestarts)
			}
			sums := [5]uint64{p.Packets, p.SIPMessages, p.KernelDrops, p.StoreErrors, p.DroppedRecords}
			if sums != tt.wantSums {
				t.Errorf("sums %v, want %v", sums, tt.wantSums)
			}
			if len(p.ByDay) != tt.wantByDay || !slices.IsSortedFunc(p.ByDay, func(a, b HealthDay) int {
				return strings.Compare(a.Day, b.Day)
			}) {
				t.Errorf("by day: %d records, want %d, in order", len(p.ByDay), tt.wantByDay)
			}
			for _, d := range p.ByDay {
				if d.Gaps == nil {
					t.Errorf("day %s: gaps nil", d.Day)
				}
			}
			// Invariants: every day of the period is recorded or not
			// running, never both.
			if p.DaysRecorded+len(p.DaysNotRunning) != p.Days {
				t.Errorf("recorded %d + not running %d != days %d", p.DaysRecorded, len(p.DaysNotRunning), p.Days)
			}
			if p.Days == 0 && len(src.asked) != 0 {
				t.Errorf("a month to come asked the source %v", src.asked)
			}
		})
	}
}

func hlGapsEqual(a, b []Gap) bool {
	return slices.EqualFunc(a, b, func(x, y Gap) bool {
		return x.From.Equal(y.From) && x.To.Equal(y.To) && x.Seconds == y.Seconds
	})
}

func TestHealthAsksTheMonthsDays(t *testing.T) {
	loc := hlLoc(t)
	src := &hlSource{days: []HealthDay{{Day: "2026-02-10", RunningSeconds: 1, Starts: 1}, {Day: "2026-03-05", RunningSeconds: 1, Starts: 1}}}
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, loc)
	p, err := Health(context.Background(), src, "2026-03", loc, now)
	if err != nil {
		t.Fatal(err)
	}
	// The month up to today, then the days before the first start to
	// tell it from the box's first.
	want := [][2]string{{"2026-03-01", "2026-03-20"}, {earliestDay, "2026-03-04"}}
	if !reflect.DeepEqual(src.asked, want) {
		t.Errorf("asked %v, want %v", src.asked, want)
	}
	if p.Restarts != 1 {
		t.Errorf("restarts %d, want 1", p.Restarts)
	}
}

func TestHealthErrors(t *testing.T) {
	loc := hlLoc(t)
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, loc)
	boom := errors.New("boom")
	if _, err := Health(context.Background(), &hlSource{err: boom}, "2026-03", loc, now); !errors.Is(err, boom) {
		t.Errorf("source error: %v", err)
	}
	if _, err := Health(context.Background(), &hlSource{}, "March", loc, now); !errors.Is(err, ErrBadMonth) {
		t.Errorf("bad month: %v", err)
	}
	if _, err := Health(context.Background(), &hlSource{}, "2026-03", nil, now); !errors.Is(err, ErrNoLocation) {
		t.Errorf("no zone: %v", err)
	}
	// The look before the month fails: the restarts cannot be told.
	src := &failSecond{hlSource: hlSource{days: []HealthDay{{Day: "2026-03-05", RunningSeconds: 1, Starts: 1}}}, err: boom}
	if _, err := Health(context.Background(), src, "2026-03", loc, now); !errors.Is(err, boom) {
		t.Errorf("second read: %v", err)
	}
}

// failSecond fails every read after the first.
type failSecond struct {
	hlSource
	err error
	n   int
}

func (s *failSecond) HealthDays(ctx context.Context, from, to string) ([]HealthDay, error) {
	s.n++
	if s.n > 1 {
		return nil, s.err
	}
	return s.hlSource.HealthDays(ctx, from, to)
}

func TestJoinGaps(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 3, 1, 0, m, 0, 0, time.UTC) }
	g := func(a, b int) Gap { return Gap{From: at(a), To: at(b), Seconds: at(b).Sub(at(a)).Seconds()} }
	tests := []struct {
		name string
		in   []Gap
		want []Gap
	}{
		{"none", nil, []Gap{}},
		{"one", []Gap{g(1, 5)}, []Gap{g(1, 5)}},
		{"apart, unsorted", []Gap{g(10, 12), g(1, 5)}, []Gap{g(1, 5), g(10, 12)}},
		{"touching", []Gap{g(5, 9), g(1, 5)}, []Gap{g(1, 9)}},
		{"overlapping and inside", []Gap{g(1, 5), g(3, 8), g(4, 6)}, []Gap{g(1, 8)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := joinGaps(tt.in)
			if !hlGapsEqual(got, tt.want) || got == nil {
				t.Errorf("joinGaps = %v, want %v", got, tt.want)
			}
			if !slices.EqualFunc(in, tt.in, func(a, b Gap) bool { return a == b }) {
				t.Errorf("input changed")
			}
		})
	}
}
