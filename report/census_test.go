package report

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// censusMonth is figMonth plus abandons after the limit, which figMonth
// lacks (its longest abandon, b6 at 20 s, is ring 4 of the sv cadence):
//
//	x1 Ana  abandoned after 24 s: ring 5 (24 / 5.8 s → 4 cycles + 1);
//	x2 Beto abandoned after 40 s: ring 7;
//	x3      a leg created by a transfer, abandoned after 30 s: not a call.
func censusMonth(t *testing.T) (*time.Location, []sip.Call) {
	t.Helper()
	loc, calls := figMonth(t)
	at := time.Date(2026, 3, 20, 10, 0, 0, 0, loc)
	for _, s := range []figSpec{
		{id: "x1", op: "Ana", dir: sip.DirectionInbound, at: at, ring: 24, reason: sip.EndAbandoned},
		{id: "x2", op: "Beto", dir: sip.DirectionInbound, at: at.Add(time.Hour), ring: 40, reason: sip.EndAbandoned},
		{id: "x3", op: "Beto", dir: sip.DirectionInbound, at: at.Add(2 * time.Hour), ring: 30, reason: sip.EndAbandoned, from: "x9"},
	} {
		calls = append(calls, s.call())
	}
	return loc, calls
}

// TestInmediatezCensus checks the census of the synthetic month against
// counts worked out by hand from figMonth's comments and censusMonth's:
//
//	Ana   answered a1 a2 a3 a5 a13 within, a4 late; abandoned a6 a7 a8
//	      within; busy, rejected, failed, open: 5 cumple, 2 no cumple
//	      (a4, x1), 7 no aplica;
//	Beto  answered b1 b3 b4 b10 within, b8 late; b6 abandoned within; b2
//	      redirected: 4 cumple, 2 no cumple (b8, x2), 2 no aplica;
//	Dora  d1 within: 1 cumple;
//	Carla nothing.
func TestInmediatezCensus(t *testing.T) {
	loc, calls := censusMonth(t)
	all, byOp, err := InmediatezCensus(context.Background(), &figCalls{calls: calls}, "2026-03", 4, figOpts(loc))
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ c, nc, na int }
	want := map[string]row{"": {10, 4, 9}, "Ana": {5, 2, 7}, "Beto": {4, 2, 2}, "Dora": {1, 0, 0}, "Carla": {0, 0, 0}}
	got := map[string]PointTally{"": all}
	for op, tl := range byOp {
		got[op] = tl
	}
	if len(got) != len(want) {
		t.Errorf("operators %v", byOp)
	}
	for op, w := range want {
		tl := got[op]
		if tl.Point != PointInmediatez || tl.Label != "Inmediatez: contestar antes del quinto timbre" ||
			tl.Cumple != w.c || tl.NoCumple != w.nc || tl.NoAplica != w.na || tl.Evaluated != w.c+w.nc {
			t.Errorf("%q: %+v, want %+v", op, tl, w)
		}
	}
	// 4 / 14 × 100; Wilson(4, 14) = 11.72–54.65 % (closed form, computed
	// apart).
	if all.NoCumplePct == nil || *all.NoCumplePct != 28.57 || all.Wilson95 == nil ||
		*all.Wilson95 != (Interval{Low: 11.72, High: 54.65}) {
		t.Errorf("overall %v %v", all.NoCumplePct, all.Wilson95)
	}
	if c := byOp["Carla"]; c.NoCumplePct != nil || c.Wilson95 != nil {
		t.Errorf("Carla %+v", c)
	}
}

// TestInmediatezCensusFigures checks the census against the month's
// figures, computed by Figures over the same calls: the same inbound calls
// (Evaluated + NoAplica = offered), Cumple = within_limit and NoCumple =
// late + the abandons after the limit, overall and per receptionist.
func TestInmediatezCensusFigures(t *testing.T) {
	loc, calls := censusMonth(t)
	src := &figCalls{calls: calls}
	opts := figOpts(loc)
	f, err := Figures(context.Background(), src, "2026-03", opts)
	if err != nil {
		t.Fatal(err)
	}
	all, byOp, err := InmediatezCensus(context.Background(), src, "2026-03", 4, opts)
	if err != nil {
		t.Fatal(err)
	}
	lateAbandons := map[string]int{"Ana": 1, "Beto": 1} // x1, x2
	cmp := func(name string, tl PointTally, b *Inbound, late int) {
		t.Helper()
		if tl.Evaluated+tl.NoAplica != b.Offered || tl.Cumple != b.WithinLimit || tl.NoCumple != b.Late+late ||
			tl.Evaluated != b.Answered+late {
			t.Errorf("%s: census %+v, figures offered %d answered %d within %d late %d", name, tl,
				b.Offered, b.Answered, b.WithinLimit, b.Late)
		}
	}
	cmp("inbound", all, &f.Inbound, 2)
	if len(byOp) != len(f.ByOperator) {
		t.Errorf("census has %d operators, figures %d", len(byOp), len(f.ByOperator))
	}
	for op, b := range f.ByOperator {
		cmp(op, byOp[op], b, lateAbandons[op])
	}
}

func TestInmediatezCensusOptions(t *testing.T) {
	loc, calls := censusMonth(t)
	src := &figCalls{calls: calls}
	ctx := context.Background()
	// A short abandon is never a failure, however long the short abandon
	// is configured: x1 (24 s) becomes one, x2 (40 s) does not.
	opts := figOpts(loc)
	opts.ShortAbandon = 30 * time.Second
	all, _, err := InmediatezCensus(ctx, src, "2026-03", 4, opts)
	if err != nil || all.NoCumple != 3 || all.NoAplica != 10 {
		t.Errorf("short abandon 30 s: %+v, %v", all, err)
	}
	// max_rings 6: x1 (ring 5) is within it, x2 (ring 7) is not. Answered
	// calls keep the tracker's within_limit.
	all, _, err = InmediatezCensus(ctx, src, "2026-03", 6, figOpts(loc))
	if err != nil || all.NoCumple != 3 || all.Cumple != 10 || all.NoAplica != 10 {
		t.Errorf("max_rings 6: %+v, %v", all, err)
	}
	// An empty month: every configured receptionist, zeros, nulls.
	all, byOp, err := InmediatezCensus(ctx, src, "2026-06", 4, figOpts(loc))
	if err != nil || all.Evaluated != 0 || all.NoAplica != 0 || all.NoCumplePct != nil || len(byOp) != 3 {
		t.Errorf("empty month: %+v %v, %v", all, byOp, err)
	}
	if !reflect.DeepEqual(byOp["Carla"], PointTally{Point: PointInmediatez, Label: all.Label}) {
		t.Errorf("Carla %+v", byOp["Carla"])
	}
	for _, tc := range []struct {
		name     string
		src      Calls
		month    string
		maxRings int
		want     error
	}{
		{"bad month", src, "2026-13", 4, ErrBadMonth},
		{"store fails", &figCalls{err: errEvNoCall}, "2026-03", 4, errEvNoCall},
	} {
		if _, _, err := InmediatezCensus(ctx, tc.src, tc.month, tc.maxRings, figOpts(loc)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, _, err := InmediatezCensus(ctx, src, "2026-03", 0, figOpts(loc)); err == nil {
		t.Error("max_rings 0 accepted")
	}
}
