package live_test

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

// TestLiveTaggedFrames sends VLAN-tagged (802.1Q) and QinQ copies of two
// calls, RTP included, onto a real interface with tcpreplay and checks that
// the daemon stores the same records as replay of tcpdump's capture of
// them, VLAN ids included. This kernel can make no tagged link (no 8021q,
// no tc vlan action, no bridge VLAN filtering), so the SIPp lab cannot
// build a tagged path; injected frames still cross the real kernel, which
// moves the outer tag out of the frame (skb_vlan_untag) and reports it
// beside it, as on a mirror port with VLAN offload.
func TestLiveTaggedFrames(t *testing.T) {
	requireLive(t)
	root := moduleRoot(t)
	bin := buildSwitchtap(t, root)
	ctx, cancel := context.WithTimeout(t.Context(), liveBudget)
	defer cancel()

	dir := t.TempDir()
	calls := filepath.Join(dir, "tagged.pcap")
	wantVLAN := map[string]string{}
	err := pcapgen.WriteFile(calls, func(w *pcapgen.Writer) error {
		for _, c := range []struct{ scenario, vlan string }{{"vlan", "100"}, {"qinq", "200"}} {
			sc, err := pcapgen.Lookup(c.scenario)
			if err != nil {
				return err
			}
			exp, err := sc.Write(w)
			if err != nil {
				return err
			}
			for _, e := range exp {
				wantVLAN[e.CallID] = c.vlan
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	inj, tap := nsName("v", "inject"), nsName("v", "tap")
	addNetns(ctx, t, inj)
	addNetns(ctx, t, tap)
	runCmd(ctx, t, "ip", "-n", inj, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", tap)
	runCmd(ctx, t, "ip", "-n", inj, "link", "set", "eth0", "up")
	runCmd(ctx, t, "ip", "-n", tap, "link", "set", "eth0", "up")

	dataDir := filepath.Join(dir, "data")
	pcapPath := filepath.Join(dir, "cap.pcap")
	tcpdump := startIn(ctx, t, tap, dir, "tcpdump",
		"tcpdump", "-n", "-i", "eth0", "-w", pcapPath, "-U", "--time-stamp-precision=nano", "-Z", "root")
	daemon := startIn(ctx, t, tap, dir, "switchtap run", bin, "run", "-i", "eth0", "--data-dir", dataDir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("switchtap run output:\n%s", daemon.Tail(8000))
		}
	})
	if err := tcpdump.WaitFor("listening on", 10*time.Second); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	if err := daemon.WaitFor(`msg="capture started"`, 10*time.Second); err != nil {
		t.Fatalf("switchtap run: %v", err)
	}
	runCmd(ctx, t, "ip", "netns", "exec", inj, "tcpreplay", "-q", "--topspeed", "-i", "eth0", calls)
	time.Sleep(time.Second)
	if err := daemon.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("stop switchtap run: %v", err)
	}
	if err := tcpdump.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatalf("stop tcpdump: %v", err)
	}

	live, err := parseJSONLines(runSwitchtap(ctx, t, bin, "calls", "--data-dir", dataDir, "--json"))
	if err != nil {
		t.Fatal(err)
	}
	replay, err := parseJSONLines(runSwitchtap(ctx, t, bin, "replay", "--json",
		"--record-dir", filepath.Join(dir, "replay-recordings"), pcapPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != len(wantVLAN) || len(replay) != len(wantVLAN) {
		t.Fatalf("%d live and %d replayed records, want %d", len(live), len(replay), len(wantVLAN))
	}
	byID := map[string]record{}
	for _, r := range replay {
		byID[r.Str("call_id")] = r
	}
	for _, r := range live {
		id := r.Str("call_id")
		if got := show(r["vlan"], true); got != wantVLAN[id] {
			t.Errorf("%s: vlan %s, want %s", id, got, wantVLAN[id])
		}
		if r.Str("end_reason") != "completed" || r.Obj("recording") == nil || r.Obj("recording").Str("file") == "" {
			t.Errorf("%s: end %s, recording %s", id, r.Str("end_reason"), show(r["recording"], true))
		}
		if diffs := diffFields(r, byID[id], "id"); len(diffs) > 0 {
			t.Errorf("%s: live and replay differ:\n  %s", id, strings.Join(diffs, "\n  "))
		}
	}
}
