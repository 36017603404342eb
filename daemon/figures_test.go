package daemon_test

import (
	"context"
	"testing"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
)

// TestRunFigures: the daemon serves the month's figures over the store
// (web.Config.Figures wired), for the synthetic generator's calls to
// receptionist 1001: every figure below follows from the scenarios'
// descriptions (internal/pcapgen/scenarios.go), and the consultation leg
// and the legs a transfer created are not calls of their own.
func TestRunFigures(t *testing.T) {
	dir := t.TempDir()
	pcaps := writeCaptures(t, dir, "answered", "abandoned", "busy", "rejected", "redirect", "blind-transfer", "attended-transfer")
	cfg := testConfig(t)
	cfg.Receptionists = []config.Receptionist{
		{Name: "Recepción 1", Extensions: []string{"1001"}},
		{Name: "Sin llamadas", Extensions: []string{"1999"}},
	}
	want := replayRecords(t, cfg, pcaps)
	r := start(t, cfg, pcaps)
	waitFor(t, "the capture to be stored", func() bool { return r.d.InputStored() && r.d.Stored() >= uint64(len(want)) })
	cl, ok := daemon.Dial(cfg.SocketPath())
	if !ok {
		t.Fatal("socket does not answer")
	}
	// Stored() also counts provisional records of legs still open (issue
	// 9 §4): wait until the store holds every leg as replay closed it.
	waitFor(t, "the final records", func() bool {
		var got []sip.Call
		if err := cl.Do(context.Background(), "GET", "/api/v1/calls?from=2026-03-01&to=2026-03-03", nil, &got); err != nil {
			return false
		}
		final := 0
		for _, g := range got {
			if w, ok := want[g.ID]; ok && g.EndReason == w.EndReason && (g.EndedAt != nil) == (w.EndedAt != nil) &&
				(g.Transfer == nil) == (w.Transfer == nil) && g.TransferredFrom == w.TransferredFrom {
				final++
			}
		}
		return final == len(want)
	})
	var f report.MonthFigures
	if err := cl.Do(context.Background(), "GET", "/api/v1/months/2026-03/figures", nil, &f); err != nil {
		t.Fatal(err)
	}
	in := f.Inbound
	got := map[string]int{
		"offered": in.Offered, "answered": in.Answered, "abandoned": in.Abandoned, "busy": in.Busy, "rejected": in.Rejected,
		"blind": in.Transferred.Blind, "attended": in.Transferred.Attended, "redirect": in.Transferred.Redirect,
		"outbound": f.Outbound.Made, "operator": f.ByOperator["Recepción 1"].Offered,
	}
	exp := map[string]int{
		// answered, abandoned, busy, rejected, redirect, blind, attended.
		"offered": 7, "answered": 3, "abandoned": 1, "busy": 1, "rejected": 1,
		"blind": 1, "attended": 1, "redirect": 1,
		// The attended transfer's consultation call is part of it.
		"outbound": 0, "operator": 7,
	}
	for k, v := range exp {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	if e := f.ByOperator["Sin llamadas"]; e == nil || e.Offered != 0 || e.ServiceLevelPct != nil {
		t.Errorf("receptionist with no calls: %+v", e)
	}
	if f.TimeZone != "America/El_Salvador" || f.CallsTotal != 7 {
		t.Errorf("time_zone %q calls_total %d, want America/El_Salvador 7", f.TimeZone, f.CallsTotal)
	}
}
