package lab_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
)

// synthCalls is an in-memory store for report.Figures: the legs with
// invite_at in [from, to), in invite_at order, as the stores give them.
type synthCalls []sip.Call

func (s synthCalls) Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error {
	for _, c := range s {
		if c.InviteAt.Before(from) || !c.InviteAt.Before(to) {
			continue
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// TestFiguresScriptSynthetic runs scripts/figures.py against package
// report over months of random records: the same independent script
// TestLabFigures trusts, checked where no root and no SIPp are needed,
// over far more cases than the lab places (transfers of every kind and
// outcome, consultation legs, open legs, unexpected end reasons, calls at
// local midnight of the 1st, one nanosecond before it, and in zones with
// daylight saving time in the month). A disagreement is either side's
// error: both are written from issue 10 §1.
func TestFiguresScriptSynthetic(t *testing.T) {
	python := requirePython(t)
	root := moduleRoot(t)
	start := time.Now()
	cases := []struct {
		zone, month string
		seed        uint64
	}{
		{"America/El_Salvador", "2026-03", 1},
		{"America/El_Salvador", "2026-12", 2},
		{"America/New_York", "2026-03", 3}, // DST begins on the 8th
		{"Europe/Madrid", "2026-10", 4},    // DST ends on the 25th: a 25-hour day
		{"Asia/Kathmandu", "2026-02", 5},   // +05:45, a 28-day month
	}
	for _, c := range cases {
		t.Run(c.zone+"/"+c.month, func(t *testing.T) {
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			from, to, err := report.MonthRange(c.month, loc)
			if err != nil {
				t.Fatal(err)
			}
			names := []string{"Ana", "Beatriz", "Carlos"}
			calls := synthMonth(rand.New(rand.NewPCG(c.seed, 0)), from, to, 3000)
			dir := t.TempDir()
			cfg := map[string]any{"time_zone": c.zone, "report": map[string]any{"short_abandon": "4500ms"},
				"receptionists": []map[string]any{{"name": "Ana"}, {"name": "Beatriz"}, {"name": "Carlos"}}}
			cfgPath := filepath.Join(dir, "switchtap.yaml")
			writeJSON(t, cfgPath, cfg)
			recPath := filepath.Join(dir, "calls.jsonl")
			f, err := os.Create(recPath)
			if err != nil {
				t.Fatal(err)
			}
			enc := json.NewEncoder(f)
			for _, call := range calls {
				if err := enc.Encode(call); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			prev := from.AddDate(0, 0, -1).In(loc).Format("2006-01")
			next := to.In(loc).Format("2006-01")
			for _, m := range []string{prev, c.month, next} {
				got, err := report.Figures(t.Context(), synthCalls(calls), m, report.FiguresOptions{
					Location: loc, Receptionists: names, ShortAbandon: 4500 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				b, err := json.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				var fig map[string]any
				if err := json.Unmarshal(b, &fig); err != nil {
					t.Fatal(err)
				}
				delete(fig, "generated_at")
				script := scriptFigures(t.Context(), t, python, root, cfgPath, recPath, m)
				if m == c.month {
					if n, _ := script["calls_total"].(float64); n < 1000 {
						t.Fatalf("the synthetic month has %v calls: the generator missed it", n)
					}
				}
				compareFiguresQuiet(t, m, fig, script)
			}
		})
	}
	t.Logf("%d synthetic months compared (3 months each) in %v", len(cases), time.Since(start).Round(time.Millisecond))
}

// compareFiguresQuiet is compareFigures without the table: every key of
// one side must be the other's, to figuresFloatTolerance.
func compareFiguresQuiet(t *testing.T, month string, got, script map[string]any) {
	t.Helper()
	g := flattenFigures("", got, map[string]any{})
	w := flattenFigures("", script, map[string]any{})
	keys := map[string]bool{}
	for k := range g {
		keys[k] = true
	}
	for k := range w {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	bad := 0
	for _, k := range sorted {
		gv, gok := g[k]
		wv, wok := w[k]
		if gok && wok && sameFigure(gv, wv) {
			continue
		}
		if bad++; bad <= 40 {
			t.Errorf("%s: %s: report %s, script %s", month, k, cell(gv, gok), cell(wv, wok))
		}
	}
	if bad > 40 {
		t.Errorf("%s: %d keys differ in all", month, bad)
	}
	if bad == 0 {
		t.Logf("%s: %d keys agree", month, len(sorted))
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// synthMonth makes n legs around [from, to) — from three days before to
// three days after — with every shape a store can hold. The record fields
// are drawn independently of each other where the figures must not care
// (rings and within_limit are the tracker's facts, not recomputed).
func synthMonth(r *rand.Rand, from, to time.Time, n int) []sip.Call {
	span := to.Sub(from) + 6*24*time.Hour
	ops := []string{"Ana", "Beatriz", "Renamed", ""} // Carlos takes no call
	var calls []sip.Call
	seq := 0
	newID := func() (string, string) {
		seq++
		return fmt.Sprintf("r-%06d", seq), fmt.Sprintf("c-%06d@synth", seq)
	}
	ptr := func(t time.Time) *time.Time { return &t }
	edges := []time.Time{from, from.Add(-time.Nanosecond), to, to.Add(-time.Nanosecond), from.Add(time.Nanosecond)}
	for i := range n {
		id, callID := newID()
		at := from.Add(-3*24*time.Hour + time.Duration(r.Int64N(int64(span))))
		if i < 4*len(edges) {
			at = edges[i%len(edges)]
		}
		c := sip.Call{ID: id, CallID: callID, InviteAt: at.UTC(), RingSource: "180", Transport: "udp"}
		switch p := r.IntN(100); {
		case p < 70:
			c.Direction = sip.DirectionInbound
		case p < 88:
			c.Direction = sip.DirectionOutbound
		case p < 94:
			c.Direction = sip.DirectionInternal
		default:
			c.Direction = sip.DirectionUnknown
		}
		c.Operator = ops[r.IntN(len(ops))]
		// Ring times to the nanosecond; a few sit exactly on the
		// short-abandon threshold (4.5 s).
		ring := time.Duration(r.Int64N(int64(30 * time.Second)))
		if r.IntN(20) == 0 {
			ring = 4500 * time.Millisecond
		}
		c.RingingAt = ptr(c.InviteAt)
		c.RingSeconds = ring.Seconds()
		c.Rings = r.IntN(8)
		c.WithinLimit = r.IntN(3) > 0
		switch p := r.IntN(100); {
		case p < 60:
			c.AnsweredAt = ptr(c.InviteAt.Add(ring))
			c.EndReason = sip.EndCompleted
			if r.IntN(30) > 0 {
				c.EndedAt = ptr(c.AnsweredAt.Add(time.Duration(r.Int64N(int64(10 * time.Minute)))))
			} else {
				c.EndReason = sip.EndUnknown // still open
			}
			switch q := r.IntN(10); {
			case q < 7:
				c.Recording = &sip.Recording{File: "2026/03/01/" + id + ".wav"}
			case q < 8:
				c.Recording = &sip.Recording{NotRecordable: "codec G729"}
			}
		default:
			c.EndedAt = ptr(c.InviteAt.Add(ring))
			c.EndReason = []sip.EndReason{sip.EndAbandoned, sip.EndAbandoned, sip.EndBusy, sip.EndRejected,
				sip.EndFailed, sip.EndUnknown, "odd"}[r.IntN(7)]
			if r.IntN(25) == 0 {
				c.EndedAt = nil
				c.EndReason = sip.EndUnknown
			}
		}
		calls = append(calls, c)
		idx := len(calls) - 1
		if r.IntN(100) >= 18 {
			continue
		}
		// A transfer on this leg, and the legs it makes.
		calls = append(calls, synthTransfer(r, &calls[idx], newID, ptr)...)
	}
	// A blind transfer with no final NOTIFY seen, requested 2 s before
	// the month ends: the leg it created, answered, begins after midnight
	// of the 1st and still decides that the month's transfer completed.
	id, callID := newID()
	last := sip.Call{ID: id, CallID: callID, Direction: sip.DirectionInbound, Operator: "Ana",
		InviteAt: to.Add(-time.Minute).UTC(), RingSource: "180", Rings: 1, WithinLimit: true, RingSeconds: 3,
		EndReason: sip.EndCompleted}
	last.RingingAt = ptr(last.InviteAt)
	last.AnsweredAt = ptr(last.InviteAt.Add(3 * time.Second))
	last.EndedAt = ptr(to.Add(-time.Second).UTC())
	id, newCallID := newID()
	last.Transfer = &sip.Transfer{Kind: "blind", RequestedAt: to.Add(-2 * time.Second).UTC(), Target: "3001"}
	nl := sip.Call{ID: id, CallID: newCallID, Direction: sip.DirectionUnknown, InviteAt: to.Add(time.Second).UTC(),
		TransferredFrom: callID, EndReason: sip.EndCompleted}
	nl.AnsweredAt = ptr(nl.InviteAt.Add(2 * time.Second))
	nl.EndedAt = ptr(nl.AnsweredAt.Add(time.Minute))
	calls = append(calls, last, nl)

	slices.SortFunc(calls, func(a, b sip.Call) int {
		return cmp.Or(a.InviteAt.Compare(b.InviteAt), cmp.Compare(a.ID, b.ID))
	})
	return calls
}

// synthTransfer gives c a transfer (blind, attended or a redirect) with a
// random result and returns the legs it created: the new leg (answered,
// unanswered, open or none) and, for an attended one, the consultation.
func synthTransfer(r *rand.Rand, c *sip.Call, newID func() (string, string), ptr func(time.Time) *time.Time) []sip.Call {
	var out []sip.Call
	answered := c.AnsweredAt != nil
	kind := []string{"blind", "attended", "redirect"}[r.IntN(3)]
	if !answered && r.IntN(4) > 0 {
		kind = "redirect"
	}
	req := c.InviteAt.Add(time.Duration(r.Int64N(int64(20 * time.Second))))
	tr := &sip.Transfer{Kind: kind, RequestedAt: req, Target: "3001",
		Result: []string{"200", "202", "603", "486", "", "", "180", "xx"}[r.IntN(8)]}
	if kind == "redirect" && !answered {
		c.EndReason = sip.EndRedirected
		tr.Result = []string{"302", ""}[r.IntN(2)]
	}
	c.Transfer = tr
	if kind == "attended" {
		id, callID := newID()
		consult := sip.Call{ID: id, CallID: callID, Direction: sip.DirectionOutbound, Operator: c.Operator,
			InviteAt: req.Add(-2 * time.Second).UTC(), EndReason: sip.EndCompleted}
		consult.AnsweredAt = ptr(consult.InviteAt.Add(time.Second))
		consult.EndedAt = ptr(req)
		tr.ReplacesCallID = callID
		out = append(out, consult)
	}
	switch r.IntN(5) {
	case 0:
		return out // the new leg was never seen
	default:
		id, callID := newID()
		nl := sip.Call{ID: id, CallID: callID, Direction: sip.DirectionUnknown, InviteAt: req.Add(time.Second).UTC(),
			TransferredFrom: c.CallID}
		if r.IntN(4) == 0 {
			// Also named by the transfer, as the tracker links it.
			tr.TargetCallID = callID
		}
		if kind == "attended" && r.IntN(2) == 0 {
			nl.ReplacesCallID = tr.ReplacesCallID
		}
		switch r.IntN(3) {
		case 0:
			nl.AnsweredAt = ptr(nl.InviteAt.Add(3 * time.Second))
			nl.EndedAt = ptr(nl.AnsweredAt.Add(time.Minute))
			nl.EndReason = sip.EndCompleted
		case 1:
			nl.EndedAt = ptr(nl.InviteAt.Add(5 * time.Second))
			nl.EndReason = sip.EndBusy
		default:
			nl.EndReason = sip.EndUnknown // still open
		}
		out = append(out, nl)
	}
	// Sometimes the consultation leg is a leg no REFER's Replaces names
	// but a transfer's target does (the tracker linked it that way).
	if kind != "attended" && r.IntN(6) == 0 {
		id, callID := newID()
		out = append(out, sip.Call{ID: id, CallID: callID, Direction: sip.DirectionOutbound, Operator: c.Operator,
			InviteAt: req.Add(2 * time.Second).UTC(), EndReason: sip.EndBusy, EndedAt: ptr(req.Add(3 * time.Second))})
		tr.TargetCallID = callID
	}
	return out
}
