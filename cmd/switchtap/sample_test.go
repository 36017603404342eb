package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

// sampleStoreDir writes a store with 15 answered, recorded March calls
// (10 to Ana, 5 to Beto) and a configuration in El Salvador's time.
func sampleStoreDir(t *testing.T) (dir, cfgPath string) {
	t.Helper()
	dir = t.TempDir()
	st, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 15 {
		if err := st.PutCall(context.Background(), sampleCall(i, map[bool]string{true: "Ana", false: "Beto"}[i < 10])); err != nil {
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

func sampleCall(i int, op string) sip.Call {
	inv := time.Date(2026, 3, 2+i, 15, 0, 0, 0, time.UTC)
	ans := inv.Add(5 * time.Second)
	return sip.Call{ID: fmt.Sprintf("s-%03d", i), CallID: fmt.Sprintf("s%d", i), Direction: sip.DirectionInbound, Operator: op,
		InviteAt: inv, AnsweredAt: &ans, EndReason: sip.EndCompleted, Recording: &sip.Recording{File: fmt.Sprintf("s-%03d.wav", i)}}
}

// TestSampleCommands: on the store (no daemon), draw with a seed, refuse a
// second draw, show, verify, replace, and verify failing (exit 1) once a
// record is added to the month; every change audited.
func TestSampleCommands(t *testing.T) {
	dir, cfg := sampleStoreDir(t)
	common := []string{"--config", cfg, "--data-dir", dir, "--month", "2026-03"}
	run := func(args ...string) (string, error) {
		out, _, err := runCmd(t, append(args, common...)...)
		return out, err
	}
	out, err := run("sample", "draw", "--seed", "99")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "frame 15 calls") || !strings.Contains(out, "seed 99 generator pcg-v1") {
		t.Errorf("draw output:\n%s", out)
	}
	if _, err := run("sample", "draw"); err == nil || !strings.Contains(err.Error(), "already has a sample") {
		t.Fatalf("second draw: %v", err)
	}
	if _, err := run("sample", "draw", "--redraw"); exitStatus(err) != exitUsage {
		t.Fatalf("redraw without reason: %v", err)
	}
	out, err = run("sample", "show", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var smp report.Sample
	if err := json.Unmarshal([]byte(out), &smp); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	// The same seed and frame give the same sample as the package itself.
	frame := make([]report.FrameEntry, 15)
	for i := range frame {
		frame[i] = report.FrameEntry{ID: fmt.Sprintf("s-%03d", i), Operator: map[bool]string{true: "Ana", false: "Beto"}[i < 10]}
	}
	want, err := report.DrawFrame(frame, smp.Design, report.GeneratorPCGv1, 99)
	if err != nil {
		t.Fatal(err)
	}
	if smp.Seed != 99 || smp.FrameHash != report.FrameHash(frame) || fmt.Sprint(smp.Items) != fmt.Sprint(want.Items) {
		t.Fatalf("sample %+v, want items %v", smp, want.Items)
	}
	if out, err = run("sample", "verify"); err != nil || !strings.Contains(out, "verifies") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if out, err = run("sample", "replace", "--id", smp.Items[0].ID, "--reason", "inaudible"); err != nil || !strings.Contains(out, "replaced "+smp.Items[0].ID) {
		t.Fatalf("replace: %v\n%s", err, out)
	}
	if _, err := run("sample", "replace", "--id", smp.Items[0].ID); exitStatus(err) != exitUsage {
		t.Fatalf("replace without reason: %v", err)
	}
	st, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutCall(context.Background(), sampleCall(20, "Ana")); err != nil {
		t.Fatal(err)
	}
	acc, err := access.New(st.KV("access"), access.Config{}, newLogger(&strings.Builder{}, "error"))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	err = acc.AuditRange(context.Background(), time.Unix(0, 0), time.Now().Add(time.Hour), func(e access.Entry) error {
		if e.Target == "muestra 2026-03" {
			actions = append(actions, e.Action)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(actions) != "[sample_draw sample_replace]" {
		t.Errorf("audit: %v", actions)
	}
	if why, _ := st.Kept(context.Background(), smp.Items[1].ID); why != "muestra 2026-03" {
		t.Errorf("sampled recording kept %q", why)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out, err = run("sample", "verify")
	if !errors.Is(err, errSampleMismatch) || exitStatus(err) != exitError || !strings.Contains(out, "added to the frame: s-020") {
		t.Fatalf("verify after change: %v\n%s", err, out)
	}
	if _, err := run("sample", "fly"); exitStatus(err) != exitUsage {
		t.Fatalf("unknown subcommand: %v", err)
	}
}
