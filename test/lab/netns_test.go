package lab_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The lab's hosts (RFC 5737 documentation ranges): the caller comes in from
// "outside" (198.51.100.0/24, a PSTN gateway's side), the receptionist and
// the transfer target are on the office's network (192.0.2.0/24). All of
// them hang off one switch. On VLAN 100 the caller and the receptionist
// have a second, tagged address each.
const (
	callerIP     = "198.51.100.10"
	callerVLANIP = "198.51.100.11"
	recIP        = "192.0.2.31"
	recVLANIP    = "192.0.2.32"
	targetIP     = "192.0.2.40"
	vlanID       = "100"

	callerExt = "5550100"
	recExt    = "2001"
	targetExt = "3001"

	// metricsAddr is where the daemon serves metrics inside the tap's
	// namespace.
	metricsAddr = "127.0.0.1:7060"
)

// host is one machine plugged into the lab switch.
type host struct {
	role, ns string
}

// lab is the whole box: namespaces for each host, the switch and the tap.
type lab struct {
	caller, rec, target host
	switchNS            string
	// tapNS and tapIface are where the daemon and tcpdump capture: the far
	// end of the switch's mirror port, with no address.
	tapNS, tapIface string
	// noVLAN says why the VLAN path could not be built ("" when it was).
	noVLAN string
}

// nsName returns a namespace name unique to this test process, so that two
// runs never meet and leftovers (`ip netns list | grep ^slab-`) are
// traceable to a pid.
func nsName(role string) string {
	return fmt.Sprintf("slab-%d-%s", os.Getpid(), role)
}

// plug gives namespace ns an interface eth0 (MTU 1500) whose veth peer is
// port in the switch namespace, both up.
func plug(ctx context.Context, t *testing.T, ns, switchNS, port string) {
	t.Helper()

	runCmd(ctx, t, "ip", "-n", ns, "link", "add", "eth0", "mtu", "1500", "type", "veth",
		"peer", "name", port, "mtu", "1500", "netns", switchNS)
	runCmd(ctx, t, "ip", "-n", ns, "link", "set", "eth0", "up")
	runCmd(ctx, t, "ip", "-n", switchNS, "link", "set", port, "up")
}

// newLab builds the switch (a Linux bridge), one port per host, a mirror
// port to the tap, and a tc ingress filter on every host port that copies
// each frame the port receives to the mirror port: what a switch's SPAN
// port does, every frame seen exactly once.
func newLab(ctx context.Context, t *testing.T) *lab {
	t.Helper()

	l := &lab{
		caller:   host{"caller", nsName("caller")},
		rec:      host{"rec", nsName("rec")},
		target:   host{"target", nsName("target")},
		switchNS: nsName("switch"),
		tapNS:    nsName("tap"),
		tapIface: "eth0",
	}
	for _, ns := range []string{l.caller.ns, l.rec.ns, l.target.ns, l.switchNS, l.tapNS} {
		addNetns(ctx, t, ns)
	}
	sw := l.switchNS
	runCmd(ctx, t, "ip", "-n", sw, "link", "add", "br0", "type", "bridge")
	runCmd(ctx, t, "ip", "-n", sw, "link", "set", "br0", "up")

	hosts := []struct {
		h    host
		addr string
		port string
	}{
		{l.caller, callerIP, "p-caller"},
		{l.rec, recIP, "p-rec"},
		{l.target, targetIP, "p-target"},
	}
	for _, h := range hosts {
		plug(ctx, t, h.h.ns, sw, h.port)
		runCmd(ctx, t, "ip", "-n", h.h.ns, "addr", "add", h.addr+"/24", "dev", "eth0")
		// Both documentation networks share the one segment: the other
		// /24 is on-link too.
		other := "198.51.100.0/24"
		if strings.HasPrefix(h.addr, "198.51.100.") {
			other = "192.0.2.0/24"
		}
		runCmd(ctx, t, "ip", "-n", h.h.ns, "route", "add", other, "dev", "eth0")
		runCmd(ctx, t, "ip", "-n", sw, "link", "set", h.port, "master", "br0")
	}
	plug(ctx, t, l.tapNS, sw, "p-tap")
	for _, h := range hosts {
		runCmd(ctx, t, "tc", "-n", sw, "qdisc", "add", "dev", h.port, "ingress")
		runCmd(ctx, t, "tc", "-n", sw, "filter", "add", "dev", h.port, "parent", "ffff:", "protocol", "all",
			"u32", "match", "u32", "0", "0", "action", "mirred", "egress", "mirror", "dev", "p-tap")
	}

	// VLAN 100: a tagged subinterface on the caller and the receptionist.
	// The bridge (no vlan_filtering) forwards the tagged frames as they
	// are, and the mirror copies them with their 802.1Q tag. Kernels
	// without 802.1Q support (no 8021q module) cannot; the VLAN scenario
	// then skips and says so.
	out, err := exec.CommandContext(ctx, "ip", "-n", l.caller.ns, "link", "add", "link", "eth0", "name", "eth0.100",
		"type", "vlan", "id", vlanID).CombinedOutput()
	if err != nil {
		l.noVLAN = fmt.Sprintf("this kernel cannot make a VLAN interface (ip link add type vlan: %v: %s); test/live TestLiveTaggedFrames sends tagged calls through the kernel instead", err, strings.TrimSpace(string(out)))
		return l
	}
	runCmd(ctx, t, "ip", "-n", l.rec.ns, "link", "add", "link", "eth0", "name", "eth0.100", "type", "vlan", "id", vlanID)
	for _, v := range []struct {
		h          host
		addr, peer string
	}{{l.caller, callerVLANIP, recVLANIP}, {l.rec, recVLANIP, callerVLANIP}} {
		runCmd(ctx, t, "ip", "-n", v.h.ns, "addr", "add", v.addr+"/32", "dev", "eth0.100")
		runCmd(ctx, t, "ip", "-n", v.h.ns, "link", "set", "eth0.100", "up")
		runCmd(ctx, t, "ip", "-n", v.h.ns, "route", "add", v.peer+"/32", "dev", "eth0.100", "src", v.addr)
	}

	return l
}
