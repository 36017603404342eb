package lab_test

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

// edgeLine is a `msg="alarm edge"` log line: at is the threshold on the
// capture clock.
type edgeLine struct {
	at     time.Time
	callID string
	state  string
}

// panelLine is a `msg=panel` log line: when the lamps were set.
type panelLine struct {
	at                 time.Time
	amber, red, buzzer bool
}

// parseAlarmLog reads the daemon's log for alarm edges and panel changes.
func parseAlarmLog(t *testing.T, log string) ([]edgeLine, []panelLine) {
	t.Helper()

	var edges []edgeLine
	var panels []panelLine
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		kv := logFields(sc.Text())
		switch kv["msg"] {
		case "alarm edge":
			at, err := time.Parse(time.RFC3339Nano, kv["at"])
			if err != nil {
				t.Fatalf("edge time %q: %v", kv["at"], err)
			}
			edges = append(edges, edgeLine{at: at, callID: kv["call_id"], state: kv["state"]})
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

// wantEdges computes, from the capture, the alarm edges of one inbound leg
// under the lab's policy: warning when the last allowed ring starts
// ((max_rings−1) × cycle after the 180), alarm when the limit passes
// (max_rings × cycle), clear when ringing stops (answer or end).
func wantEdges(l *legTruth) []edgeLine {
	if l.ringing.IsZero() {
		return nil
	}
	stop := l.answered
	if stop.IsZero() {
		stop = l.ended
	}
	warnAt := l.ringing.Add(time.Duration(labMaxRings-1) * labCycle)
	alarmAt := l.ringing.Add(time.Duration(labMaxRings) * labCycle)
	var out []edgeLine
	if stop.After(warnAt) {
		out = append(out, edgeLine{at: warnAt, callID: l.callID, state: "warning"})
	}
	if stop.After(alarmAt) {
		out = append(out, edgeLine{at: alarmAt, callID: l.callID, state: "alarm"})
	}
	if len(out) > 0 {
		out = append(out, edgeLine{at: stop, callID: l.callID, state: "clear"})
	}

	return out
}
