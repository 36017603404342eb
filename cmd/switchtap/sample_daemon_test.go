package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
)

// TestSampleThroughDaemon: with the daemon running on a capture of one
// answered, recorded call to Ana (extension 1001), `sample draw|show|verify` go through its socket
// (the store is locked by the daemon) and the draw is audited as the
// socket's peer.
func TestSampleThroughDaemon(t *testing.T) {
	dir := t.TempDir()
	data, _ := runDaemon(t, dir, "answered", "recording:\n  min_free: 0\nreceptionists:\n  - name: Ana\n    extensions: ['1001']\n")
	var rec struct {
		ID        string    `json:"id"`
		InviteAt  time.Time `json:"invite_at"`
		Recording *struct {
			File string `json:"file"`
		} `json:"recording"`
	}
	if !untilServed(data, func() bool {
		out, _, _ := runIn(t, "", "calls", "--json", "--data-dir", data)
		line := strings.SplitN(out, "\n", 2)[0]
		return line != "" && json.Unmarshal([]byte(line), &rec) == nil && rec.Recording != nil && rec.Recording.File != ""
	}) {
		t.Fatalf("the daemon did not serve a recorded call: %+v", rec)
	}
	loc, _ := time.LoadLocation("America/El_Salvador")
	month := rec.InviteAt.In(loc).Format("2006-01")
	args := []string{"--data-dir", data, "--month", month}
	if out, errOut, err := runIn(t, "", append([]string{"sample", "draw", "--seed", "3"}, args...)...); err != nil || !strings.Contains(out, "frame 1 calls") {
		t.Fatalf("draw through the socket: %v %s\n%s", err, errOut, out)
	}
	out, _, err := runIn(t, "", append([]string{"sample", "show", "--json"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	var smp report.Sample
	if err := json.Unmarshal([]byte(out), &smp); err != nil || len(smp.Items) != 1 || smp.Items[0].ID != rec.ID || smp.Seed != 3 {
		t.Fatalf("show: %v %s", err, out)
	}
	if out, _, err := runIn(t, "", append([]string{"sample", "verify"}, args...)...); err != nil || !strings.Contains(out, "verifies") {
		t.Fatalf("verify: %v %s", err, out)
	}
	// One call, no reserve: the daemon refuses the replacement (400).
	if _, _, err := runIn(t, "", append([]string{"sample", "replace", "--id", rec.ID, "--reason", "x"}, args...)...); err == nil || !strings.Contains(err.Error(), "no quedan reservas") {
		t.Fatalf("replace without reserve: %v", err)
	}
	al, _, err := runIn(t, "", "audit", "list", "--data-dir", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(al, `"action":"sample_draw"`) || !strings.Contains(al, fmt.Sprintf(`"actor":"local:%d`, os.Getuid())) {
		t.Errorf("the draw is not in the audit log as the socket's peer:\n%s", al)
	}
}
