package capture

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

func FuzzDecode(f *testing.F) {
	p4 := udpPacket(f, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(invite))
	p6 := udpPacket(f, true, "2001:db8::1", "2001:db8::2", 5060, 5060, []byte(invite))
	f.Add(ether(p4), uint16(layers.LinkTypeEthernet))
	f.Add(ether(p6, [2]uint16{etherTypeQinQ, 3}, [2]uint16{etherTypeDot1Q, 4}), uint16(layers.LinkTypeEthernet))
	f.Add(sll(p4), uint16(layers.LinkTypeLinuxSLL))
	f.Add(sll2(p6), uint16(layers.LinkTypeLinuxSLL2))
	f.Add(null(p4), uint16(layers.LinkTypeNull))
	f.Add(frag4(f, p4, 32)[1], uint16(layers.LinkTypeRaw))
	f.Add(frag6(f, p6, 32, 1)[0], uint16(layers.LinkTypeIPv6))
	f.Add(tcpPacket(f, "192.0.2.1", "192.0.2.2", 1, 5060, tcpSeg{seq: 1, syn: true, payload: "x"}), uint16(layers.LinkTypeIPv4))
	// Remote mirrors: every encapsulation followed, and those kept out.
	for _, tc := range encapCases(f) {
		for _, fr := range tc.frames {
			f.Add(fr, uint16(layers.LinkTypeEthernet))
		}
	}
	for _, tc := range rejectedEncap(f) {
		f.Add(tc.frame, uint16(layers.LinkTypeEthernet))
	}
	f.Fuzz(func(t *testing.T, frame []byte, link uint16) {
		d := NewDecoder(WithTCPLimits(4, 64), WithFragmentLimits(4, 4096))
		fn := func(dg *Datagram) {
			if dg.Transport != UDP && dg.Transport != TCP {
				t.Fatalf("transport %v", dg.Transport)
			}
			if len(dg.Payload) > 65535 {
				t.Fatalf("payload of %d bytes", len(dg.Payload))
			}
		}
		// Twice, to reach the retransmission and duplicate-fragment paths,
		// then once more after the state expired.
		for i := range 3 {
			_ = d.Decode(layers.LinkType(link), frame, ci(t0.Add(time.Duration(i)*time.Hour), len(frame)), fn)
			if i == 1 {
				d.Expire(t0.Add(2 * time.Hour))
			}
		}
		s := d.Stats()
		if s.FragmentBytesPending < 0 || s.FragmentsPending < 0 || s.Frames != 3 {
			t.Fatalf("stats %+v", s)
		}
	})
}
