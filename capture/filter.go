package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// Ethertypes and IP protocol numbers the kernel filter looks at.
const (
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86dd
	etherTypeDot1Q = 0x8100 // IEEE 802.1Q
	etherTypeQinQ  = 0x88a8 // IEEE 802.1ad service tag
	etherType9100  = 0x9100 // pre-standard QinQ outer tag

	protoHopByHop = 0
	protoTCP      = 6
	protoUDP      = 17
	protoFragment = 44
	protoDestOpts = 60
)

// filterAccept is what the filter returns for an accepted frame: the most
// bytes to keep, so that the socket's own capture length decides.
const filterAccept = 0xffffffff

// Scratch memory slots of the filter.
const (
	memProto = iota // IP protocol / next header of the outer packet
	memGREFlags
	memGREProto
	memWord // a value kept while X is moved
)

// Filter returns the classic BPF program the live capture installs in the
// kernel: it accepts Ethernet frames carrying UDP or TCP over IPv4 or IPv6,
// untagged or with one or two VLAN tags (0x8100, 0x88a8, 0x9100), in a
// PPPoE session or not, and every IPv4 fragment of such a datagram (the
// protocol field is in every fragment) and every IPv6 packet whose next
// header is Fragment. It never looks at ports but VXLAN's: later fragments
// carry no UDP header and RTP ports are dynamic.
//
// A remote mirror arrives in a tunnel: GRE (ERSPAN I, II and III,
// transparent Ethernet bridging, IP), VXLAN (UDP 4789) or IP-in-IP (4, 41
// over IPv4 or IPv6). The filter looks through one tunnel and applies the
// same test to the inner frame, so that a mirror of ARP or ICMP stays out;
// a tunnel inside the tunnel, and every fragment of a tunnel packet (later
// ones carry no inner header), are let through for the decoder to judge.
// ARP, ICMP and all else are rejected.
func Filter() []bpf.RawInstruction {
	// X holds the offset of the header being looked at; A the value tested.
	// Outer frame: Ethernet, then the outer IP packet, which may lead to a
	// tunnel; the inner frame's blocks come after the tunnels' (classic BPF
	// only jumps forward) and do not lead to tunnels again.
	prog := []step{{ins: bpf.LoadConstant{Dst: bpf.RegX, Val: 0}}}
	prog = append(prog, ethernetSteps("o", "o4", "o6")...)
	prog = append(prog, outerIPv4Steps()...)
	prog = append(prog, outerIPv6Steps()...)
	prog = append(prog, tunnelSteps()...)
	prog = append(prog, ethernetSteps("i", "i4", "i6")...)
	prog = append(prog, innerIPSteps()...)
	prog = append(prog,
		step{label: "reject", ins: bpf.RetConstant{Val: 0}},
		step{label: "accept", ins: bpf.RetConstant{Val: filterAccept}},
	)
	return assemble(prog)
}

// addX advances X by n bytes. It clobbers A.
func addX(label string, n uint32) []step {
	return []step{
		{label: label, ins: bpf.TXA{}},
		{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: n}},
		{ins: bpf.TAX{}},
	}
}

// loadAndSkip loads the half-word at X+off into A and advances X by n,
// keeping A.
func loadAndSkip(label string, off, n uint32) []step {
	return append(append([]step{
		{label: label, ins: bpf.LoadIndirect{Off: off, Size: 2}},
		{ins: bpf.StoreScratch{Src: bpf.RegA, N: memWord}},
	}, addX("", n)...),
		step{ins: bpf.LoadScratch{Dst: bpf.RegA, N: memWord}},
	)
}

// ethernetSteps tests an Ethernet frame at X: up to two VLAN tags, and a
// PPPoE session header, then jumps to v4 or v6 with X at the IP header.
// Labels are prefixed with p.
func ethernetSteps(p, v4, v6 string) []step {
	isTag := func(yes, no string) []step {
		return []step{
			{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeDot1Q}, t: yes},
			{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeQinQ}, t: yes},
			{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherType9100}, t: yes, f: no},
		}
	}
	var s []step
	s = append(s, loadAndSkip(p+"eth", 12, ethernetHeaderLen)...)
	s = append(s, isTag(p+"tag1", p+"l2")...)
	s = append(s, loadAndSkip(p+"tag1", 2, vlanTagLen)...)
	s = append(s, isTag(p+"tag2", p+"l2")...)
	s = append(s, loadAndSkip(p+"tag2", 2, vlanTagLen)...)
	s = append(s,
		step{label: p + "l2", ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeIPv4}, t: v4},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeIPv6}, t: v6},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypePPPoESession}, f: "reject"},
	)
	// PPPoE: 6 bytes of header, then the PPP protocol.
	s = append(s, loadAndSkip(p+"pppoe", pppoeHeaderLen, pppoeHeaderLen+2)...)
	s = append(s,
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: pppIPv4}, t: v4},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: pppIPv6}, t: v6, f: "reject"},
	)
	return s
}

// ipv4HeaderToX advances X past the IPv4 header at X (IHL words).
func ipv4HeaderToX() []step {
	return []step{
		{ins: bpf.LoadIndirect{Off: 0, Size: 1}},
		{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0f}},
		{ins: bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2}},
		{ins: bpf.ALUOpX{Op: bpf.ALUOpAdd}},
		{ins: bpf.TAX{}},
	}
}

// outerIPv4Steps test the outer IPv4 packet at X: UDP (unless to VXLAN's
// port) and TCP are accepted, tunnels go to "tun" with X past the header.
func outerIPv4Steps() []step {
	s := []step{
		{label: "o4", ins: bpf.LoadIndirect{Off: 9, Size: 1}},
		{ins: bpf.StoreScratch{Src: bpf.RegA, N: memProto}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoTCP}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoUDP}, t: "o4udp"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoGRE}, t: "o4tun"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoIPIP}, t: "o4tun"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoIPv6Encap}, t: "o4tun", f: "reject"},
		// A fragment other than the first has no UDP header to look at.
		{label: "o4udp", ins: bpf.LoadIndirect{Off: 6, Size: 2}},
		{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff}, t: "accept"},
	}
	s = append(s, ipv4HeaderToX()...)
	s = append(s,
		step{ins: bpf.LoadIndirect{Off: 2, Size: 2}},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: vxlanPort}, t: "vxlan", f: "accept"},
		// Any fragment of a tunnel packet: the decoder reassembles it.
		step{label: "o4tun", ins: bpf.LoadIndirect{Off: 6, Size: 2}},
		step{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x3fff}, t: "accept"},
	)
	s = append(s, ipv4HeaderToX()...)
	return append(s, step{ins: bpf.Jump{}, t: "tun"})
}

// outerIPv6Steps test the outer IPv6 packet at X. Hop-by-hop and
// destination options may come before UDP (RFC 8200 4.1), and fragments
// hide what they carry: those are let through for the decoder to judge.
func outerIPv6Steps() []step {
	s := []step{
		{label: "o6", ins: bpf.LoadIndirect{Off: 6, Size: 1}},
		{ins: bpf.StoreScratch{Src: bpf.RegA, N: memProto}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoTCP}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoUDP}, t: "o6udp"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoFragment}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoHopByHop}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoDestOpts}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoGRE}, t: "o6tun"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoIPIP}, t: "o6tun"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoIPv6Encap}, t: "o6tun", f: "reject"},
		{label: "o6udp", ins: bpf.LoadIndirect{Off: 40 + 2, Size: 2}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: vxlanPort}, f: "accept"},
		{ins: bpf.TXA{}},
		{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 40}},
		{ins: bpf.TAX{}},
		{ins: bpf.Jump{}, t: "vxlan"},
	}
	s = append(s, addX("o6tun", 40)...)
	return append(s, step{ins: bpf.Jump{}, t: "tun"})
}

// tunnelSteps find the inner frame of a tunnel: "tun" with X at the
// payload of an IP packet of protocol memProto, "vxlan" with X at a UDP
// header. They jump to "ieth" (an Ethernet frame at X), "i4", "i6" or
// "iip" (an IP packet at X, by its version).
func tunnelSteps() []step {
	s := []step{
		{label: "tun", ins: bpf.LoadScratch{Dst: bpf.RegA, N: memProto}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoIPIP}, t: "i4"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoIPv6Encap}, t: "i6"},
		// GRE: version 0 without routing, 4 bytes more per C, K and S bit.
		{ins: bpf.LoadIndirect{Off: 0, Size: 2}},
		{ins: bpf.StoreScratch{Src: bpf.RegA, N: memGREFlags}},
		{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: greFlagRouting | greVersionMask}, t: "reject"},
	}
	s = append(s, loadAndSkip("", 2, greHeaderLen)...)
	s = append(s, step{ins: bpf.StoreScratch{Src: bpf.RegA, N: memGREProto}})
	for i, f := range []uint32{greFlagChecksum, greFlagKey, greFlagSeq} {
		skip := fmt.Sprintf("gre%d", i)
		s = append(s,
			step{ins: bpf.LoadScratch{Dst: bpf.RegA, N: memGREFlags}},
			step{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: f}, f: skip},
		)
		s = append(s, addX("", 4)...)
		s = append(s, step{label: skip, ins: bpf.LoadScratch{Dst: bpf.RegA, N: memGREProto}})
	}
	s = append(s,
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeIPv4}, t: "i4"},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeIPv6}, t: "i6"},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: greProtoTEB}, t: "ieth"},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: greProtoERSPAN3}, t: "erspan3"},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: greProtoERSPAN2}, f: "reject"},
		// ERSPAN type I has no sequence number and no header of its own.
		step{ins: bpf.LoadScratch{Dst: bpf.RegA, N: memGREFlags}},
		step{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: greFlagSeq}, f: "ieth"},
	)
	s = append(s, addX("", erspan2HeaderLen)...)
	s = append(s,
		step{ins: bpf.Jump{}, t: "ieth"},
		// ERSPAN III: the frame type, then the header and the optional
		// platform-specific sub-header.
		step{label: "erspan3", ins: bpf.LoadIndirect{Off: 10, Size: 1}},
		step{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x1f << 2}},
		step{ins: bpf.StoreScratch{Src: bpf.RegA, N: memWord}},
		step{ins: bpf.LoadIndirect{Off: 11, Size: 1}},
		step{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 1}, f: "e3hdr"},
	)
	s = append(s, addX("", erspan3SubLen)...)
	s = append(s, addX("e3hdr", erspan3HeaderLen)...)
	s = append(s,
		step{ins: bpf.LoadScratch{Dst: bpf.RegA, N: memWord}},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: erspanFTEthernet << 2}, t: "ieth"},
		step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: erspanFTIP << 2}, t: "iip", f: "reject"},
		// VXLAN: the UDP header, then 8 bytes with the I flag.
		step{label: "vxlan", ins: bpf.LoadIndirect{Off: 8, Size: 1}},
		step{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: vxlanFlagI}, f: "accept"},
	)
	s = append(s, addX("", 8+vxlanHeaderLen)...)
	return append(s, step{ins: bpf.Jump{}, t: "ieth"})
}

// innerIPSteps test the IP packet a tunnel carries, at X: UDP and TCP are
// accepted, and a further tunnel or what may hide one (fragments, IPv6
// options) is let through for the decoder.
func innerIPSteps() []step {
	s := []step{
		{label: "iip", ins: bpf.LoadIndirect{Off: 0, Size: 1}},
		{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x40}, t: "i4"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x60}, t: "i6", f: "reject"},
		{label: "i4", ins: bpf.LoadIndirect{Off: 9, Size: 1}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoUDP}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoTCP}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoGRE}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoIPIP}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoIPv6Encap}, t: "accept", f: "reject"},
		{label: "i6", ins: bpf.LoadIndirect{Off: 6, Size: 1}},
	}
	for _, p := range []uint32{protoUDP, protoTCP, protoFragment, protoHopByHop, protoDestOpts, protoGRE, protoIPIP} {
		s = append(s, step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: p}, t: "accept"})
	}
	return append(s, step{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoIPv6Encap}, t: "accept", f: "reject"})
}

// step is one filter instruction; t and f name the labels a JumpIf goes to
// when true and false, t the one a Jump goes to ("" is the next
// instruction).
type step struct {
	label string
	ins   bpf.Instruction
	t, f  string
}

// assemble resolves labels to relative skips and assembles the program.
// The program is a constant written above: a missing label, a backward
// jump or one too far for classic BPF's 8-bit skips is a bug that the
// filter tests catch, so such errors yield an empty program.
func assemble(prog []step) []bpf.RawInstruction {
	at := make(map[string]int, len(prog))
	for i, s := range prog {
		if s.label != "" {
			at[s.label] = i
		}
	}
	ok := true
	skip := func(from int, label string) uint32 {
		if label == "" {
			return 0
		}
		to, found := at[label]
		n := to - from - 1
		_, long := prog[from].ins.(bpf.Jump)
		if !found || n < 0 || (n > 0xff && !long) {
			ok = false
			return 0
		}
		return uint32(n) //nolint:gosec // G115: checked above
	}
	ins := make([]bpf.Instruction, len(prog))
	for i, s := range prog {
		switch j := s.ins.(type) {
		case bpf.JumpIf:
			j.SkipTrue, j.SkipFalse = uint8(skip(i, s.t)), uint8(skip(i, s.f)) //nolint:gosec // G115: checked in skip
			ins[i] = j
		case bpf.Jump:
			j.Skip = skip(i, s.t)
			ins[i] = j
		default:
			ins[i] = s.ins
		}
	}
	if !ok {
		return nil
	}
	raw, err := bpf.Assemble(ins)
	if err != nil {
		return nil
	}
	return raw
}
