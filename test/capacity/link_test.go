package capacity_test

import (
	"context"
	"testing"

	"github.com/switchtap/switchtap/internal/nettest"
)

// vethName is the interface at both ends of the link.
const vethName = "eth0"

// link is two namespaces made by the test joined by a veth: tcpreplay
// sends into one end, the daemon captures on the other. Neither end has
// an address: the capture's frames only cross the wire, nothing routes
// them, and the documentation addresses inside them never reach the root
// namespace. The daemon's namespace has loopback up for its metrics and
// web.
type link struct {
	senderNS, tapNS string
}

// newLink makes the namespaces and the veth; nettest.AddNetns removes
// them at cleanup, failure or not.
func newLink(ctx context.Context, t *testing.T, tag string) link {
	t.Helper()

	l := link{senderNS: nsName(tag, "send"), tapNS: nsName(tag, "tap")}
	nettest.AddNetns(ctx, t, l.senderNS)
	nettest.AddNetns(ctx, t, l.tapNS)
	nettest.RunCmd(ctx, t, "ip", "-n", l.senderNS, "link", "add", vethName, "type", "veth", "peer", "name", vethName, "netns", l.tapNS)
	for _, ns := range []string{l.senderNS, l.tapNS} {
		// No IPv6 on the link: its router solicitations and MLD reports
		// would be frames the capture did not send.
		nettest.RunCmd(ctx, t, "ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf."+vethName+".disable_ipv6=1")
		nettest.RunCmd(ctx, t, "ip", "-n", ns, "link", "set", vethName, "up")
	}
	return l
}
