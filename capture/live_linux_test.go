//go:build linux

package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/switchtap/switchtap/internal/testenv"
)

func TestOpenLiveNoInterface(t *testing.T) {
	_, err := OpenLive("nonexistent0")
	if !errors.Is(err, ErrNoInterface) {
		t.Fatalf("err = %v, want ErrNoInterface", err)
	}
	if !strings.Contains(err.Error(), "nonexistent0") {
		t.Errorf("error does not name the interface: %v", err)
	}
}

// requireRoot skips unless the test runs as root, or fails when skipping
// is forbidden (testenv.RequireEnv, set by CI).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("ip"); err == nil {
			return
		}
	}
	testenv.SkipOrFail(t, "needs root and iproute2")
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// vethPair makes a veth pair with one end (returned) in the root namespace
// and the other in a namespace of its own, with a /30 each on the link and
// on VLAN 7 over it when the kernel has 802.1Q (vlan is false when not).
// It returns the root end and the addresses.
func vethPair(t *testing.T) (root string, local, peer, vlocal, vpeer netip.Addr, vlan bool) {
	t.Helper()
	id := os.Getpid() % 100000
	ns, a, b := fmt.Sprintf("stcap%d", id), fmt.Sprintf("stca%d", id), fmt.Sprintf("stcb%d", id)
	net24 := freeTestNet(t)
	base := byte(4 * (id % 30))
	at := func(host byte) netip.Addr {
		b := net24.Addr().As4()
		b[3] = host
		return netip.AddrFrom4(b)
	}
	local, peer = at(base+1), at(base+2)
	vlocal, vpeer = at(128+base+1), at(128+base+2)
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", a).Run()
		_ = exec.Command("ip", "netns", "del", ns).Run()
	})
	run(t, "ip", "netns", "add", ns)
	run(t, "ip", "link", "add", a, "type", "veth", "peer", "name", b)
	run(t, "ip", "link", "set", b, "netns", ns)
	run(t, "ip", "addr", "add", local.String()+"/30", "dev", a)
	run(t, "ip", "link", "set", a, "up")
	run(t, "ip", "-n", ns, "addr", "add", peer.String()+"/30", "dev", b)
	run(t, "ip", "-n", ns, "link", "set", b, "up")
	waitOperUp(t, "", a)
	waitOperUp(t, ns, b)
	if out, err := exec.Command("ip", "link", "add", "link", a, "name", a+".7", "type", "vlan", "id", "7").CombinedOutput(); err != nil {
		t.Logf("no VLAN part: %v %s", err, out)
		return a, local, peer, vlocal, vpeer, false
	}
	run(t, "ip", "addr", "add", vlocal.String()+"/30", "dev", a+".7")
	run(t, "ip", "link", "set", a+".7", "up")
	run(t, "ip", "-n", ns, "link", "add", "link", b, "name", b+".7", "type", "vlan", "id", "7")
	run(t, "ip", "-n", ns, "addr", "add", vpeer.String()+"/30", "dev", b+".7")
	run(t, "ip", "-n", ns, "link", "set", b+".7", "up")
	waitOperUp(t, "", a+".7")
	waitOperUp(t, ns, b+".7")
	return a, local, peer, vlocal, vpeer, true
}

// freeTestNet returns the documentation /24 (RFC 5737) that no address of
// the root namespace lies in. This end of the pair is in the root namespace,
// and a machine may itself be numbered from 192.0.2.0/24 (CI's is, with its
// gateway at 192.0.2.1): a /30 there would take the machine's own address or
// its gateway's.
func freeTestNet(t *testing.T) netip.Prefix {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, cand := range []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.0/24")} {
		free := true
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Overlaps(cand) {
				free = false
			}
		}
		if free {
			return cand
		}
	}
	t.Fatalf("both 198.51.100.0/24 and 192.0.2.0/24 are used on this machine: %v", addrs)
	return netip.Prefix{}
}

// waitOperUp waits until dev (in namespace ns, or the root one when ns is
// empty) is operationally up. Until the kernel's link watch has run, up to a
// second after "ip link set up", the device's queue discards what is sent:
// on a machine without 802.1Q nothing else delays the first datagrams
// enough for them to survive.
func waitOperUp(t *testing.T, ns, dev string) {
	t.Helper()
	args := []string{"-o", "link", "show", "dev", dev}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err == nil && strings.Contains(string(out), "state UP") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up after 5 s: %v %s", dev, err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLiveCapture(t *testing.T) {
	requireRoot(t)
	iface, local, peer, vlocal, vpeer, vlan := vethPair(t)
	l, err := OpenLive(iface)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	type result struct {
		dg  got
		err error
	}
	results := make(chan result, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d := NewDecoder()
		for {
			f, err := l.ReadFrame()
			if err != nil {
				results <- result{err: err}
				return
			}
			_ = d.Decode(f.LinkType, f.Data, f.Info, func(dg *Datagram) {
				if dg.Dst.Port() == 5060 {
					select {
					case results <- result{dg: got{dg.Time, dg.Src, dg.Dst, dg.Transport, dg.VLAN, string(dg.Payload), false}}:
					default:
					}
				}
			})
		}
	}()

	before := time.Now()
	send := func(from, to netip.Addr, msg string) {
		c, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0)),
			net.UDPAddrFromAddrPort(netip.AddrPortFrom(to, 5060)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	type datagram struct {
		from, to netip.Addr
		vlan     uint16
	}
	want := map[string]datagram{}
	for i := range 3 {
		want[fmt.Sprintf("OPTIONS sip:%d@%s SIP/2.0\r\n\r\n", i, peer)] = datagram{local, peer, 0}
		if vlan {
			want[fmt.Sprintf("OPTIONS sip:%d@%s SIP/2.0\r\n\r\n", i, vpeer)] = datagram{vlocal, vpeer, 7}
		}
	}
	// UDP may be lost before the neighbour is resolved: what is not seen
	// yet is sent again, as a SIP client retransmits (RFC 3261 §17.1.2.1).
	sendMissing := func() {
		for msg, d := range want {
			send(d.from, d.to, msg)
		}
	}
	sendMissing()
	resend := time.NewTicker(500 * time.Millisecond)
	defer resend.Stop()
	timeout := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case <-resend.C:
			sendMissing()
		case r := <-results:
			if r.err != nil {
				t.Fatalf("ReadFrame: %v", r.err)
			}
			d, ok := want[r.dg.Payload]
			if !ok {
				continue
			}
			delete(want, r.dg.Payload)
			if vlan := d.vlan; r.dg.VLAN != vlan || r.dg.Transport != UDP {
				t.Errorf("%q: vlan %d transport %v, want vlan %d", r.dg.Payload, r.dg.VLAN, r.dg.Transport, vlan)
			}
			if r.dg.Time.Before(before.Add(-time.Second)) || r.dg.Time.After(time.Now().Add(time.Second)) {
				t.Errorf("capture time %v not near %v", r.dg.Time, before)
			}
		case <-timeout:
			t.Fatalf("not captured: %v", want)
		}
	}
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Received < 3 {
		t.Errorf("stats %+v", st)
	}
	// Close unblocks the reader, which then sees io.EOF.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock ReadFrame")
	}
	for {
		select {
		case r := <-results:
			if r.err != nil && !errors.Is(r.err, io.EOF) {
				t.Errorf("after Close: %v", r.err)
			}
			if r.err != nil {
				return
			}
		default:
			return
		}
	}
}

func TestRestoreVLAN(t *testing.T) {
	p := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(invite))
	untagged := ether(p)
	for _, room := range []bool{true, false} {
		t.Run(map[bool]string{true: "in place", false: "copied"}[room], func(t *testing.T) {
			var data []byte
			if room {
				data = make([]byte, len(untagged), len(untagged)+100)
				copy(data, untagged)
			} else {
				data = append([]byte(nil), untagged...)[:len(untagged):len(untagged)]
			}
			l := &Live{}
			out := l.restoreVLAN(data, 42)
			if want := ether(p, [2]uint16{etherTypeDot1Q, 42}); string(out) != string(want) {
				t.Fatalf("restored frame differs:\n%x\n%x", out, want)
			}
			var dgs []got
			if err := NewDecoder().Decode(layers.LinkTypeEthernet, out, ci(t0, len(out)), collect(&dgs)); err != nil {
				t.Fatal(err)
			}
			if len(dgs) != 1 || dgs[0].VLAN != 42 {
				t.Errorf("decoded %+v", dgs)
			}
		})
	}
}
