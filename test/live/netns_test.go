package live_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Addresses of the two phones (RFC 5737 documentation range).
const (
	callerIP = "192.0.2.10"
	calleeIP = "192.0.2.20"
	sipPort  = "5060"
)

// topology says where the phones run and where the tap listens.
type topology struct {
	callerNS, calleeNS string
	// tapNS and tapIface are where tcpdump and the daemon capture.
	tapNS, tapIface string
}

// runCmd runs a setup command and fails the test with its output on error.
func runCmd(ctx context.Context, t *testing.T, name string, args ...string) {
	t.Helper()

	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// addNetns creates a network namespace with lo up and registers its
// removal. The removal first kills whatever still runs inside it (only
// processes this test started can be there) and reports them as an error:
// every process must have been stopped before the namespace goes.
func addNetns(ctx context.Context, t *testing.T, name string) {
	t.Helper()

	runCmd(ctx, t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if pids := netnsPids(name); len(pids) > 0 {
			t.Errorf("processes %v still running in netns %s at cleanup: killing them", pids, name)
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			deadline := time.Now().Add(3 * time.Second)
			for len(netnsPids(name)) > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
		}
		// A fresh context: the test's may have expired, the cleanup must run.
		out, err := exec.Command("ip", "netns", "del", name).CombinedOutput()
		if err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	runCmd(ctx, t, "ip", "-n", name, "link", "set", "lo", "up")
}

// netnsPids lists the processes inside namespace name.
func netnsPids(name string) []int {
	out, err := exec.Command("ip", "netns", "pids", name).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}

	return pids
}

// addPhoneLink gives namespace ns an interface eth0 with address addr and a
// veth peer named peer in namespace peerNS, both up.
func addPhoneLink(ctx context.Context, t *testing.T, ns, addr, peerNS, peer string) {
	t.Helper()

	runCmd(ctx, t, "ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns", peerNS)
	if addr != "" {
		runCmd(ctx, t, "ip", "-n", ns, "addr", "add", addr+"/24", "dev", "eth0")
	}
	runCmd(ctx, t, "ip", "-n", ns, "link", "set", "eth0", "up")
	runCmd(ctx, t, "ip", "-n", peerNS, "link", "set", peer, "up")
}

// nsName returns a namespace name unique to this test process.
func nsName(tag, role string) string {
	return fmt.Sprintf("stl-%d-%s-%s", os.Getpid(), tag, role)
}

// directTopology is two phones on one veth pair; the tap listens on the
// callee's own interface, so it sees the callee's replies as outgoing
// frames.
func directTopology(ctx context.Context, t *testing.T) topology {
	t.Helper()

	a, b := nsName("d", "caller"), nsName("d", "callee")
	addNetns(ctx, t, a)
	addNetns(ctx, t, b)
	runCmd(ctx, t, "ip", "-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b)
	runCmd(ctx, t, "ip", "-n", a, "addr", "add", callerIP+"/24", "dev", "eth0")
	runCmd(ctx, t, "ip", "-n", b, "addr", "add", calleeIP+"/24", "dev", "eth0")
	runCmd(ctx, t, "ip", "-n", a, "link", "set", "eth0", "up")
	runCmd(ctx, t, "ip", "-n", b, "link", "set", "eth0", "up")

	return topology{callerNS: a, calleeNS: b, tapNS: b, tapIface: "eth0"}
}

// mirrorTopology is the deployment's shape: both phones hang off a Linux
// bridge (the switch) whose host ports copy every frame they receive to a
// mirror port (tc mirred), and the tap listens on the far end of that port
// with no address, so every frame it sees is addressed to someone else
// (promiscuous mode is required) and each frame is seen exactly once.
func mirrorTopology(ctx context.Context, t *testing.T) topology {
	t.Helper()

	a, b := nsName("m", "caller"), nsName("m", "callee")
	sw, tap := nsName("m", "switch"), nsName("m", "tap")
	for _, ns := range []string{a, b, sw, tap} {
		addNetns(ctx, t, ns)
	}
	runCmd(ctx, t, "ip", "-n", sw, "link", "add", "br0", "type", "bridge")
	runCmd(ctx, t, "ip", "-n", sw, "link", "set", "br0", "up")
	addPhoneLink(ctx, t, a, callerIP, sw, "pa")
	addPhoneLink(ctx, t, b, calleeIP, sw, "pb")
	addPhoneLink(ctx, t, tap, "", sw, "pt")
	for _, port := range []string{"pa", "pb"} {
		runCmd(ctx, t, "ip", "-n", sw, "link", "set", port, "master", "br0")
		runCmd(ctx, t, "tc", "-n", sw, "qdisc", "add", "dev", port, "ingress")
		runCmd(ctx, t, "tc", "-n", sw, "filter", "add", "dev", port, "parent", "ffff:", "protocol", "all",
			"u32", "match", "u32", "0", "0", "action", "mirred", "egress", "mirror", "dev", "pt")
	}

	return topology{callerNS: a, calleeNS: b, tapNS: tap, tapIface: "eth0"}
}
