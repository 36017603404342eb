package capture

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

func TestFilter(t *testing.T) {
	raw := Filter()
	if len(raw) == 0 {
		t.Fatal("empty filter")
	}
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("filter does not disassemble")
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	sip := []byte("INVITE sip:100@192.0.2.2 SIP/2.0\r\n")
	udp4 := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, sip)
	udp6 := udpPacket(t, true, "2001:db8::1", "2001:db8::2", 5060, 5060, sip)
	tcp4 := tcpPacket(t, "192.0.2.1", "192.0.2.2", 40000, 5060, tcpSeg{seq: 1, payload: "x"})
	big := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, make([]byte, 100))
	fr4 := frag4(t, big, 48)
	big6 := udpPacket(t, true, "2001:db8::1", "2001:db8::2", 5060, 5060, make([]byte, 100))
	fr6 := frag6(t, big6, 48, 7)
	ip6h := ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolTCP)
	tcp6l := &layers.TCP{SrcPort: 1, DstPort: 2, Seq: 1}
	_ = tcp6l.SetNetworkLayerForChecksum(ip6h)
	tcp6 := serialize(t, ip6h, tcp6l, gopacket.Payload("x"))
	icmp4 := serialize(t, ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, gopacket.Payload("ping"))
	icmp6 := serialize(t, ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolICMPv6), gopacket.Payload("12345678"))
	arp := serialize(t,
		&layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: 1, SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: []byte{192, 0, 2, 1},
			DstHwAddress: make([]byte, 6), DstProtAddress: []byte{192, 0, 2, 2}})
	dot1q := [2]uint16{etherTypeDot1Q, 10}
	qinq := [2]uint16{etherTypeQinQ, 100}
	old := [2]uint16{etherType9100, 200}

	tests := []struct {
		name  string
		frame []byte
		want  bool
	}{
		{"udp4", ether(udp4), true},
		{"udp6", ether(udp6), true},
		{"tcp4", ether(tcp4), true},
		{"tcp6", ether(tcp6), true},
		{"udp4 vlan", ether(udp4, dot1q), true},
		{"udp6 vlan", ether(udp6, dot1q), true},
		{"udp4 qinq 88a8", ether(udp4, qinq, dot1q), true},
		{"udp6 qinq 9100", ether(udp6, old, dot1q), true},
		{"tcp4 qinq", ether(tcp4, qinq, dot1q), true},
		{"ipv4 first fragment", ether(fr4[0]), true},
		{"ipv4 later fragment", ether(fr4[1]), true},
		{"ipv4 last fragment vlan", ether(fr4[len(fr4)-1], dot1q), true},
		{"ipv6 fragment", ether(fr6[1]), true},
		{"ipv6 fragment qinq", ether(fr6[0], qinq, dot1q), true},
		{"arp", arp, false},
		{"icmp4", ether(icmp4), false},
		{"icmp4 vlan", ether(icmp4, dot1q), false},
		{"icmp6", ether(icmp6), false},
		{"icmp6 qinq", ether(icmp6, qinq, dot1q), false},
		{"three tags", ether(udp4, qinq, dot1q, dot1q), false},
		{"short", []byte{1, 2, 3}, false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := vm.Run(tc.frame)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if accepted := n > 0; accepted != tc.want {
				t.Errorf("accepted = %v (ret %d), want %v", accepted, n, tc.want)
			}
			if tc.want && n < len(tc.frame) {
				t.Errorf("keeps %d of %d bytes", n, len(tc.frame))
			}
		})
	}
}
