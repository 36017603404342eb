package capture

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLiveEncapsulated sends every tunnelled frame, and the tunnelled
// traffic the filter must keep out, into one end of a veth pair and
// captures on the other with the kernel filter installed: the kernel
// accepts the program, lets the mirrors through and keeps the rest out.
func TestLiveEncapsulated(t *testing.T) {
	requireRoot(t)
	id := os.Getpid() % 100000
	a, b := fmt.Sprintf("stea%d", id), fmt.Sprintf("steb%d", id)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", a).Run() })
	run(t, "ip", "link", "add", a, "type", "veth", "peer", "name", b)
	run(t, "ip", "link", "set", a, "up")
	run(t, "ip", "link", "set", b, "up")
	waitOperUp(t, "", a)
	waitOperUp(t, "", b)

	l, err := OpenLive(a)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type seen struct {
		callID string
		vlan   uint16
		reject bool
	}
	results := make(chan seen, 256)
	go func() {
		d := NewDecoder()
		for {
			f, err := l.ReadFrame()
			if err != nil {
				close(results)
				return
			}
			if bytes.Contains(f.Data, []byte("reject-me")) {
				results <- seen{reject: true}
			}
			_ = d.Decode(f.LinkType, f.Data, f.Info, func(dg *Datagram) {
				_, rest, ok := strings.Cut(string(dg.Payload), "Call-ID: ")
				if ok {
					id, _, _ := strings.Cut(rest, "\r\n")
					results <- seen{callID: id, vlan: dg.VLAN}
				}
			})
		}
	}()

	ifc, err := net.InterfaceByName(b)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	send := func(frame []byte) {
		sa := &unix.SockaddrLinklayer{Ifindex: ifc.Index, Halen: 6}
		copy(sa.Addr[:], frame[:6])
		if err := unix.Sendto(fd, frame, 0, sa); err != nil {
			t.Fatalf("send: %v", err)
		}
	}

	cases := encapCases(t)
	want := map[string]uint16{}
	for _, tc := range cases {
		bare, _ := decodeAll(t, tc.bare)
		want[tc.callID] = bare[0].VLAN
	}
	rejected := rejectedEncap(t)
	end := ether(udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, sipInvite("end@encap")))
	// What is not seen yet is sent again: the first frames may be lost
	// while the pair comes up.
	sendAll := func() {
		for _, r := range rejected {
			send(r.frame)
		}
		for _, tc := range cases {
			if _, missing := want[tc.callID]; missing {
				for _, f := range tc.frames {
					send(f)
				}
			}
		}
		send(end)
	}
	sendAll()
	resend := time.NewTicker(500 * time.Millisecond)
	defer resend.Stop()
	timeout := time.After(10 * time.Second)
	ended := false
	for len(want) > 0 || !ended {
		select {
		case <-resend.C:
			sendAll()
		case r, ok := <-results:
			switch {
			case !ok:
				t.Fatal("capture ended")
			case r.reject:
				t.Fatal("the kernel filter let a frame marked reject-me through")
			case r.callID == "end@encap":
				// Frames arrive in order: everything sent before it was
				// seen or filtered out.
				ended = len(want) == 0
			default:
				if v, ok := want[r.callID]; ok && v != r.vlan {
					t.Errorf("%s: vlan %d, want %d", r.callID, r.vlan, v)
				}
				delete(want, r.callID)
			}
		case <-timeout:
			t.Fatalf("not captured: %v", want)
		}
	}
}
