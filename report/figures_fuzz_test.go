package report

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// FuzzMonthRange: any string is a month or ErrBadMonth, never a panic; a
// month spans from local midnight of its 1st to the next month's, and
// names itself back.
func FuzzMonthRange(f *testing.F) {
	for _, s := range []string{"2026-03", "2026-12", "0000-01", "9999-12", "2026-13", "2026-3", "", "2026-03\x00", "२०२६-०३"} {
		f.Add(s)
	}
	loc, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := MonthRange(s, loc)
		if err != nil {
			return
		}
		if !from.Before(to) || from.Day() != 1 || from.Hour() != 0 || to.Day() != 1 || to.Sub(from) < 28*24*time.Hour {
			t.Fatalf("%q: [%v, %v)", s, from, to)
		}
		if got := from.Format("2006-01"); got != s {
			t.Fatalf("%q names itself %q", s, got)
		}
	})
}

// FuzzFigures feeds records built from random bytes, as a corrupt or
// hostile store could hand out: Figures never panics and every block's
// sums hold.
func FuzzFigures(f *testing.F) {
	f.Add(uint64(1), uint16(50))
	f.Add(uint64(42), uint16(500))
	loc, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, seed uint64, n uint16) {
		calls := randomCalls(rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), int(n%2000), loc)
		fig, err := Figures(context.Background(), &figCalls{calls: calls}, "2026-03", figOpts(loc))
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range fig.ByOperator {
			checkSums(t, name, b)
		}
		checkSums(t, "inbound", &fig.Inbound)
		var day Slot
		for _, d := range fig.ByDay {
			day.Offered += d.Offered
			day.Answered += d.Answered
			day.WithinLimit += d.WithinLimit
			day.Abandoned += d.Abandoned
		}
		in := fig.Inbound
		if (day != Slot{Offered: in.Offered, Answered: in.Answered, WithinLimit: in.WithinLimit, Abandoned: in.Abandoned}) {
			t.Fatalf("days sum to %+v, inbound %+v", day, in)
		}
		if fig.Inbound.Offered+fig.Outbound.Made > fig.CallsTotal {
			t.Fatalf("inbound %d + outbound %d > calls_total %d", fig.Inbound.Offered, fig.Outbound.Made, fig.CallsTotal)
		}
	})
}

func checkSums(t *testing.T, name string, b *Inbound) {
	t.Helper()
	if b.Answered+b.Abandoned+b.Busy+b.Rejected+b.Failed+b.Unknown+b.Transferred.Redirect != b.Offered ||
		b.WithinLimit+b.Late != b.Answered || b.ShortAbandoned > b.Abandoned ||
		b.Rings.R1+b.Rings.R2+b.Rings.R3+b.Rings.R4+b.Rings.R5Up != b.Answered ||
		b.Transferred.Completed+b.Transferred.Failed > b.Transferred.Blind+b.Transferred.Attended+b.Transferred.Redirect {
		t.Fatalf("%s: sums do not hold: %+v", name, b)
	}
	if (b.ServiceLevelPct == nil) != (b.Offered-b.ShortAbandoned == 0) || (b.ASASeconds == nil) != (b.Answered == 0) {
		t.Fatalf("%s: nulls wrong: %+v", name, b)
	}
}

// randomCalls returns n records around March 2026 with every field drawn
// at random, transfer links included (to each other's Call-IDs).
func randomCalls(r *rand.Rand, n int, loc *time.Location) []sip.Call {
	dirs := []sip.Direction{sip.DirectionInbound, sip.DirectionOutbound, sip.DirectionInternal, sip.DirectionUnknown, "junk"}
	reasons := []sip.EndReason{sip.EndCompleted, sip.EndAbandoned, sip.EndBusy, sip.EndRejected, sip.EndRedirected, sip.EndFailed, sip.EndUnknown, ""}
	kinds := []string{"blind", "attended", "redirect", "", "other"}
	ops := []string{"Ana", "Beto", "", "Zed"}
	start := time.Date(2026, 2, 27, 0, 0, 0, 0, loc)
	id := func() string { return "c" + string(rune('a'+r.IntN(26))) + string(rune('a'+r.IntN(26))) }
	pt := func(t time.Time) *time.Time { return &t }
	calls := make([]sip.Call, 0, n)
	for range n {
		at := start.Add(time.Duration(r.Int64N(int64(36 * 24 * time.Hour))))
		c := sip.Call{CallID: id(), Direction: dirs[r.IntN(len(dirs))], Operator: ops[r.IntN(len(ops))], InviteAt: at,
			EndReason: reasons[r.IntN(len(reasons))], RingSeconds: r.Float64()*60 - 5, Rings: r.IntN(12) - 1, WithinLimit: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			c.AnsweredAt = pt(at.Add(time.Duration(r.Int64N(int64(time.Minute)))))
		}
		if r.IntN(4) > 0 {
			c.EndedAt = pt(at.Add(time.Duration(r.Int64N(int64(time.Hour))) - 10*time.Minute))
		}
		if r.IntN(3) == 0 {
			c.Transfer = &sip.Transfer{Kind: kinds[r.IntN(len(kinds))], Result: []string{"", "100", "200", "302", "486", "x"}[r.IntN(6)],
				TargetCallID: id(), ReplacesCallID: id()}
		}
		if r.IntN(5) == 0 {
			c.TransferredFrom = id()
		}
		if r.IntN(7) == 0 {
			c.ReplacesCallID = id()
		}
		if r.IntN(2) == 0 {
			c.Recording = &sip.Recording{File: []string{"", "x.wav"}[r.IntN(2)]}
		}
		calls = append(calls, c)
	}
	return calls
}
