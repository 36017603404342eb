package lab_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/testenv"
)

// figuresConfig is the daemon's configuration for TestLabFigures, written
// as JSON (which is YAML) so that scripts/figures.py reads the very file
// the daemon runs with. Besides the lab's ring policy it names a second
// receptionist who takes no call (her block must be zeros and nulls) and a
// short-abandon threshold of 2 s, not the default 5 s, so that the 1.5 s
// abandon is short and the 3 s one is not.
const figuresConfig = `{
  "time_zone": "America/El_Salvador",
  "ring": {"max_rings": 2, "ring_on": "1s", "ring_off": "1s"},
  "receptionists": [
    {"name": "Reception", "extensions": ["2001"], "ips": ["192.0.2.31", "192.0.2.32"]},
    {"name": "Noche", "extensions": ["2999"]}
  ],
  "calls": {"linger": "1s"},
  "metrics": {"listen": "127.0.0.1:7060"},
  "device": {"panel": "log"},
  "report": {"short_abandon": "2s"}
}
`

// figuresZone is figuresConfig's time_zone, for choosing the months asked.
const figuresZone = "America/El_Salvador"

// figuresFloatTolerance: figures are rounded to 0.01 or 0.001 by their
// definition; both sides round, so they agree far closer than that.
const figuresFloatTolerance = 1e-6

// figuresScenarios are the lab's calls placed, one after the other, into
// one daemon run: every outcome the figures count (answered within and
// past the limit and at ring 2, short and long abandons, busy, rejected,
// a redirect, a blind and an attended transfer) and two calls the
// receptionist makes.
func figuresScenarios(t *testing.T) []scenario {
	t.Helper()
	byName := map[string]scenario{}
	for _, sc := range scenarios() {
		byName[sc.name] = sc
	}
	var out []scenario
	for _, name := range []string{"answered", "answered_late", "abandoned", "busy", "rejected",
		"deflected_302", "transfer_blind", "transfer_attended"} {
		sc, ok := byName[name]
		if !ok {
			// A scenario renamed in scenarios_test.go: the proof would
			// silently lose a case.
			t.Fatalf("scenarios() has no %q", name)
		}
		out = append(out, sc)
	}
	// Both transfers name their new leg xfer-1@lab (-cid_str); in one run
	// the second would meet the first's tombstone (sip.tombstoneTTL), so
	// the blind one's gets its own Call-ID.
	for i := range out {
		if out[i].name != "transfer_blind" {
			continue
		}
		phones := slices.Clone(out[i].phones)
		for j := range phones {
			args := slices.Clone(phones[j].args)
			for k := range args {
				if args[k] == "xfer-%u@lab" {
					args[k] = "xfer-blind-%u@lab"
				}
			}
			phones[j].args = args
		}
		out[i].phones = phones
	}
	recCalls := func(xml string, args ...string) phone {
		return phone{name: "receptionist (calling)", host: func(l *lab) host { return l.rec }, ip: recIP, port: "5060", xml: xml,
			args:   append(args, "-s", targetExt, "-key", "caller", recExt, "-key", "ftag", "recOut", "-key", "pad", "-"),
			remote: targetIP + ":5060"}
	}
	return append(out,
		scenario{name: "answered_ring2", phones: []phone{recPhone("uas.xml", "-d", "2500"), callerPhone("uac.xml", "-d", "1000")}},
		scenario{name: "abandoned_long", phones: []phone{recPhone("uas-cancel.xml"), callerPhone("uac-cancel.xml", "-d", "3000")}},
		scenario{name: "outbound_answered", phones: []phone{targetPhone("5060", "uas.xml", "-d", "500"), recCalls("uac.xml", "-d", "1000")}},
		scenario{name: "outbound_busy", phones: []phone{
			targetPhone("5060", "uas-busy.xml", "-d", "300", "-key", "contact", targetExt+"@"+targetIP), recCalls("uac-fail.xml")}},
	)
}

// TestLabFigures is issue 10's proof "report figures for the lab's SIPp
// calls equal the figures computed from the stored records by an
// independent script": the lab's calls go through the mirror port into
// one daemon run; `switchtap report figures --json` is asked while the
// daemon runs (its API, GET /api/v1/months/{m}/figures) and again over the
// stopped store (package report in the command), and scripts/figures.py
// computes the same month from `switchtap calls --json` and the daemon's
// configuration file. Every key must agree, floats to 1e-6.
func TestLabFigures(t *testing.T) {
	requireLab(t)
	python := requirePython(t)
	root := moduleRoot(t)
	bin := buildSwitchtap(t, root)
	start := time.Now()
	l := newLab(t.Context(), t)
	audio := t.TempDir()
	makeAudio(t.Context(), t, audio, 30*time.Second)
	loc, err := time.LoadLocation(figuresZone)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "switchtap.yaml")
	if err := os.WriteFile(cfgPath, []byte(figuresConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	daemon := startIn(ctx, t, l.tapNS, dir, "switchtap run", bin, "run", "-i", l.tapIface, "--config", cfgPath, "--data-dir", dataDir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("switchtap run output:\n%s", daemon.Tail(8000))
		}
	})
	if err := daemon.WaitFor(`msg="capture started"`, 10*time.Second); err != nil {
		t.Fatalf("switchtap run: %v", err)
	}

	months := []string{prevMonth(time.Now().In(loc)), time.Now().In(loc).Format("2006-01")}
	callsStart := time.Now()
	scs := figuresScenarios(t)
	for _, sc := range scs {
		t.Run(sc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, scenarioBudget)
			defer cancel()
			placeCalls(ctx, t, root, audio, l, sc)
		})
	}
	// The last leg's linger (1 s) passes: every record is stored.
	time.Sleep(1500 * time.Millisecond)
	callsTook := time.Since(callsStart)
	if m := time.Now().In(loc).Format("2006-01"); !slices.Contains(months, m) {
		months = append(months, m) // the calls crossed midnight of the 1st
	}

	viaAPI := map[string]map[string]any{}
	for _, m := range months {
		viaAPI[m] = reportFigures(ctx, t, bin, cfgPath, dataDir, m)
	}
	if err := daemon.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("stop switchtap run (want exit 0 on SIGTERM): %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "switchtap.sock")); err == nil {
		t.Fatalf("the daemon's socket is still there after it stopped: the offline figures would ask it")
	}

	records := runOut(ctx, t, 20*time.Second, bin, "calls", "--config", cfgPath, "--data-dir", dataDir, "--json")
	recPath := filepath.Join(dir, "calls.jsonl")
	if err := os.WriteFile(recPath, records, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d records stored by %d scenarios", strings.Count(string(records), "\n"), len(scs))
	for _, m := range months {
		script := scriptFigures(ctx, t, python, root, cfgPath, recPath, m)
		offline := reportFigures(ctx, t, bin, cfgPath, dataDir, m)
		compareFigures(t, m, map[string]map[string]any{"api": viaAPI[m], "offline": offline}, script)
		if m == months[len(months)-1] {
			checkFiguresCoverage(t, script)
		}
	}
	t.Logf("lab figures: calls %v, whole test %v", callsTook.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// requirePython returns python3 when it can run scripts/figures.py
// (3.9 or later, for zoneinfo), else skips or fails (CI).
func requirePython(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("python3")
	if err != nil {
		testenv.SkipOrFail(t, "python3 is not installed (scripts/figures.py)")
	}
	out, err := exec.Command(path, "-c", "import sys, zoneinfo; print(sys.version.split()[0])").CombinedOutput()
	if err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("python3 lacks zoneinfo (3.9 or later needed): %v: %s", err, out))
	}
	t.Logf("python3 %s", strings.TrimSpace(string(out)))
	return path
}

// reportFigures runs `switchtap report figures --json` for month: through
// the daemon's API while one runs on dataDir's socket, else over the store.
func reportFigures(ctx context.Context, t *testing.T, bin, cfgPath, dataDir, month string) map[string]any {
	t.Helper()
	out := runOut(ctx, t, 20*time.Second, bin, "report", "figures", "--config", cfgPath, "--data-dir", dataDir, "--month", month, "--json")
	var f map[string]any
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("report figures --month %s --json: %v\n%s", month, err, out)
	}
	g, _ := f["generated_at"].(string)
	if _, err := time.Parse(time.RFC3339Nano, g); err != nil {
		t.Errorf("report figures %s: generated_at %q: %v", month, g, err)
	}
	// generated_at is when, not what: the script has none to compare.
	delete(f, "generated_at")
	return f
}

// scriptFigures runs scripts/figures.py over the stored records.
func scriptFigures(ctx context.Context, t *testing.T, python, root, cfgPath, recPath, month string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join(root, "test", "lab", "scripts", "figures.py"),
		"--config", cfgPath, "--records", recPath, "--month", month)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		testenv.SkipOrFail(t, "figures.py cannot run here: "+stderr.String())
	}
	if err != nil {
		t.Fatalf("figures.py --month %s: %v\n%s", month, err, stderr.String())
	}
	var f map[string]any
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("figures.py --month %s: %v\n%s", month, err, out)
	}
	return f
}

// compareFigures requires every source's figures to have exactly the
// script's keys and values, and logs them side by side (rows that are
// zero or null everywhere are counted, not printed).
func compareFigures(t *testing.T, month string, sources map[string]map[string]any, script map[string]any) {
	t.Helper()
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	slices.Sort(names)
	want := flattenFigures("", script, map[string]any{})
	flat := map[string]map[string]any{}
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for _, n := range names {
		flat[n] = flattenFigures("", sources[n], map[string]any{})
		for k := range flat[n] {
			keys[k] = true
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)

	var b strings.Builder
	fmt.Fprintf(&b, "figures of %s (%d keys): %-44s", month, len(sorted), "key")
	for _, n := range names {
		fmt.Fprintf(&b, " %10s", n)
	}
	fmt.Fprintf(&b, " %10s\n", "script")
	quiet, bad := 0, 0
	for _, k := range sorted {
		w, inScript := want[k]
		row := fmt.Sprintf("  %-44s", k)
		differ, loud := false, !zeroish(w)
		for _, n := range names {
			g, ok := flat[n][k]
			row += fmt.Sprintf(" %10s", cell(g, ok))
			if !ok || !inScript || !sameFigure(g, w) {
				differ = true
			}
			loud = loud || !zeroish(g)
		}
		row += fmt.Sprintf(" %10s", cell(w, inScript))
		if differ {
			bad++
			t.Errorf("%s: %s differs: %s", month, k, strings.TrimSpace(row))
			row += "   ≠"
		}
		if !loud && !differ {
			quiet++
			continue
		}
		b.WriteString(row + "\n")
	}
	fmt.Fprintf(&b, "  (%d more keys are 0 or null in every column; %d keys differ)", quiet, bad)
	t.Log(b.String())
}

// flattenFigures turns nested objects into dotted keys
// ("by_operator.Reception.rings.5+").
func flattenFigures(prefix string, v any, out map[string]any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = v
		return out
	}
	if len(m) == 0 && prefix != "" {
		out[prefix] = m
	}
	for k, sub := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		flattenFigures(key, sub, out)
	}
	return out
}

// sameFigure compares two JSON values: numbers to figuresFloatTolerance,
// everything else exactly (null only equals null).
func sameFigure(a, b any) bool {
	fa, aNum := a.(float64)
	fb, bNum := b.(float64)
	if aNum || bNum {
		return aNum && bNum && math.Abs(fa-fb) <= figuresFloatTolerance
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func zeroish(v any) bool { return v == nil || v == 0.0 }

func cell(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	if v == nil {
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// checkFiguresCoverage requires the script's figures of the calls' month
// to hold every outcome figuresScenarios places, so that the comparison
// cannot pass on a month the calls never reached: a leg of each kind and
// both receptionists' blocks.
func checkFiguresCoverage(t *testing.T, script map[string]any) {
	t.Helper()
	f := flattenFigures("", script, map[string]any{})
	for _, k := range []string{"inbound.within_limit", "inbound.late", "inbound.abandoned", "inbound.busy", "inbound.rejected",
		"inbound.rings.1", "inbound.rings.2", "inbound.transferred.blind", "inbound.transferred.attended",
		"inbound.transferred.redirect", "inbound.transferred.completed", "inbound.recorded",
		"outbound.made", "outbound.answered", "outbound.busy", "by_operator.Reception.offered"} {
		if v, _ := f[k].(float64); v < 1 {
			t.Errorf("the lab's calls left %s = %v: the comparison does not cover it", k, f[k])
		}
	}
	short, _ := f["inbound.short_abandoned"].(float64)
	abandoned, _ := f["inbound.abandoned"].(float64)
	if short < 1 || abandoned-short < 1 {
		t.Errorf("want a short abandon and a long one (report.short_abandon 2 s): abandoned %v, short %v", abandoned, short)
	}
	if v, ok := f["by_operator.Noche.offered"]; !ok || v != 0.0 || f["by_operator.Noche.asa_seconds"] != nil {
		t.Errorf("the receptionist with no calls: offered %v, asa %v; want 0 and null", v, f["by_operator.Noche.asa_seconds"])
	}
}

// prevMonth returns the month before t's, "YYYY-MM".
func prevMonth(t time.Time) string {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location()).AddDate(0, -1, 0).Format("2006-01")
}
