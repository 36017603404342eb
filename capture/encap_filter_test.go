package capture

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// filterVM loads Filter into golang.org/x/net/bpf's interpreter.
func filterVM(tb testing.TB) *bpf.VM {
	tb.Helper()
	raw := Filter()
	if len(raw) == 0 {
		tb.Fatal("empty filter")
	}
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		tb.Fatal("filter does not disassemble")
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		tb.Fatalf("NewVM: %v", err)
	}
	return vm
}

// rejectedEncap is traffic in every tunnel that the filter must keep out:
// what the decoder would skip anyway.
func rejectedEncap(tb testing.TB) []struct {
	name  string
	frame []byte
} {
	icmp := serialize(tb, ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, gopacket.Payload("reject-me"))
	icmp6 := serialize(tb, ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolICMPv6), gopacket.Payload("reject-me"))
	arp := etherT(0x0806, append(make([]byte, 19), "reject-me"...))
	lcp := etherT(etherTypePPPoESession, []byte{0x11, 0, 0x12, 0x34, 0, 11, 0xc0, 0x21, 'r', 'e', 'j', 'e', 'c', 't', '-', 'm', 'e'})
	erspan2 := &layers.GRE{Protocol: greProtoERSPAN2, SeqPresent: true, Seq: 7}
	erspan3 := &layers.GRE{Protocol: greProtoERSPAN3, SeqPresent: true, Seq: 9}
	mpls := &layers.GRE{Protocol: layers.EthernetType(0x8847)}
	return []struct {
		name  string
		frame []byte
	}{
		{"icmp in gre teb", greOver(tb, false, &layers.GRE{Protocol: greProtoTEB, KeyPresent: true, Key: 1}, ether(icmp, dot1q42))},
		{"arp in gre teb", greOver(tb, false, &layers.GRE{Protocol: greProtoTEB}, arp)},
		{"icmp in gre ipv4", greOver(tb, false, &layers.GRE{Protocol: layers.EthernetTypeIPv4, ChecksumPresent: true}, icmp)},
		{"icmp6 in gre ipv6 over ipv6", greOver(tb, true, &layers.GRE{Protocol: layers.EthernetTypeIPv6}, icmp6)},
		{"icmp in erspan i", greOver(tb, false, &layers.GRE{Protocol: greProtoERSPAN2}, ether(icmp))},
		{"icmp in erspan ii", greOver(tb, false, erspan2, append(erspan2Header(42, 3, 1, 1), ether(icmp, qinq100, dot1q42)...))},
		{"arp in erspan ii over ipv6", greOver(tb, true, erspan2, append(erspan2Header(42, 0, 1, 1), arp...))},
		{"icmp6 in erspan iii", greOver(tb, false, erspan3, append(erspan3Header(42, 1, 1, erspanFTEthernet, false), ether(icmp6)...))},
		{"icmp in erspan iii sub-header", greOver(tb, false, erspan3, append(erspan3Header(42, 1, 1, erspanFTEthernet, true), ether(icmp)...))},
		{"icmp in erspan iii ip frame", greOver(tb, false, erspan3, append(erspan3Header(0, 1, 1, erspanFTIP, false), icmp...))},
		{"erspan iii frame type 1", greOver(tb, false, erspan3, append(erspan3Header(0, 1, 1, 1, false), ether(icmp)...))},
		{"gre mpls", greOver(tb, false, mpls, make([]byte, 40))},
		{"gre version 1", greOver(tb, false, &layers.GRE{Protocol: 0x880b, Version: 1, KeyPresent: true}, make([]byte, 40))},
		{"gre routing", greOver(tb, false, &layers.GRE{Protocol: greProtoTEB, RoutingPresent: true}, ether(udpPacket(tb, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(invite))))},
		{"icmp in vxlan", vxlanOver(tb, false, ether(icmp))},
		{"arp in vxlan over ipv6", vxlanOver(tb, true, arp)},
		{"icmp in pppoe", pppoeOver(tb, icmp)},
		{"icmp6 in pppoe vlan", pppoeOver(tb, icmp6, tag7)},
		{"pppoe lcp", lcp},
		{"pppoe discovery", etherT(0x8863, make([]byte, 20))},
		{"icmp in ipip", ipInIP(tb, icmp, false)},
		{"icmp6 in ipv6 in ipv4", ipInIP(tb, icmp6, false)},
		{"icmp in ipv4 in ipv6", ipInIP(tb, icmp, true)},
		{"icmp in pppoe in vxlan", vxlanOver(tb, false, pppoeOver(tb, icmp, dot1q42))},
	}
}

func TestFilterEncapsulated(t *testing.T) {
	vm := filterVM(t)
	t.Logf("filter: %d instructions", len(Filter()))
	run := func(t *testing.T, frame []byte) int {
		t.Helper()
		n, err := vm.Run(frame)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		return n
	}
	for _, tc := range encapCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			for i, f := range tc.frames {
				if n := run(t, f); n < len(f) {
					t.Errorf("frame %d: ret %d for %d bytes", i+1, n, len(f))
				}
			}
		})
	}
	for _, tc := range rejectedEncap(t) {
		t.Run(tc.name, func(t *testing.T) {
			if n := run(t, tc.frame); n != 0 {
				t.Errorf("accepted (ret %d)", n)
			}
		})
	}
	inner := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(invite))
	icmp := serialize(t, ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, gopacket.Payload("ping"))
	big := outerIP(t, false, layers.IPProtocolGRE, serialize(t, &layers.GRE{Protocol: greProtoTEB}, gopacket.Payload(ether(icmp))))
	passed := []struct {
		name  string
		frame []byte
	}{
		// A tunnel in the tunnel: the decoder judges what it carries.
		{"gre in gre", greOver(t, false, &layers.GRE{Protocol: layers.EthernetTypeIPv4}, big)},
		{"ipip in vxlan", vxlanOver(t, false, ipInIP(t, inner, false))},
		// Later fragments carry no inner header.
		{"gre later fragment", etherOf(frag4(t, big, 16)[1])},
		// A datagram to port 4789 that is not VXLAN.
		{"udp to 4789 without i flag", etherOf(udpPacket(t, false, mirrorSrc4, mirrorDst4, 1, vxlanPort, make([]byte, 30)))},
	}
	for _, tc := range passed {
		t.Run(tc.name, func(t *testing.T) {
			if n := run(t, tc.frame); n < len(tc.frame) {
				t.Errorf("ret %d for %d bytes", n, len(tc.frame))
			}
		})
	}
}

// TestFilterCutTunnels cuts every tunnelled frame right after its outer
// IP (and UDP) header: the filter cannot see what the tunnel carries and
// must reject it, as the kernel does a load past the end.
func TestFilterCutTunnels(t *testing.T) {
	vm := filterVM(t)
	for _, tc := range encapCases(t) {
		if len(tc.frames) > 1 {
			continue // fragments of a tunnel are let through
		}
		f := tc.frames[0]
		var n int
		switch et := uint16(f[12])<<8 | uint16(f[13]); et {
		case etherTypeIPv4:
			n = ethernetHeaderLen + int(f[14]&0x0f)*4
			if f[ethernetHeaderLen+9] == protoUDP {
				n += 8
			}
		case etherTypeIPv6:
			n = ethernetHeaderLen + 40
			switch f[ethernetHeaderLen+6] {
			case protoUDP:
				n += 8
			case protoHopByHop, protoDestOpts:
				continue // let through for the decoder to judge
			}
		default: // PPPoE: cut after its header
			n = ethernetHeaderLen + pppoeHeaderLen + 2
		}
		if r, err := vm.Run(f[:n]); err != nil || r != 0 {
			t.Errorf("%s cut at %d: ret %d, %v", tc.name, n, r, err)
		}
	}
}
