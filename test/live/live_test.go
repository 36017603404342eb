// Package live_test is the end-to-end check that the daemon, capturing a
// real SIP call on a real interface, stores the same call record as replay
// computes from a capture of that same call.
//
// Run it as root (it creates network namespaces, veth pairs, a bridge and
// tc mirror filters, all removed when it ends):
//
//	sudo SWITCHTAP_REQUIRE_ALL=1 go test ./test/live/ -v
//
// It needs ip and tc (iproute2), sipp (Debian package sip-tester) and
// tcpdump. Without root or any of these it skips, unless
// SWITCHTAP_REQUIRE_ALL=1, which turns the skip into a failure (CI sets
// it). Namespaces are named stl-<pid>-…; if the test binary is killed
// before its cleanup runs, `ip netns list | grep ^stl-` shows leftovers to
// delete by hand.
//
// For each topology, one SIPp call (test/sipp/uac.xml → uas.xml: INVITE,
// 100, 180, 3 s of ringing, 200, ACK, 2 s of talk, BYE from the caller, 200)
// is captured at the same time by `switchtap run` and by tcpdump
// (nanosecond pcap). Then `switchtap calls` (the daemon's store) and
// `switchtap replay` (tcpdump's file) must print one record each, equal in
// every field but id, with timestamps equal to the nanosecond — both
// read the kernel's one timestamp of each frame — and equal to the capture
// times of the messages in the pcap.
package live_test

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// buildBudget bounds `go build` (the first build of a cold cache is slow).
	buildBudget = 3 * time.Minute
	// liveBudget bounds one topology: setup, the call (~5 s), shutdown, checks.
	liveBudget = 45 * time.Second
	// ringPause is the UAS's pause between 180 and 200 (test/sipp/uas.xml).
	ringPause = 3.0
	// ringTolerance allows for scheduling around the pause.
	ringTolerance = 0.5
)

// TestLiveCallMatchesReplay places one call per topology and compares the
// daemon's stored record with replay's.
func TestLiveCallMatchesReplay(t *testing.T) {
	requireLive(t)

	root := moduleRoot(t)
	bin := buildSwitchtap(t, root)

	topologies := []struct {
		name  string
		build func(context.Context, *testing.T) topology
	}{
		{"direct", directTopology},
		{"mirror", mirrorTopology},
	}
	for _, tc := range topologies {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), liveBudget)
			defer cancel()

			checkCall(ctx, t, root, bin, tc.build(ctx, t))
		})
	}
}

// checkCall captures one call on topo and compares the records.
func checkCall(ctx context.Context, t *testing.T, root, bin string, topo topology) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	pcapPath := filepath.Join(dir, "cap.pcap")

	// -Z root: tcpdump would otherwise drop to user tcpdump, who cannot
	// write in the root-owned temporary folder.
	tcpdump := startIn(ctx, t, topo.tapNS, dir, "tcpdump",
		"tcpdump", "-n", "-i", topo.tapIface, "-w", pcapPath, "-U", "--time-stamp-precision=nano", "-Z", "root")
	daemon := startIn(ctx, t, topo.tapNS, dir, "switchtap run",
		bin, "run", "-i", topo.tapIface, "--data-dir", dataDir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("switchtap run output:\n%s", daemon.Tail(16000))
			t.Logf("tcpdump output:\n%s", tcpdump.Tail(2000))
		}
	})

	if err := tcpdump.WaitFor("listening on", 10*time.Second); err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, tcpdump.Tail(2000))
	}
	if err := daemon.WaitFor(`msg="capture started"`, 10*time.Second); err != nil {
		t.Fatalf("switchtap run: %v", err)
	}

	placeCall(ctx, t, root, dir, topo, "uas.xml")

	// Let the last frames reach both readers before stopping them.
	time.Sleep(time.Second)
	if err := daemon.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("stop switchtap run (want exit 0 on SIGTERM): %v", err)
	}
	if err := tcpdump.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatalf("stop tcpdump: %v\n%s", err, tcpdump.Tail(2000))
	}

	want, err := readSIPTimes(pcapPath)
	if err != nil {
		t.Fatalf("tcpdump's capture: %v", err)
	}
	if want.callID == "" || want.ringing.IsZero() || want.answered.IsZero() || want.bye.IsZero() {
		t.Fatalf("tcpdump did not capture a whole call: %+v\n%s", want, tcpdump.Tail(2000))
	}

	live := oneRecord(t, "switchtap calls", runSwitchtap(ctx, t, bin, "calls", "--data-dir", dataDir, "--json"))
	// The daemon records by default: replay records too, elsewhere, so
	// the recording fields compare like the rest.
	replay := oneRecord(t, "switchtap replay", runSwitchtap(ctx, t, bin, "replay", "--json",
		"--record-dir", filepath.Join(dir, "replay-recordings"), pcapPath))
	t.Logf("live record: %s", show(map[string]any(live), true))

	// The fields the brief names, each reported on its own, then every
	// other field; id may differ (it may be minted per store).
	named := []string{
		"call_id", "from", "to", "invite_at", "ringing_at", "answered_at", "ended_at",
		"end_reason", "hangup_by", "rings", "within_limit",
	}
	for _, k := range named {
		if _, ok := live[k]; !ok {
			t.Errorf("live record has no %q", k)
		}
	}
	if diffs := diffFields(live, replay, "id"); len(diffs) > 0 {
		t.Errorf("live and replay records differ in %d field(s):\n  %s", len(diffs), strings.Join(diffs, "\n  "))
	}

	checkRecord(t, "live", live, want)
	checkRecord(t, "replay", replay, want)
}

// placeCall runs the SIPp UAS scenario uasXML (in test/sipp) in the callee
// namespace and the UAC in the caller namespace for one call, and requires
// both to succeed.
func placeCall(ctx context.Context, t *testing.T, root, dir string, topo topology, uasXML string) {
	t.Helper()

	sippDir := filepath.Join(root, "test", "sipp")
	uas := startIn(ctx, t, topo.calleeNS, dir, "sipp uas",
		"sipp", "-sf", filepath.Join(sippDir, uasXML), "-i", calleeIP, "-p", sipPort,
		"-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin")
	waitUDPListen(ctx, t, topo.calleeNS, sipPort, uas)

	uac := startIn(ctx, t, topo.callerNS, dir, "sipp uac",
		"sipp", "-sf", filepath.Join(sippDir, "uac.xml"), "-i", callerIP, "-p", sipPort, "-s", "2000",
		"-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin", calleeIP+":"+sipPort)
	if err := uac.Wait(35 * time.Second); err != nil {
		t.Fatalf("SIPp UAC (exit 0 means the call succeeded): %v\n%s\nUAS:\n%s", err, uac.Tail(3000), uas.Tail(3000))
	}
	if err := uas.Wait(5 * time.Second); err != nil {
		t.Fatalf("SIPp UAS: %v\n%s", err, uas.Tail(3000))
	}
}

// waitUDPListen waits until something listens on UDP port in namespace ns,
// so that the first INVITE is not refused.
func waitUDPListen(ctx context.Context, t *testing.T, ns, port string, p *proc) {
	t.Helper()

	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "ss", "-Hlun", "sport", "=", ":"+port).Output()
		if err == nil && len(strings.TrimSpace(string(out))) > 0 {
			return
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("%s is not listening on UDP %s: %v\n%s", p.Name, port, err, p.Tail(3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// oneRecord parses a command's JSON Lines and requires exactly one record.
func oneRecord(t *testing.T, what string, out []byte) record {
	t.Helper()

	recs, err := parseJSONLines(out)
	if err != nil {
		t.Fatalf("%s output is not JSON Lines: %v\n%s", what, err, out)
	}
	if len(recs) != 1 {
		t.Fatalf("%s printed %d records, want 1:\n%s", what, len(recs), out)
	}

	return recs[0]
}

// checkRecord checks one record against the scenario and the pcap.
func checkRecord(t *testing.T, which string, r record, want sipTimes) {
	t.Helper()

	for k, v := range map[string]string{
		"call_id":    want.callID,
		"from":       "1000",
		"to":         "2000",
		"end_reason": "completed",
		"hangup_by":  "caller",
	} {
		if got := r.Str(k); got != v {
			t.Errorf("%s %s = %q, want %q", which, k, got, v)
		}
	}

	// The four timestamps are the capture times of the first INVITE, 180,
	// 200 and BYE in the pcap, to the nanosecond.
	times := map[string]time.Time{
		"invite_at":   want.invite,
		"ringing_at":  want.ringing,
		"answered_at": want.answered,
		"ended_at":    want.bye,
	}
	for k, w := range times {
		got, ok := r.Time(k)
		switch {
		case !ok:
			t.Errorf("%s %s = %s, want %s", which, k, show(r[k], true), w.UTC().Format(time.RFC3339Nano))
		case !got.Equal(w):
			t.Errorf("%s %s = %s, want %s (pcap), off by %v", which, k, r.Str(k), w.UTC().Format(time.RFC3339Nano), got.Sub(w))
		case got.Location() != time.UTC:
			t.Errorf("%s %s = %s, want UTC", which, k, r.Str(k))
		}
	}

	rs, ok := r.Float("ring_seconds")
	switch {
	case !ok:
		t.Errorf("%s ring_seconds = %s, want a number", which, show(r["ring_seconds"], true))
	case math.Abs(rs-ringPause) > ringTolerance:
		t.Errorf("%s ring_seconds = %v, want %v ± %v (the UAS's pause)", which, rs, ringPause, ringTolerance)
	case math.Abs(rs-want.answered.Sub(want.ringing).Seconds()) > 1e-6:
		t.Errorf("%s ring_seconds = %v, want answered − ringing = %v", which, rs, want.answered.Sub(want.ringing).Seconds())
	}

	// 3 s is inside the first ring cycle of every preset (us 6 s, eu 5 s,
	// sv 5.8 s), so rings = floor(3 / cycle) + 1 = 1.
	if got := show(r["rings"], true); got != "1" {
		t.Errorf("%s rings = %s, want 1", which, got)
	}
	if got, ok := r["within_limit"].(bool); !ok || !got {
		t.Errorf("%s within_limit = %s, want true", which, show(r["within_limit"], true))
	}
}
