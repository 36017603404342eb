package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

// figuresStore writes a store and a configuration with receptionists Ana
// and Beto: Ana has an answered call on 1 March 00:30 local (06:30 UTC), a
// short abandon, and a call of 28 February 23:00 local (1 March 05:00 UTC,
// February's); Beto has none.
func figuresStore(t *testing.T) (dir, cfgPath string) {
	t.Helper()
	dir = t.TempDir()
	st, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(id, at string, answered bool) sip.Call {
		inv, _ := time.Parse(time.RFC3339, at)
		ring := inv
		end := inv.Add(3 * time.Second)
		c := sip.Call{ID: sip.RecordID(id, inv), CallID: id, Direction: sip.DirectionInbound, Operator: "Ana",
			InviteAt: inv, RingingAt: &ring, EndedAt: &end, EndReason: sip.EndAbandoned, RingSeconds: 3, Rings: 1}
		if answered {
			ans := inv.Add(4 * time.Second)
			end = ans.Add(time.Minute)
			c.AnsweredAt, c.EndedAt, c.EndReason, c.RingSeconds, c.WithinLimit = &ans, &end, sip.EndCompleted, 4, true
		}
		return c
	}
	for _, c := range []sip.Call{
		mk("m1", "2026-03-01T06:30:00Z", true),
		mk("m2", "2026-03-02T15:00:00Z", false),
		mk("f1", "2026-03-01T05:00:00Z", true),
	} {
		if err := st.PutCall(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfgPath = filepath.Join(t.TempDir(), "switchtap.yaml")
	yaml := "time_zone: America/El_Salvador\nreceptionists:\n  - name: Ana\n    extensions: ['201']\n  - name: Beto\n    extensions: ['202']\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, cfgPath
}

// TestReportFiguresJSON: over the store, March in El Salvador's time has
// the two March calls, Beto with zeros and nulls.
func TestReportFiguresJSON(t *testing.T) {
	dir, cfg := figuresStore(t)
	out, _, err := runCmd(t, "report", "figures", "--config", cfg, "--data-dir", dir, "--month", "2026-03", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var f report.MonthFigures
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	in := f.Inbound
	if f.Month != "2026-03" || f.TimeZone != "America/El_Salvador" || in.Offered != 2 || in.Answered != 1 || in.ShortAbandoned != 1 {
		t.Errorf("figures: %s", out)
	}
	if in.ServiceLevelPct == nil || *in.ServiceLevelPct != 100 {
		t.Errorf("service level %v, want 1 ÷ (2 − 1) = 100", in.ServiceLevelPct)
	}
	if b := f.ByOperator["Beto"]; b == nil || b.Offered != 0 || b.ASASeconds != nil {
		t.Errorf("Beto %+v, want zeros and nulls", b)
	}
	if d := f.ByDay["2026-03-01"]; d == nil || d.Offered != 1 {
		t.Errorf("1 March %+v, want the 00:30 call only", d)
	}
}

// TestReportFiguresTable: the Spanish table names the figures and every
// receptionist.
func TestReportFiguresTable(t *testing.T) {
	dir, cfg := figuresStore(t)
	out, _, err := runCmd(t, "report", "figures", "--config", cfg, "--data-dir", dir, "--month", "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Cifras del mes 2026-03", "Nivel de servicio", "100 %", "Por recepcionista", "Ana", "Beto", "2026-03-31"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestReportUsage: a missing subcommand or a bad month is a usage mistake.
func TestReportUsage(t *testing.T) {
	dir, cfg := figuresStore(t)
	tests := [][]string{
		{"report"},
		{"report", "sums"},
		{"report", "figures", "--config", cfg, "--data-dir", dir, "--month", "2026-13"},
		{"report", "figures", "--config", cfg, "--data-dir", dir, "extra"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if _, _, err := runCmd(t, args...); !errors.Is(err, errUsage) {
				t.Errorf("err %v, want a usage error", err)
			}
		})
	}
}

// TestReportShowAndExport: over the store, the month's report shows its
// state and tabulation, and each export is written, readable as its
// format, and in the audit log before it.
func TestReportShowAndExport(t *testing.T) {
	dir, cfg := figuresStore(t)
	out, _, err := runCmd(t, "report", "show", "--config", cfg, "--data-dir", dir, "--month", "2026-03", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var d report.Document
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if d.Month != "2026-03" || d.Figures == nil || d.Figures.Inbound.Offered != 2 || d.Review.State != report.ReviewDraft || d.Tabulation == nil {
		t.Fatalf("document: %s", out)
	}
	if got := d.Tabulation.InmediatezAll; got.Cumple != 1 {
		t.Errorf("inmediatez over every call %+v, want Ana's answered call within the limit", got)
	}
	// 3 April 2026 local has passed: March's report is overdue.
	if !d.Due.Overdue || d.Due.DueAt.Format(time.RFC3339) != "2026-04-04T06:00:00Z" {
		t.Errorf("due %+v, want overdue, due before 4 April 00:00 local", d.Due)
	}
	text, _, err := runCmd(t, "report", "show", "--config", cfg, "--data-dir", dir, "--month", "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Informe del mes 2026-03", "Borrador", "VENCIDO", "Sin muestra", "Inmediatez (todas las llamadas)"} {
		if !strings.Contains(text, want) {
			t.Errorf("show lacks %q:\n%s", want, text)
		}
	}
	outDir := t.TempDir()
	for _, tc := range []struct {
		args  []string
		magic string
	}{
		{[]string{"--format", "xlsx"}, "PK\x03\x04"},
		{[]string{"--format", "pdf"}, "%PDF-"},
		{[]string{"--format", "csv", "--table", "tabulacion"}, "\ufeff"},
	} {
		file := filepath.Join(outDir, strings.Join(tc.args, "_"))
		args := append([]string{"report", "export", "--config", cfg, "--data-dir", dir, "--month", "2026-03", "-o", file}, tc.args...)
		if _, errOut, err := runCmd(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
		}
		b, err := os.ReadFile(file)
		if err != nil || !strings.HasPrefix(string(b), tc.magic) {
			t.Errorf("%v: %d bytes starting %q, %v", tc.args, len(b), b[:min(len(b), 8)], err)
		}
	}
	audit, _, err := runCmd(t, "audit", "list", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(audit, `"export_report"`); n != 3 {
		t.Errorf("%d export_report entries in the audit log, want 3:\n%s", n, audit)
	}
	for _, bad := range [][]string{
		{"report", "export", "--config", cfg, "--data-dir", dir, "--month", "2026-03"},
		{"report", "export", "--config", cfg, "--data-dir", dir, "--month", "2026-03", "--format", "doc"},
		{"report", "export", "--config", cfg, "--data-dir", dir, "--month", "2026-03", "--format", "csv", "--table", "nada"},
		{"report", "export", "--config", cfg, "--data-dir", dir, "--month", "2026-03", "--format", "pdf", "--table", "resumen"},
	} {
		if _, _, err := runCmd(t, bad...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", bad[2:], err)
		}
	}
}
