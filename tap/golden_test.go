package tap_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// writeScenario writes one synthetic scenario to a pcap file.
func writeScenario(t testing.TB, sc pcapgen.Scenario, dir string) (string, []pcapgen.Expect) {
	t.Helper()
	path := filepath.Join(dir, sc.Name+".pcap")
	want, err := sc.WriteFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, want
}

// TestScenarios replays every synthetic scenario and checks each record
// against the scenario's own expectations, timestamps to the nanosecond,
// then against the full golden record in testdata/golden.
func TestScenarios(t *testing.T) {
	for _, sc := range pcapgen.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			path, want := writeScenario(t, sc, t.TempDir())
			calls, st := replayFiles(t, sip.DefaultTrackerConfig(), path)
			if n := sumErrors(st.SIPErrors); n != 0 {
				t.Errorf("%d SIP messages rejected: %v", n, st.SIPErrors)
			}
			byID := map[string]sip.Call{}
			for _, c := range calls {
				if _, dup := byID[c.CallID]; dup {
					t.Errorf("two records for %s", c.CallID)
				}
				byID[c.CallID] = c
			}
			if len(calls) != len(want) {
				t.Errorf("%d records, want %d", len(calls), len(want))
			}
			for _, e := range want {
				c, ok := byID[e.CallID]
				if !ok {
					t.Errorf("no record for %s", e.CallID)
					continue
				}
				compareExpect(t, e, c)
			}
			checkGolden(t, sc.Name, calls)
		})
	}
}

func compareExpect(t *testing.T, e pcapgen.Expect, c sip.Call) {
	t.Helper()
	id := e.CallID
	eqS := func(field, got, want string) {
		if got != want {
			t.Errorf("%s %s = %q, want %q", id, field, got, want)
		}
	}
	eqT := func(field string, got, want *time.Time) {
		if (got == nil) != (want == nil) || (got != nil && !got.Equal(*want)) {
			t.Errorf("%s %s = %s, want %s", id, field, fmtTime(got), fmtTime(want))
		}
	}
	eqS("from", c.From, e.From)
	eqS("to", c.To, e.To)
	eqS("from_name", c.FromName, e.FromName)
	eqT("invite_at", &c.InviteAt, &e.InviteAt)
	eqT("ringing_at", c.RingingAt, e.RingingAt)
	eqT("answered_at", c.AnsweredAt, e.AnsweredAt)
	eqT("ended_at", c.EndedAt, e.EndedAt)
	eqS("end_reason", string(c.EndReason), e.EndReason)
	eqS("hangup_by", c.HangupBy, e.HangupBy)
	eqS("replaces_call_id", c.ReplacesCallID, e.ReplacesCallID)
	eqS("referred_by", c.ReferredBy, e.ReferredBy)
	eqS("transport", c.Transport, e.Transport)
	if (c.Transfer == nil) != (e.Transfer == nil) {
		t.Errorf("%s transfer = %+v, want %+v", id, c.Transfer, e.Transfer)
		return
	}
	if e.Transfer == nil {
		return
	}
	g, w := c.Transfer, e.Transfer
	eqS("transfer.kind", g.Kind, w.Kind)
	eqT("transfer.requested_at", &g.RequestedAt, &w.RequestedAt)
	eqS("transfer.target", g.Target, w.Target)
	eqT("transfer.accepted_at", g.AcceptedAt, w.AcceptedAt)
	eqT("transfer.completed_at", g.CompletedAt, w.CompletedAt)
	eqS("transfer.result", g.Result, w.Result)
	eqS("transfer.target_call_id", g.TargetCallID, w.TargetCallID)
	eqS("transfer.replaces_call_id", g.ReplacesCallID, w.ReplacesCallID)
}

// checkGolden compares the whole records, every field, with
// testdata/golden/NAME.jsonl (rewritten with -update).
func checkGolden(t *testing.T, name string, calls []sip.Call) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, c := range calls {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join("testdata", "golden", name+".jsonl")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tap -run TestScenarios -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		var gotRecs, wantRecs []map[string]any
		for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			var m map[string]any
			_ = json.Unmarshal(l, &m)
			gotRecs = append(gotRecs, m)
		}
		for _, l := range bytes.Split(bytes.TrimSpace(want), []byte("\n")) {
			var m map[string]any
			_ = json.Unmarshal(l, &m)
			wantRecs = append(wantRecs, m)
		}
		for i := range min(len(gotRecs), len(wantRecs)) {
			for k, v := range wantRecs[i] {
				if !reflect.DeepEqual(gotRecs[i][k], v) {
					t.Errorf("record %d field %s = %v, golden %v", i, k, gotRecs[i][k], v)
				}
			}
			for k := range gotRecs[i] {
				if _, ok := wantRecs[i][k]; !ok {
					t.Errorf("record %d has new field %s", i, k)
				}
			}
		}
		if len(gotRecs) != len(wantRecs) {
			t.Errorf("%d records, golden has %d", len(gotRecs), len(wantRecs))
		}
	}
}
