package report

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// figCalls is a store of records for the tests: it hands out the legs
// with invite_at in [from, to), as the badger and PostgreSQL stores do.
type figCalls struct {
	calls []sip.Call
	err   error
	// asked records the ranges asked for.
	asked [][2]time.Time
}

func (s *figCalls) Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error {
	s.asked = append(s.asked, [2]time.Time{from, to})
	if s.err != nil {
		return s.err
	}
	for _, c := range s.calls {
		if c.InviteAt.Before(from) || !c.InviteAt.Before(to) {
			continue
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// figLeg describes one record of the synthetic month.
type figSpec struct {
	id, op   string
	dir      sip.Direction
	at       time.Time
	ring     float64 // seconds from invite (= ringing) to answer or end
	answered bool
	talk     float64 // seconds from answer to end
	reason   sip.EndReason
	open     bool // no ended_at
	rec      *sip.Recording
	xfer     *sip.Transfer
	from     string // transferred_from
	replaces string // replaces_call_id
}

var figSV, _ = sip.RingPreset("sv")

func (s figSpec) call() sip.Call {
	c := sip.Call{
		ID: "r-" + s.id, CallID: s.id, Direction: s.dir, Operator: s.op,
		InviteAt: s.at.UTC(), RingSource: "180",
		Transfer: s.xfer, Recording: s.rec,
		TransferredFrom: s.from, ReplacesCallID: s.replaces,
	}
	at := c.InviteAt
	c.RingingAt = &at
	d := time.Duration(s.ring * float64(time.Second))
	c.RingSeconds = d.Seconds()
	c.Rings = figSV.Rings(d)
	end := at.Add(d)
	if s.answered {
		ans := at.Add(d)
		c.AnsweredAt = &ans
		c.WithinLimit = figSV.WithinLimit(d)
		end = ans.Add(time.Duration(s.talk * float64(time.Second)))
		c.EndReason = sip.EndCompleted
	} else {
		c.EndReason = s.reason
	}
	if !s.open {
		c.EndedAt = &end
	} else {
		c.EndReason = sip.EndUnknown
	}
	return c
}

// figMonth is March 2026 in America/El_Salvador (UTC−6), every figure of
// which is worked out by hand in TestFiguresMonth. Receptionists Ana, Beto
// and Carla (no calls); Dora is an operator no longer configured.
func figMonth(t testing.TB) (*time.Location, []sip.Call) {
	t.Helper()
	loc, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		t.Fatal(err)
	}
	lt := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ut := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	rec := &sip.Recording{File: "2026/03/02/x.wav", DurationSeconds: 10}
	noRec := &sip.Recording{NotRecordable: "encrypted (SRTP)"}
	tp := func(t time.Time) *time.Time { return &t }
	in, out := sip.DirectionInbound, sip.DirectionOutbound
	specs := []figSpec{
		// Ana: answered in rings 1, 2, 4 and 5 (late).
		{id: "a1", op: "Ana", dir: in, at: lt("2026-03-02 09:00:00"), ring: 3, answered: true, talk: 60, rec: rec},
		{id: "a2", op: "Ana", dir: in, at: lt("2026-03-02 09:30:00"), ring: 7, answered: true, talk: 30, rec: rec},
		{id: "a3", op: "Ana", dir: in, at: lt("2026-03-02 10:00:00"), ring: 19, answered: true, talk: 45},
		{id: "a4", op: "Ana", dir: in, at: lt("2026-03-02 10:15:00"), ring: 25, answered: true, talk: 20, rec: rec},
		// Across midnight: belongs to the 3rd, hour 23; a recording that
		// could not be made is not "recorded".
		{id: "a5", op: "Ana", dir: in, at: lt("2026-03-03 23:59:50"), ring: 4, answered: true, talk: 120, rec: noRec},
		// Abandons: 3 s and exactly 5 s are short, 15 s is not.
		{id: "a6", op: "Ana", dir: in, at: lt("2026-03-03 11:00:00"), ring: 3, reason: sip.EndAbandoned},
		{id: "a7", op: "Ana", dir: in, at: lt("2026-03-03 11:05:00"), ring: 5, reason: sip.EndAbandoned},
		{id: "a8", op: "Ana", dir: in, at: lt("2026-03-03 11:10:00"), ring: 15, reason: sip.EndAbandoned},
		{id: "a9", op: "Ana", dir: in, at: lt("2026-03-04 08:00:00"), reason: sip.EndBusy},
		{id: "a10", op: "Ana", dir: in, at: lt("2026-03-04 08:05:00"), reason: sip.EndRejected},
		{id: "a11", op: "Ana", dir: in, at: lt("2026-03-04 08:10:00"), reason: sip.EndFailed},
		{id: "a12", op: "Ana", dir: in, at: lt("2026-03-04 08:15:00"), ring: 2, open: true},
		// Blind transfer, NOTIFY 200; the new leg is not a call.
		{id: "a13", op: "Ana", dir: in, at: lt("2026-03-05 14:00:00"), ring: 6, answered: true, talk: 15, rec: rec,
			xfer: &sip.Transfer{Kind: "blind", RequestedAt: lt("2026-03-05 14:00:16"), Target: "2003", Result: "200", TargetCallID: "a13-b"}},
		{id: "a13-b", dir: sip.DirectionUnknown, at: lt("2026-03-05 14:00:17"), ring: 2, answered: true, talk: 300, from: "a13"},

		// Beto: attended transfer with its consultation leg and the
		// INVITE with Replaces.
		{id: "b1", op: "Beto", dir: in, at: lt("2026-03-05 15:00:00"), ring: 2, answered: true, talk: 40, rec: rec,
			xfer: &sip.Transfer{Kind: "attended", RequestedAt: lt("2026-03-05 15:00:30"), Target: "2003", Result: "200",
				TargetCallID: "b1-d", ReplacesCallID: "b1-c", AcceptedAt: tp(lt("2026-03-05 15:00:31")), CompletedAt: tp(lt("2026-03-05 15:00:32"))}},
		{id: "b1-c", op: "Beto", dir: out, at: lt("2026-03-05 15:00:10"), ring: 3, answered: true, talk: 20},
		{id: "b1-d", dir: sip.DirectionUnknown, at: lt("2026-03-05 15:00:31"), answered: true, talk: 200, from: "b1", replaces: "b1-c"},
		// Redirect (302) to Ana: her leg is part of the redirect, and
		// its answer completes it.
		{id: "b2", op: "Beto", dir: in, at: lt("2026-03-06 10:00:00"), ring: 4, reason: sip.EndRedirected,
			xfer: &sip.Transfer{Kind: "redirect", RequestedAt: lt("2026-03-06 10:00:04"), Target: "2001", Result: "302", TargetCallID: "b2-r"}},
		{id: "b2-r", op: "Ana", dir: in, at: lt("2026-03-06 10:00:04"), ring: 3, answered: true, talk: 90, rec: rec, from: "b2"},
		// Blind transfer refused by the target (NOTIFY 486): failed.
		{id: "b3", op: "Beto", dir: in, at: lt("2026-03-06 11:00:00"), ring: 10, answered: true, talk: 25,
			xfer: &sip.Transfer{Kind: "blind", RequestedAt: lt("2026-03-06 11:00:20"), Target: "2004", Result: "486"}},
		// Blind transfer with no final NOTIFY seen: its answered new leg
		// completes it.
		{id: "b4", op: "Beto", dir: in, at: lt("2026-03-07 09:00:00"), ring: 8, answered: true, talk: 35,
			xfer: &sip.Transfer{Kind: "blind", RequestedAt: lt("2026-03-07 09:00:40"), Target: "2004", TargetCallID: "b4-t"}},
		{id: "b4-t", dir: sip.DirectionUnknown, at: lt("2026-03-07 09:00:41"), ring: 5, answered: true, talk: 60, from: "b4"},
		// Month boundary in local time (UTC−6).
		{id: "b5", op: "Beto", dir: in, at: lt("2026-02-28 23:59:58"), ring: 2, answered: true, talk: 10},
		{id: "b6", op: "Beto", dir: in, at: lt("2026-03-31 23:59:59"), ring: 20, reason: sip.EndAbandoned},
		{id: "b7", op: "Beto", dir: in, at: lt("2026-04-01 00:00:00"), ring: 2, answered: true, talk: 10},
		{id: "b8", op: "Beto", dir: in, at: lt("2026-03-01 00:00:00"), ring: 30, answered: true, talk: 10},
		{id: "b9", op: "Beto", dir: in, at: ut("2026-03-01T03:00:00Z"), ring: 2, answered: true, talk: 10},
		{id: "b10", op: "Beto", dir: in, at: ut("2026-04-01T02:00:00Z"), ring: 1, answered: true, talk: 5},
		// An attended transfer on a February call whose consultation leg
		// starts in March: still part of the transfer.
		{id: "b11", op: "Beto", dir: in, at: lt("2026-02-28 23:50:00"), ring: 2, answered: true, talk: 900,
			xfer: &sip.Transfer{Kind: "attended", RequestedAt: lt("2026-03-01 00:06:00"), Result: "200", ReplacesCallID: "b11-c"}},
		{id: "b11-c", op: "Beto", dir: out, at: lt("2026-03-01 00:05:00"), ring: 3, answered: true, talk: 60},

		// Dora is not configured any more but had a call.
		{id: "d1", op: "Dora", dir: in, at: lt("2026-03-07 12:00:00"), ring: 13, answered: true, talk: 50, rec: rec},

		// Outbound.
		{id: "o1", op: "Ana", dir: out, at: lt("2026-03-10 09:00:00"), ring: 4, answered: true, talk: 30},
		{id: "o2", op: "Ana", dir: out, at: lt("2026-03-10 09:10:00"), reason: sip.EndBusy},
		{id: "o3", op: "Ana", dir: out, at: lt("2026-03-10 09:20:00"), reason: sip.EndRejected},
		{id: "o4", op: "Ana", dir: out, at: lt("2026-03-10 09:30:00"), reason: sip.EndFailed},
		{id: "o5", op: "Ana", dir: out, at: lt("2026-03-10 09:40:00"), ring: 12, reason: sip.EndAbandoned},
		{id: "o6", op: "Ana", dir: out, at: lt("2026-03-10 09:50:00"), open: true},
		{id: "o7", op: "Beto", dir: out, at: lt("2026-03-11 09:00:00"), ring: 6, answered: true, talk: 10},
		// Between receptionists: only in calls_total.
		{id: "i1", op: "Beto", dir: sip.DirectionInternal, at: lt("2026-03-12 09:00:00"), ring: 2, answered: true, talk: 10},
	}
	calls := make([]sip.Call, 0, len(specs))
	for _, s := range specs {
		calls = append(calls, s.call())
	}
	// The store's order is not the figures' concern.
	slices.Reverse(calls)
	return loc, calls
}
