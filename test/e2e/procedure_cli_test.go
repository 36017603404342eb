package e2e_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// procCLI runs the built switchtap against the test's data directory and
// configuration (over the running daemon's socket where it has one).
type procCLI struct {
	t                     *testing.T
	bin, dataDir, cfgPath string
}

// run runs `switchtap args… --data-dir … --config …` with stdin.
func (c procCLI) run(stdin string, args ...string) string {
	c.t.Helper()
	return runCLI(c.t, c.bin, stdin, append(args, "--data-dir", c.dataDir, "--config", c.cfgPath)...)
}

// procRecord is what the test reads of a stored call record.
type procRecord struct {
	ID          string  `json:"id"`
	CallID      string  `json:"call_id"`
	Direction   string  `json:"direction"`
	Operator    string  `json:"operator"`
	Rings       int     `json:"rings"`
	WithinLimit *bool   `json:"within_limit"`
	EndReason   string  `json:"end_reason"`
	AnsweredAt  *string `json:"answered_at"`
	Recording   *struct {
		File            string  `json:"file"`
		DurationSeconds float64 `json:"duration_seconds"`
	} `json:"recording"`
}

// storedBudgetProc bounds the wait for the whole capture to be stored
// (read at full speed, not in real time).
const storedBudgetProc = 30 * time.Second

// waitStored waits until `switchtap calls --json` lists every planned call
// and checks each record against its plan; it returns the records by
// Call-ID.
func (c procCLI) waitStored(plan []procCall) map[string]procRecord {
	c.t.Helper()
	deadline := time.Now().Add(storedBudgetProc)
	// The plan's days, a day wider each side: whatever zone the command
	// reads its dates in, every call is within.
	from, to := plan[0].local, plan[0].local
	for _, p := range plan {
		from, to = minTime(from, p.local), maxTime(to, p.local)
	}
	fromDay, toDay := from.AddDate(0, 0, -1).Format(time.DateOnly), to.AddDate(0, 0, 1).Format(time.DateOnly)
	var recs map[string]procRecord
	for {
		recs = map[string]procRecord{}
		out := c.run("", "calls", "--json", "--from", fromDay, "--to", toDay)
		for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
			if line == "" {
				continue
			}
			var r procRecord
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				c.t.Fatalf("switchtap calls --json: %v in %q", err, line)
			}
			recs[r.CallID] = r
		}
		if len(recs) >= len(plan) {
			break
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%d of the %d planned calls stored after %v", len(recs), len(plan), storedBudgetProc)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, p := range plan {
		r, ok := recs[p.callID]
		if !ok {
			c.t.Fatalf("call %s (%s) is not stored; stored: %v", p.key, p.callID, keys(recs))
		}
		checkProcRecord(c.t, p, r)
	}
	return recs
}

// checkProcRecord checks a stored record against what its plan says the
// tap must measure: the direction, the receptionist, the rings, the
// outcome and whether it has a recording.
func checkProcRecord(t *testing.T, p procCall, r procRecord) {
	t.Helper()
	want := "inbound"
	if p.outbound {
		want = "outbound"
	}
	var errs []string
	if r.Direction != want {
		errs = append(errs, fmt.Sprintf("direction %q, want %q", r.Direction, want))
	}
	if r.Operator != procReceptionists[p.op].name {
		errs = append(errs, fmt.Sprintf("operator %q, want %q", r.Operator, procReceptionists[p.op].name))
	}
	if !p.outbound && r.Rings != p.rings() {
		errs = append(errs, fmt.Sprintf("rings %d, want %d", r.Rings, p.rings()))
	}
	if answered := r.AnsweredAt != nil; answered != (p.outcome == outAnswered) {
		errs = append(errs, fmt.Sprintf("answered %v, want %v (end_reason %s)", answered, p.outcome == outAnswered, r.EndReason))
	}
	recorded := r.Recording != nil && r.Recording.File != ""
	if wantRec := p.outcome == outAnswered; recorded != wantRec {
		errs = append(errs, fmt.Sprintf("recorded %v, want %v", recorded, wantRec))
	}
	if recorded {
		if d := r.Recording.DurationSeconds; d < p.talk.Seconds()-0.1 || d > p.talk.Seconds()+1 {
			errs = append(errs, fmt.Sprintf("recording of %.3f s, want about %v", d, p.talk))
		}
	}
	for _, e := range errs {
		t.Errorf("record of %s (%s): %s", p.key, r.ID, e)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
