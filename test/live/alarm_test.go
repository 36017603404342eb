package live_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// alarmCycle is the cadence the alarm test configures (1 s on, 1 s
	// off, 2 rings), so that the call passes the limit in seconds.
	alarmCycle = 2 * time.Second
	alarmRings = 2
	// alarmLatency is how late the panel may change after a threshold.
	alarmLatency = 50 * time.Millisecond
)

const alarmConfig = `
ring:
  max_rings: 2
  ring_on: 1s
  ring_off: 1s
device:
  panel: log
metrics:
  listen: ""
`

// TestLiveAlarm: a SIPp call rings past the limit (5 s against a 4 s
// limit) on the mirror port; the daemon's log panel must switch amber on
// at ringing+2 s, red and the buzzer on at ringing+4 s, and everything off
// at the answer, each within 50 ms of the threshold computed from the 180's
// capture time in tcpdump's file.
func TestLiveAlarm(t *testing.T) {
	requireLive(t)
	root := moduleRoot(t)
	bin := buildSwitchtap(t, root)
	ctx, cancel := context.WithTimeout(t.Context(), liveBudget)
	defer cancel()

	topo := mirrorTopology(ctx, t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "switchtap.yaml")
	if err := os.WriteFile(cfgPath, []byte(alarmConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	pcapPath := filepath.Join(dir, "cap.pcap")
	tcpdump := startIn(ctx, t, topo.tapNS, dir, "tcpdump",
		"tcpdump", "-n", "-i", topo.tapIface, "-w", pcapPath, "-U", "--time-stamp-precision=nano", "-Z", "root")
	daemon := startIn(ctx, t, topo.tapNS, dir, "switchtap run",
		bin, "run", "-i", topo.tapIface, "--data-dir", filepath.Join(dir, "data"), "--config", cfgPath)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("switchtap run output:\n%s", daemon.Tail(16000))
		}
	})
	if err := tcpdump.WaitFor("listening on", 10*time.Second); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	if err := daemon.WaitFor(`msg="capture started"`, 10*time.Second); err != nil {
		t.Fatalf("switchtap run: %v", err)
	}

	placeCall(ctx, t, root, dir, topo, "uas-long.xml")
	time.Sleep(500 * time.Millisecond)
	if err := daemon.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("stop switchtap run: %v", err)
	}
	if err := tcpdump.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatalf("stop tcpdump: %v", err)
	}
	want, err := readSIPTimes(pcapPath)
	if err != nil || want.ringing.IsZero() || want.answered.IsZero() {
		t.Fatalf("tcpdump's capture: %+v %v", want, err)
	}

	// Thresholds from the 180's capture time (DESIGN.md, issue 4).
	warnAt := want.ringing.Add(time.Duration(alarmRings-1) * alarmCycle)
	alarmAt := want.ringing.Add(time.Duration(alarmRings) * alarmCycle)
	clearAt := want.answered

	edges, panels := parseAlarmLog(t, daemon.Tail(1<<20))
	wantEdges := []struct {
		state string
		at    time.Time
	}{{"warning", warnAt}, {"alarm", alarmAt}, {"clear", clearAt}}
	if len(edges) != len(wantEdges) {
		t.Fatalf("alarm edges %+v, want warning, alarm, clear", edges)
	}
	for i, w := range wantEdges {
		if edges[i].state != w.state || !edges[i].at.Equal(w.at) {
			t.Errorf("edge %d = %s at %s, want %s at %s (from the capture)", i, edges[i].state,
				edges[i].at.Format(time.RFC3339Nano), w.state, w.at.Format(time.RFC3339Nano))
		}
	}

	// The panel's changes, as logged when the lamps were set.
	checks := []struct {
		what      string
		threshold time.Time
		match     func(p panelLine) bool
	}{
		{"amber on", warnAt, func(p panelLine) bool { return p.amber && !p.red }},
		{"red + buzzer on", alarmAt, func(p panelLine) bool { return p.red && p.buzzer }},
		{"lamps off", clearAt, func(p panelLine) bool { return !p.amber && !p.red && !p.buzzer }},
	}
	start := 0
	for _, c := range checks {
		found := false
		for i := start; i < len(panels); i++ {
			if panels[i].at.Before(c.threshold.Add(-time.Second)) || !c.match(panels[i]) {
				continue
			}
			lat := panels[i].at.Sub(c.threshold)
			t.Logf("%s: %v after the threshold", c.what, lat)
			if lat < 0 || lat > alarmLatency {
				t.Errorf("%s at %s, threshold %s: latency %v, want 0…%v", c.what,
					panels[i].at.Format(time.RFC3339Nano), c.threshold.Format(time.RFC3339Nano), lat, alarmLatency)
			}
			start, found = i+1, true
			break
		}
		if !found {
			t.Errorf("panel never showed %s (panel log %+v)", c.what, panels)
		}
	}
}

type edgeLine struct {
	at    time.Time
	state string
}

type panelLine struct {
	at                 time.Time
	amber, red, buzzer bool
}

// parseAlarmLog reads the daemon's log: `msg="alarm edge"` lines (at = the
// threshold on the capture clock) and `msg=panel` lines (time = when the
// lamps were set, on the wall clock, logged to the ns).
func parseAlarmLog(t *testing.T, log string) ([]edgeLine, []panelLine) {
	t.Helper()
	var edges []edgeLine
	var panels []panelLine
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		kv := logFields(sc.Text())
		switch kv["msg"] {
		case "alarm edge":
			at, err := time.Parse(time.RFC3339Nano, kv["at"])
			if err != nil {
				t.Fatalf("edge time %q: %v", kv["at"], err)
			}
			edges = append(edges, edgeLine{at: at, state: kv["state"]})
		case "panel":
			at, err := time.Parse(time.RFC3339Nano, kv["time"])
			if err != nil {
				t.Fatalf("log time %q: %v", kv["time"], err)
			}
			panels = append(panels, panelLine{at: at, amber: kv["amber"] == "true", red: kv["red"] == "true", buzzer: kv["buzzer"] == "true"})
		}
	}
	return edges, panels
}
