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
	base := byte(4 * (id % 30))
	local, peer = netip.AddrFrom4([4]byte{192, 0, 2, base + 1}), netip.AddrFrom4([4]byte{192, 0, 2, base + 2})
	vlocal, vpeer = netip.AddrFrom4([4]byte{192, 0, 2, 128 + base + 1}), netip.AddrFrom4([4]byte{192, 0, 2, 128 + base + 2})
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
	if out, err := exec.Command("ip", "link", "add", "link", a, "name", a+".7", "type", "vlan", "id", "7").CombinedOutput(); err != nil {
		t.Logf("no VLAN part: %v %s", err, out)
		return a, local, peer, vlocal, vpeer, false
	}
	run(t, "ip", "addr", "add", vlocal.String()+"/30", "dev", a+".7")
	run(t, "ip", "link", "set", a+".7", "up")
	run(t, "ip", "-n", ns, "link", "add", "link", b, "name", b+".7", "type", "vlan", "id", "7")
	run(t, "ip", "-n", ns, "addr", "add", vpeer.String()+"/30", "dev", b+".7")
	run(t, "ip", "-n", ns, "link", "set", b+".7", "up")
	return a, local, peer, vlocal, vpeer, true
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
	want := map[string]uint16{}
	for i := range 3 {
		msg := fmt.Sprintf("OPTIONS sip:%d@%s SIP/2.0\r\n\r\n", i, peer)
		want[msg] = 0
		send(local, peer, msg)
		if vlan {
			vmsg := fmt.Sprintf("OPTIONS sip:%d@%s SIP/2.0\r\n\r\n", i, vpeer)
			want[vmsg] = 7
			send(vlocal, vpeer, vmsg)
		}
	}
	timeout := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case r := <-results:
			if r.err != nil {
				t.Fatalf("ReadFrame: %v", r.err)
			}
			vlan, ok := want[r.dg.Payload]
			if !ok {
				continue
			}
			delete(want, r.dg.Payload)
			if r.dg.VLAN != vlan || r.dg.Transport != UDP {
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
