package live_test

import (
	"context"
	"fmt"
	"os"
	"testing"
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
