package capture

import (
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

// Filter returns the classic BPF program the live capture installs in the
// kernel: it accepts Ethernet frames carrying UDP or TCP over IPv4 or IPv6,
// untagged or with one or two VLAN tags (0x8100, 0x88a8, 0x9100), and every
// IPv4 fragment of such a datagram (the protocol field is in every fragment)
// and every IPv6 packet whose next header is Fragment. It never looks at
// ports: later fragments carry no UDP header and RTP ports are dynamic.
// ARP, ICMP and all else are rejected.
func Filter() []bpf.RawInstruction {
	// Registers: X holds the bytes of VLAN tags seen (0, 4 or 8), A the
	// ethertype after them.
	prog := []step{
		{ins: bpf.LoadConstant{Dst: bpf.RegX, Val: 0}},
		{ins: bpf.LoadAbsolute{Off: 12, Size: 2}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeDot1Q}, t: "tag1"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeQinQ}, t: "tag1"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherType9100}, t: "tag1", f: "l3"},
		{label: "tag1", ins: bpf.LoadConstant{Dst: bpf.RegX, Val: 4}},
		{ins: bpf.LoadAbsolute{Off: 16, Size: 2}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeDot1Q}, t: "tag2"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeQinQ}, t: "tag2"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherType9100}, t: "tag2", f: "l3"},
		{label: "tag2", ins: bpf.LoadConstant{Dst: bpf.RegX, Val: 8}},
		{ins: bpf.LoadAbsolute{Off: 20, Size: 2}},
		{label: "l3", ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeIPv4}, f: "v6"},
		// IPv4 protocol: 14 (Ethernet) + 9.
		{ins: bpf.LoadIndirect{Off: 23, Size: 1}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoUDP}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoTCP}, t: "accept", f: "reject"},
		{label: "v6", ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeIPv6}, f: "reject"},
		// IPv6 next header: 14 (Ethernet) + 6. Hop-by-hop and destination
		// options may come before UDP (RFC 8200 4.1): let the decoder judge.
		{ins: bpf.LoadIndirect{Off: 20, Size: 1}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoUDP}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoTCP}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoFragment}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoHopByHop}, t: "accept"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoDestOpts}, t: "accept", f: "reject"},
		{label: "reject", ins: bpf.RetConstant{Val: 0}},
		{label: "accept", ins: bpf.RetConstant{Val: filterAccept}},
	}
	return assemble(prog)
}

// step is one filter instruction; t and f name the labels a JumpIf goes to
// when true and false ("" is the next instruction).
type step struct {
	label string
	ins   bpf.Instruction
	t, f  string
}

// assemble resolves labels to relative skips and assembles the program.
// The program is a constant written above: a bad label or skip is a bug
// that the filter tests catch, so assembly errors yield an empty program.
func assemble(prog []step) []bpf.RawInstruction {
	at := make(map[string]int, len(prog))
	for i, s := range prog {
		if s.label != "" {
			at[s.label] = i
		}
	}
	skip := func(from int, label string) uint8 {
		if label == "" {
			return 0
		}
		return uint8(at[label] - from - 1) //nolint:gosec // G115: the program is shorter than 256 instructions
	}
	ins := make([]bpf.Instruction, len(prog))
	for i, s := range prog {
		if j, ok := s.ins.(bpf.JumpIf); ok {
			j.SkipTrue, j.SkipFalse = skip(i, s.t), skip(i, s.f)
			ins[i] = j
			continue
		}
		ins[i] = s.ins
	}
	raw, err := bpf.Assemble(ins)
	if err != nil {
		return nil
	}
	return raw
}
