package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// updateFigures rewrites the figures golden files (go test ./report/
// -run Figures -update-figures); its own name so that the sample's tests
// may keep -update.
var updateFigures = flag.Bool("update-figures", false, "rewrite report/testdata/figures* golden files")

var figNow = time.Date(2026, 4, 2, 15, 0, 0, 0, time.UTC)

func figOpts(loc *time.Location) FiguresOptions {
	return FiguresOptions{
		Location:      loc,
		Receptionists: []string{"Ana", "Beto", "Carla"},
		Now:           func() time.Time { return figNow },
	}
}

// figJSON computes the synthetic month and returns its JSON, decoded too.
func figJSON(t *testing.T) ([]byte, map[string]any) {
	t.Helper()
	loc, calls := figMonth(t)
	f, err := Figures(context.Background(), &figCalls{calls: calls}, "2026-03", figOpts(loc))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return append(b, '\n'), m
}

// figPath returns the value at a dotted path of decoded JSON ("a.b.c").
func figPath(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = o[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// TestFiguresMonth checks every figure of the synthetic month against the
// value worked out by hand from figMonth's comments (not from the code).
func TestFiguresMonth(t *testing.T) {
	_, m := figJSON(t)
	null := any(nil)
	want := []struct {
		path string
		want any
	}{
		{"month", "2026-03"},
		{"time_zone", "America/El_Salvador"},
		{"generated_at", "2026-04-02T09:00:00-06:00"},
		// 21 inbound + 7 outbound + 1 internal; transfer legs (a13-b,
		// b1-c, b1-d, b2-r, b4-t, b11-c) and other months' legs excluded.
		{"calls_total", 29.0},
		{"inbound.offered", 21.0},
		{"inbound.answered", 12.0},
		{"inbound.within_limit", 10.0},
		{"inbound.late", 2.0},
		{"inbound.abandoned", 4.0},
		{"inbound.short_abandoned", 2.0},
		{"inbound.busy", 1.0},
		{"inbound.rejected", 1.0},
		{"inbound.failed", 1.0},
		{"inbound.unknown", 1.0},
		// 10 / (21 − 2) × 100.
		{"inbound.service_level_pct", 52.63},
		// (3+7+19+25+4+6 + 2+10+8+30+1 + 13) / 12 = 128 / 12.
		{"inbound.asa_seconds", 10.667},
		// 1 2 3 4 6 [7] 8 10 13 19 [25] 30: ranks 6 and 11.
		{"inbound.answer_p50_seconds", 7.0},
		{"inbound.answer_p90_seconds", 25.0},
		{"inbound.rings.1", 4.0},
		{"inbound.rings.2", 4.0},
		{"inbound.rings.3", 1.0},
		{"inbound.rings.4", 1.0},
		{"inbound.rings.5+", 2.0},
		{"inbound.transferred.blind", 3.0},
		{"inbound.transferred.attended", 1.0},
		{"inbound.transferred.redirect", 1.0},
		{"inbound.transferred.completed", 4.0},
		{"inbound.transferred.failed", 1.0},
		// Ana 60+30+45+20+120+15, Beto 40+25+35+10+5, Dora 50.
		{"inbound.talk_seconds_total", 455.0},
		{"inbound.recorded", 6.0},

		{"outbound.made", 7.0},
		{"outbound.answered", 2.0},
		{"outbound.busy", 1.0},
		{"outbound.rejected", 1.0},
		{"outbound.failed", 1.0},
		{"outbound.no_answer", 1.0},

		{"by_operator.Ana.offered", 13.0},
		{"by_operator.Ana.answered", 6.0},
		{"by_operator.Ana.within_limit", 5.0},
		{"by_operator.Ana.late", 1.0},
		{"by_operator.Ana.abandoned", 3.0},
		{"by_operator.Ana.short_abandoned", 2.0},
		{"by_operator.Ana.service_level_pct", 45.45},
		{"by_operator.Ana.asa_seconds", 10.667},
		{"by_operator.Ana.answer_p50_seconds", 6.0},
		{"by_operator.Ana.answer_p90_seconds", 25.0},
		{"by_operator.Ana.rings.1", 2.0},
		{"by_operator.Ana.rings.2", 2.0},
		{"by_operator.Ana.rings.3", 0.0},
		{"by_operator.Ana.rings.4", 1.0},
		{"by_operator.Ana.rings.5+", 1.0},
		{"by_operator.Ana.transferred.blind", 1.0},
		{"by_operator.Ana.transferred.completed", 1.0},
		{"by_operator.Ana.talk_seconds_total", 290.0},
		{"by_operator.Ana.recorded", 4.0},
		{"by_operator.Beto.offered", 7.0},
		{"by_operator.Beto.answered", 5.0},
		{"by_operator.Beto.within_limit", 4.0},
		{"by_operator.Beto.abandoned", 1.0},
		{"by_operator.Beto.short_abandoned", 0.0},
		{"by_operator.Beto.service_level_pct", 57.14},
		{"by_operator.Beto.asa_seconds", 10.2},
		{"by_operator.Beto.answer_p50_seconds", 8.0},
		{"by_operator.Beto.answer_p90_seconds", 30.0},
		{"by_operator.Beto.transferred.blind", 2.0},
		{"by_operator.Beto.transferred.attended", 1.0},
		{"by_operator.Beto.transferred.redirect", 1.0},
		{"by_operator.Beto.transferred.completed", 3.0},
		{"by_operator.Beto.transferred.failed", 1.0},
		{"by_operator.Beto.talk_seconds_total", 115.0},
		{"by_operator.Beto.recorded", 1.0},
		{"by_operator.Carla.offered", 0.0},
		{"by_operator.Carla.service_level_pct", null},
		{"by_operator.Carla.asa_seconds", null},
		{"by_operator.Carla.answer_p50_seconds", null},
		{"by_operator.Carla.answer_p90_seconds", null},
		{"by_operator.Carla.rings.5+", 0.0},
		{"by_operator.Dora.offered", 1.0},
		{"by_operator.Dora.service_level_pct", 100.0},
		{"by_operator.Dora.asa_seconds", 13.0},

		{"by_day.2026-03-01.offered", 1.0},
		{"by_day.2026-03-01.within_limit", 0.0},
		{"by_day.2026-03-02.offered", 4.0},
		{"by_day.2026-03-02.within_limit", 3.0},
		{"by_day.2026-03-03.offered", 4.0},
		{"by_day.2026-03-03.answered", 1.0},
		{"by_day.2026-03-03.abandoned", 3.0},
		{"by_day.2026-03-04.offered", 4.0},
		{"by_day.2026-03-04.answered", 0.0},
		{"by_day.2026-03-05.offered", 2.0},
		{"by_day.2026-03-06.offered", 2.0},
		{"by_day.2026-03-06.within_limit", 1.0},
		{"by_day.2026-03-07.offered", 2.0},
		{"by_day.2026-03-20.offered", 0.0},
		{"by_day.2026-03-31.offered", 2.0},
		{"by_day.2026-03-31.answered", 1.0},
		{"by_day.2026-03-31.abandoned", 1.0},
		{"by_hour.00.offered", 1.0},
		{"by_hour.08.offered", 4.0},
		{"by_hour.09.offered", 3.0},
		{"by_hour.09.within_limit", 3.0},
		{"by_hour.10.offered", 3.0},
		{"by_hour.10.answered", 2.0},
		{"by_hour.10.within_limit", 1.0},
		{"by_hour.11.offered", 4.0},
		{"by_hour.11.abandoned", 3.0},
		{"by_hour.12.offered", 1.0},
		{"by_hour.14.offered", 1.0},
		{"by_hour.15.offered", 1.0},
		{"by_hour.20.offered", 1.0},
		{"by_hour.23.offered", 2.0},
		{"by_hour.23.abandoned", 1.0},
		{"by_hour.05.offered", 0.0},
	}
	for _, w := range want {
		t.Run(w.path, func(t *testing.T) {
			got, ok := figPath(m, w.path)
			if !ok {
				t.Fatalf("%s missing", w.path)
			}
			if got != w.want {
				t.Errorf("%s = %v, want %v", w.path, got, w.want)
			}
		})
	}
	for _, k := range []string{"by_day", "by_hour"} {
		n := map[string]int{"by_day": 31, "by_hour": 24}[k]
		if got := len(m[k].(map[string]any)); got != n {
			t.Errorf("%s has %d keys, want %d", k, got, n)
		}
	}
	if got := len(m["by_operator"].(map[string]any)); got != 4 {
		t.Errorf("by_operator has %d keys, want Ana, Beto, Carla, Dora", got)
	}
}

// TestFiguresInvariants checks the sums every block must satisfy, so a
// call can neither vanish nor count twice.
func TestFiguresInvariants(t *testing.T) {
	loc, calls := figMonth(t)
	f, err := Figures(context.Background(), &figCalls{calls: calls}, "2026-03", figOpts(loc))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]*Inbound{"inbound": &f.Inbound}
	for k, b := range f.ByOperator {
		blocks[k] = b
	}
	sum := Inbound{}
	for name, b := range blocks {
		t.Run(name, func(t *testing.T) {
			if got := b.Answered + b.Abandoned + b.Busy + b.Rejected + b.Failed + b.Unknown + b.Transferred.Redirect; got != b.Offered {
				t.Errorf("outcomes sum to %d, offered %d", got, b.Offered)
			}
			if b.WithinLimit+b.Late != b.Answered {
				t.Errorf("within %d + late %d != answered %d", b.WithinLimit, b.Late, b.Answered)
			}
			r := b.Rings
			if r.R1+r.R2+r.R3+r.R4+r.R5Up != b.Answered {
				t.Errorf("rings sum to %d, answered %d", r.R1+r.R2+r.R3+r.R4+r.R5Up, b.Answered)
			}
			if b.ShortAbandoned > b.Abandoned || b.Recorded > b.Answered {
				t.Errorf("short %d > abandoned %d or recorded %d > answered %d", b.ShortAbandoned, b.Abandoned, b.Recorded, b.Answered)
			}
		})
		if name != "inbound" {
			sum.Offered += b.Offered
			sum.Answered += b.Answered
		}
	}
	if sum.Offered != f.Inbound.Offered || sum.Answered != f.Inbound.Answered {
		t.Errorf("operators sum to %d offered %d answered, month %d %d", sum.Offered, sum.Answered, f.Inbound.Offered, f.Inbound.Answered)
	}
	for name, slots := range map[string]map[string]*Slot{"by_day": f.ByDay, "by_hour": f.ByHour} {
		var s Slot
		for _, v := range slots {
			s.Offered += v.Offered
			s.Answered += v.Answered
			s.WithinLimit += v.WithinLimit
			s.Abandoned += v.Abandoned
		}
		want := Slot{Offered: f.Inbound.Offered, Answered: f.Inbound.Answered, WithinLimit: f.Inbound.WithinLimit, Abandoned: f.Inbound.Abandoned}
		if s != want {
			t.Errorf("%s sums to %+v, want %+v", name, s, want)
		}
	}
}

// TestFiguresGolden compares the whole JSON with the reviewed golden file,
// so a key renamed or a figure changed shows in review.
func TestFiguresGolden(t *testing.T) {
	got, _ := figJSON(t)
	path := filepath.Join("testdata", "figures_2026-03.golden.json")
	if *updateFigures {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-figures)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("figures differ from %s (run with -update-figures and review):\n%s", path, got)
	}
}

// TestFiguresEmptyMonth: no calls gives zeros, nulls and every key.
func TestFiguresEmptyMonth(t *testing.T) {
	f, err := Figures(context.Background(), &figCalls{}, "2026-02", FiguresOptions{Receptionists: []string{"Ana"}, Now: func() time.Time { return figNow }})
	if err != nil {
		t.Fatal(err)
	}
	if f.TimeZone != DefaultTimeZone {
		t.Errorf("time_zone %q, want the default %q", f.TimeZone, DefaultTimeZone)
	}
	if len(f.ByDay) != 28 || len(f.ByHour) != 24 || f.ByOperator["Ana"] == nil {
		t.Errorf("by_day %d, by_hour %d, Ana %v", len(f.ByDay), len(f.ByHour), f.ByOperator["Ana"])
	}
	for name, b := range map[string]*Inbound{"inbound": &f.Inbound, "Ana": f.ByOperator["Ana"]} {
		if b.ServiceLevelPct != nil || b.ASASeconds != nil || b.AnswerP50Seconds != nil || b.AnswerP90Seconds != nil {
			t.Errorf("%s: averages of nothing are not null: %+v", name, b)
		}
	}
}

// TestFiguresShortAbandonOption: report.short_abandon moves the boundary.
func TestFiguresShortAbandonOption(t *testing.T) {
	loc, calls := figMonth(t)
	tests := []struct {
		limit time.Duration
		short int
		sl    float64
	}{
		{limit: 0, short: 2, sl: 52.63},                // default 5 s: a6, a7
		{limit: 2 * time.Second, short: 0, sl: 47.62},  // 10 / 21
		{limit: 20 * time.Second, short: 4, sl: 58.82}, // a6 a7 a8 b6: 10 / 17
	}
	for _, tt := range tests {
		t.Run(tt.limit.String(), func(t *testing.T) {
			o := figOpts(loc)
			o.ShortAbandon = tt.limit
			f, err := Figures(context.Background(), &figCalls{calls: calls}, "2026-03", o)
			if err != nil {
				t.Fatal(err)
			}
			if f.Inbound.ShortAbandoned != tt.short || *f.Inbound.ServiceLevelPct != tt.sl {
				t.Errorf("short %d sl %v, want %d %v", f.Inbound.ShortAbandoned, *f.Inbound.ServiceLevelPct, tt.short, tt.sl)
			}
		})
	}
}

// TestFiguresErrors: a bad month and a failing store are errors that
// errors.Is matches; the walk reads the month plus the look-behind.
func TestFiguresErrors(t *testing.T) {
	errStore := errors.New("store down")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	loc, calls := figMonth(t)
	tests := []struct {
		name  string
		ctx   context.Context
		calls *figCalls
		month string
		want  error
	}{
		{"bad month", context.Background(), &figCalls{}, "2026-13", ErrBadMonth},
		{"not a month", context.Background(), &figCalls{}, "2026-3", ErrBadMonth},
		{"store", context.Background(), &figCalls{err: errStore}, "2026-03", errStore},
		{"cancelled", ctx, &figCalls{calls: calls}, "2026-03", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Figures(tt.ctx, tt.calls, tt.month, figOpts(loc))
			if !errors.Is(err, tt.want) {
				t.Errorf("err %v, want %v", err, tt.want)
			}
		})
	}
	s := &figCalls{}
	if _, err := Figures(context.Background(), s, "2026-03", figOpts(loc)); err != nil {
		t.Fatal(err)
	}
	from, to, _ := MonthRange("2026-03", loc)
	if len(s.asked) != 1 || !s.asked[0][0].Equal(from.Add(-lookBehind)) || !s.asked[0][1].Equal(to.Add(lookAhead)) {
		t.Errorf("asked %v, want [%v, %v)", s.asked, from.Add(-lookBehind), to.Add(lookAhead))
	}
}

func TestMonthRange(t *testing.T) {
	sv, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		month    string
		loc      *time.Location
		from, to string
		err      error
	}{
		{"2026-03", sv, "2026-03-01T06:00:00Z", "2026-04-01T06:00:00Z", nil},
		{"2026-12", sv, "2026-12-01T06:00:00Z", "2027-01-01T06:00:00Z", nil},
		{"2024-02", time.UTC, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", nil},
		{"2026-00", sv, "", "", ErrBadMonth},
		{"26-03", sv, "", "", ErrBadMonth},
		{"2026-03-01", sv, "", "", ErrBadMonth},
		{"", sv, "", "", ErrBadMonth},
		{"2026-03", nil, "", "", ErrNoLocation},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.month, tt.loc), func(t *testing.T) {
			from, to, err := MonthRange(tt.month, tt.loc)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				return
			}
			if got := from.UTC().Format(time.RFC3339); got != tt.from {
				t.Errorf("from %s, want %s", got, tt.from)
			}
			if got := to.UTC().Format(time.RFC3339); got != tt.to {
				t.Errorf("to %s, want %s", got, tt.to)
			}
		})
	}
}

func TestNearestRank(t *testing.T) {
	tests := []struct {
		xs   []float64
		p    int
		want float64
	}{
		{[]float64{5}, 50, 5},
		{[]float64{5}, 90, 5},
		{[]float64{1, 2}, 50, 1},
		{[]float64{1, 2}, 90, 2},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 90, 10},
		{[]float64{15, 20, 35, 40, 50}, 50, 35}, // Wikipedia's example
		{[]float64{15, 20, 35, 40, 50}, 30, 20},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.xs, tt.p), func(t *testing.T) {
			if got := nearestRank(tt.xs, tt.p); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkFigures computes a month of 10,000 records.
func BenchmarkFigures(b *testing.B) {
	loc, base := figMonth(b)
	calls := make([]sip.Call, 0, 10000)
	for i := 0; len(calls) < 10000; i++ {
		c := base[i%len(base)]
		c.CallID = fmt.Sprintf("%s-%d", c.CallID, i)
		c.InviteAt = time.Date(2026, 3, 1+i%31, 6+i%18, i%60, 0, 0, loc).UTC()
		c.Transfer, c.TransferredFrom, c.ReplacesCallID = nil, "", ""
		calls = append(calls, c)
	}
	s := &figCalls{calls: calls}
	opts := figOpts(loc)
	b.ReportAllocs()
	for b.Loop() {
		s.asked = s.asked[:0]
		if _, err := Figures(context.Background(), s, "2026-03", opts); err != nil {
			b.Fatal(err)
		}
	}
}
