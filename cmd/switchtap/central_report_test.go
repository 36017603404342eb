package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/central"
	"github.com/switchtap/switchtap/internal/pgtest"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

// centralLegs are n legs of a box in November 2026 (El Salvador): answered
// within the limit, late, abandoned short and long, busy, outbound.
func centralLegs(n int, ops ...string) []sip.Call {
	loc, _ := time.LoadLocation("America/El_Salvador")
	start := time.Date(2026, 11, 1, 8, 0, 0, 0, loc)
	var out []sip.Call
	for i := 0; i < n; i++ {
		inv := start.Add(time.Duration(i) * 13 * time.Hour)
		at := func(d time.Duration) *time.Time { t := inv.Add(d); return &t }
		c := sip.Call{ID: fmt.Sprintf("leg-%03d", i), CallID: fmt.Sprintf("c%d@pbx", i), From: "5551000", To: "200",
			Direction: sip.DirectionInbound, Operator: ops[i%len(ops)], InviteAt: inv, RingingAt: at(0), RingSource: "180"}
		switch i % 6 {
		case 0, 1:
			c.RingSeconds, c.Rings, c.WithinLimit = 4+float64(i%2)*22, 1+4*(i%2), i%2 == 0
			c.AnsweredAt, c.EndedAt, c.EndReason = at(time.Duration(c.RingSeconds)*time.Second), at(time.Minute), sip.EndCompleted
		case 2, 3:
			c.RingSeconds, c.Rings = 2+float64(i%2)*15, 1+3*(i%2)
			c.EndedAt, c.EndReason = at(time.Duration(c.RingSeconds)*time.Second), sip.EndAbandoned
		case 4:
			c.RingingAt, c.EndedAt, c.EndReason, c.EndDetail = nil, at(time.Second), sip.EndBusy, "486"
		case 5:
			c.Direction, c.From, c.To = sip.DirectionOutbound, "200", "22220000"
			c.RingSeconds, c.Rings = 6, 2
			c.AnsweredAt, c.EndedAt, c.EndReason = at(6*time.Second), at(time.Minute), sip.EndCompleted
		}
		out = append(out, c)
	}
	return out
}

// postLegs sends legs as box tok's batch 1..n through the receiver.
func postLegs(t *testing.T, url, tok string, legs []sip.Call) {
	t.Helper()
	b := central.Batch{FirstSeq: 1, LastSeq: uint64(len(legs))}
	for i, c := range legs {
		raw, _ := json.Marshal(c)
		b.Entries = append(b.Entries, central.Entry{Seq: uint64(i + 1), RecordID: c.ID, Revision: 1, Record: raw})
	}
	raw, _ := json.Marshal(b)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	req, _ := http.NewRequest("POST", url+central.PathBatches, &gz)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("batch: %d %s", resp.StatusCode, body)
	}
}

// TestCentralReportCLI: `central report figures` over the database equals
// report.Figures over the same records in a board's store; show and
// export run over it too, and an unknown office is a usage error.
func TestCentralReportCLI(t *testing.T) {
	c := pgtest.New(t)
	db := c.DB(t)
	ctx := context.Background()
	srv, err := central.New(ctx, central.Config{Database: db}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	norte, sur := centralLegs(18, "Ana", "Beto"), centralLegs(12, "Carla")
	for _, bx := range []struct {
		id, office string
		legs       []sip.Call
	}{{"box-a", "Oficina Norte", norte}, {"box-b", "Oficina Sur", sur}} {
		tok, err := srv.AddBox(ctx, bx.id, bx.office)
		if err != nil {
			t.Fatal(err)
		}
		postLegs(t, hs.URL, tok, bx.legs)
	}
	hs.Close()
	srv.Close()

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "central.yaml")
	cfgText := fmt.Sprintf("central:\n  database: %q\nreport:\n  short_abandon: 3s\ntime_zone: America/El_Salvador\n", db)
	if err := os.WriteFile(cfgFile, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runCmd(t, "central", "report", "figures", "--month", "2026-11", "--office", "Oficina Norte", "--json", "--config", cfgFile)
	if err != nil {
		t.Fatalf("figures: %v\n%s", err, stderr)
	}
	st, err := storage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var board []sip.Call
	for _, c := range norte {
		c.ID = central.GlobalID("box-a", c.ID)
		board = append(board, c)
	}
	if err := st.PutCalls(ctx, board); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("America/El_Salvador")
	want, err := report.Figures(ctx, st, "2026-11", report.FiguresOptions{Location: loc, Receptionists: []string{"Ana", "Beto"}, ShortAbandon: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var got, exp map[string]any
	wj, _ := json.Marshal(want)
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("figures JSON: %v\n%s", err, out)
	}
	_ = json.Unmarshal(wj, &exp)
	delete(got, "generated_at")
	delete(exp, "generated_at")
	gj, _ := json.Marshal(got)
	ej, _ := json.Marshal(exp)
	if !bytes.Equal(gj, ej) {
		t.Errorf("central report figures:\n%s\nwant\n%s", gj, ej)
	}
	if want.Inbound.ShortAbandoned == 0 || want.Inbound.Offered == 0 {
		t.Errorf("fixture: %s", wj)
	}

	// The text table, every office: Carla is there.
	out, _, err = runCmd(t, "central", "report", "figures", "--month", "2026-11", "--config", cfgFile)
	if err != nil || !strings.Contains(out, "Carla") || !strings.Contains(out, "Ana") {
		t.Errorf("figures of all offices: %v\n%s", err, out)
	}
	out, _, err = runCmd(t, "central", "report", "show", "--month", "2026-11", "--office", "Oficina Sur", "--json", "--config", cfgFile)
	var doc report.Document
	if err != nil || json.Unmarshal([]byte(out), &doc) != nil || doc.Office != "Oficina Sur" || doc.Figures == nil ||
		doc.Figures.CallsTotal != len(sur) {
		t.Errorf("show: %v office %q", err, doc.Office)
	}
	out, _, err = runCmd(t, "central", "report", "export", "--month", "2026-11", "--format", "csv", "--table", "resumen", "-o", "-", "--config", cfgFile)
	if err != nil || !strings.Contains(out, "\n") {
		t.Errorf("export csv: %v\n%s", err, out)
	}
	if _, _, err := runCmd(t, "central", "report", "figures", "--office", "Atlántida", "--config", cfgFile); !errors.Is(err, errUsage) {
		t.Errorf("unknown office: %v", err)
	}
	if _, _, err := runCmd(t, "central", "report", "tabulate", "--config", cfgFile); !errors.Is(err, errUsage) {
		t.Errorf("unknown subcommand: %v", err)
	}
}

// TestCentralBoxTokenRevoke: `central box token` gives a box a new
// credential and `central box revoke` refuses it; the box list says so.
func TestCentralBoxTokenRevoke(t *testing.T) {
	c := pgtest.New(t)
	db := c.DB(t)
	cfgFile := filepath.Join(t.TempDir(), "central.yaml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf("central:\n  database: %q\n", db)), 0o600); err != nil {
		t.Fatal(err)
	}
	first, _, err := runCmd(t, "central", "box", "add", "caja-1", "--office", "Oficina Norte", "--config", cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := runCmd(t, "central", "box", "token", "caja-1", "--config", cfgFile)
	if err != nil || strings.TrimSpace(second) == "" || second == first {
		t.Fatalf("box token: %q, %v", second, err)
	}
	if _, stderr, err := runCmd(t, "central", "box", "revoke", "caja-1", "--config", cfgFile); err != nil || !strings.Contains(stderr, "revoked") {
		t.Fatalf("box revoke: %v\n%s", err, stderr)
	}
	out, _, err := runCmd(t, "central", "box", "list", "--config", cfgFile)
	if err != nil || !strings.Contains(out, "CREDENTIAL") || !strings.Contains(out, "revoked 20") {
		t.Fatalf("box list after revoke: %v\n%s", err, out)
	}
	if _, _, err := runCmd(t, "central", "box", "revoke", "nadie", "--config", cfgFile); !errors.Is(err, central.ErrNotFound) {
		t.Errorf("revoke an unknown box: %v", err)
	}
	if _, _, err := runCmd(t, "central", "box", "token", "--config", cfgFile); !errors.Is(err, errUsage) {
		t.Errorf("box token without a box: %v", err)
	}
}
