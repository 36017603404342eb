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
