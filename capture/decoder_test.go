package capture

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

const invite = "INVITE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\n\r\n"

func TestDecodeUDP(t *testing.T) {
	p4 := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5062, []byte(invite))
	p6 := udpPacket(t, true, "2001:db8::1", "2001:db8::2", 5060, 5062, []byte(invite))
	src4, dst4 := netip.MustParseAddrPort("192.0.2.1:5060"), netip.MustParseAddrPort("192.0.2.2:5062")
	src6, dst6 := netip.MustParseAddrPort("[2001:db8::1]:5060"), netip.MustParseAddrPort("[2001:db8::2]:5062")
	tests := []struct {
		name     string
		link     layers.LinkType
		frame    []byte
		src, dst netip.AddrPort
		vlan     uint16
	}{
		{"ethernet v4", layers.LinkTypeEthernet, ether(p4), src4, dst4, 0},
		{"ethernet v6", layers.LinkTypeEthernet, ether(p6), src6, dst6, 0},
		{"vlan v4", layers.LinkTypeEthernet, ether(p4, [2]uint16{etherTypeDot1Q, 42}), src4, dst4, 42},
		{"vlan v6 with priority bits", layers.LinkTypeEthernet, ether(p6, [2]uint16{etherTypeDot1Q, 0xe000 | 42}), src6, dst6, 42},
		{"qinq 88a8", layers.LinkTypeEthernet, ether(p4, [2]uint16{etherTypeQinQ, 100}, [2]uint16{etherTypeDot1Q, 42}), src4, dst4, 100},
		{"qinq 9100 v6", layers.LinkTypeEthernet, ether(p6, [2]uint16{etherType9100, 7}, [2]uint16{etherTypeDot1Q, 42}), src6, dst6, 7},
		{"sll v4", layers.LinkTypeLinuxSLL, sll(p4), src4, dst4, 0},
		{"sll v6", layers.LinkTypeLinuxSLL, sll(p6), src6, dst6, 0},
		{"sll2 v4", layers.LinkTypeLinuxSLL2, sll2(p4), src4, dst4, 0},
		{"sll2 v6", layers.LinkTypeLinuxSLL2, sll2(p6), src6, dst6, 0},
		{"raw 101 v4", layers.LinkTypeRaw, p4, src4, dst4, 0},
		{"raw 101 v6", layers.LinkTypeRaw, p6, src6, dst6, 0},
		{"dlt raw 12", layers.LinkType(12), p4, src4, dst4, 0},
		{"dlt raw 14", layers.LinkType(14), p6, src6, dst6, 0},
		{"ipv4 228", layers.LinkTypeIPv4, p4, src4, dst4, 0},
		{"ipv6 229", layers.LinkTypeIPv6, p6, src6, dst6, 0},
		{"null v4", layers.LinkTypeNull, null(p4), src4, dst4, 0},
		{"null v6", layers.LinkTypeNull, null(p6), src6, dst6, 0},
		{"ethernet padded", layers.LinkTypeEthernet, append(ether(p4), 0, 0, 0, 0), src4, dst4, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			var out []got
			if err := d.Decode(tc.link, tc.frame, ci(t0, len(tc.frame)), collect(&out)); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(out) != 1 {
				t.Fatalf("got %d datagrams, want 1", len(out))
			}
			g := out[0]
			want := got{Time: t0, Src: tc.src, Dst: tc.dst, Transport: UDP, VLAN: tc.vlan, Payload: invite}
			if g != want {
				t.Errorf("got %+v\nwant %+v", g, want)
			}
			if s := d.Stats(); s.Frames != 1 || s.UDP != 1 || s.Datagrams != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestDecodeSkipsOtherTraffic(t *testing.T) {
	icmp := serialize(t, ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, gopacket.Payload("ping"))
	arp := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, make([]byte, 28)...)
	tests := []struct {
		name  string
		link  layers.LinkType
		frame []byte
	}{
		{"arp", layers.LinkTypeEthernet, arp},
		{"icmp", layers.LinkTypeEthernet, ether(icmp)},
		{"sll unknown protocol", layers.LinkTypeLinuxSLL, append(make([]byte, 15), 4, 1, 2)},
		{"null unknown family", layers.LinkTypeNull, []byte{99, 0, 0, 0, 1, 2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			var out []got
			if err := d.Decode(tc.link, tc.frame, ci(t0, len(tc.frame)), collect(&out)); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(out) != 0 {
				t.Errorf("got %d datagrams", len(out))
			}
			if s := d.Stats(); s.Skipped != 1 {
				t.Errorf("skipped = %d, want 1", s.Skipped)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	p4 := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(invite))
	p6 := udpPacket(t, true, "2001:db8::1", "2001:db8::2", 5060, 5060, []byte(invite))
	badIHL := append([]byte(nil), p4...)
	badIHL[0] = 0x43
	badUDPLen := append([]byte(nil), p4...)
	badUDPLen[24], badUDPLen[25] = 0, 3 // UDP length 3 < 8
	tests := []struct {
		name   string
		link   layers.LinkType
		frame  []byte
		want   error
		reason string
	}{
		{"empty ethernet", layers.LinkTypeEthernet, nil, ErrTruncated, ReasonTruncated},
		{"short ethernet", layers.LinkTypeEthernet, []byte{1, 2, 3}, ErrTruncated, ReasonTruncated},
		{"vlan tag cut", layers.LinkTypeEthernet, ether(nil, [2]uint16{etherTypeDot1Q, 1})[:16], ErrTruncated, ReasonTruncated},
		{"ipv4 cut in header", layers.LinkTypeEthernet, ether(p4)[:20], ErrTruncated, ReasonTruncated},
		{"ipv4 cut in payload", layers.LinkTypeEthernet, ether(p4)[:60], ErrTruncated, ReasonTruncated},
		{"ipv6 cut in payload", layers.LinkTypeEthernet, ether(p6)[:70], ErrTruncated, ReasonTruncated},
		{"ipv4 bad ihl", layers.LinkTypeEthernet, ether(badIHL), ErrMalformed, ReasonMalformed},
		{"udp bad length", layers.LinkTypeEthernet, ether(badUDPLen), ErrMalformed, ReasonMalformed},
		{"raw bad version", layers.LinkTypeRaw, []byte{0x55, 1, 2, 3}, ErrMalformed, ReasonMalformed},
		{"raw empty", layers.LinkTypeRaw, nil, ErrTruncated, ReasonTruncated},
		{"sll short", layers.LinkTypeLinuxSLL, make([]byte, 10), ErrTruncated, ReasonTruncated},
		{"sll2 short", layers.LinkTypeLinuxSLL2, make([]byte, 10), ErrTruncated, ReasonTruncated},
		{"null short", layers.LinkTypeNull, []byte{2}, ErrTruncated, ReasonTruncated},
		{"unsupported link", layers.LinkTypeIEEE802_11, p4, ErrUnsupportedLink, ReasonUnsupportedLink},
		{"garbage", layers.LinkTypeEthernet, []byte(strings.Repeat("\xff\x00garbage", 10)), nil, ""},
		{"garbage claiming ipv4", layers.LinkTypeEthernet, append(make([]byte, 12), 0x08, 0x00, 0x45, 0xff, 0xff, 0xff), ErrTruncated, ReasonTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			var out []got
			err := d.Decode(tc.link, tc.frame, ci(t0, len(tc.frame)), collect(&out))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(out) != 0 {
				t.Errorf("delivered %d datagrams", len(out))
			}
			if tc.reason != "" {
				if n := d.Stats().Undecodable[tc.reason]; n != 1 {
					t.Errorf("undecodable[%s] = %d, want 1 (%v)", tc.reason, n, d.Stats().Undecodable)
				}
			}
		})
	}
}

func TestDecodeIPv4Fragments(t *testing.T) {
	body := invite + strings.Repeat("a=x-filler:0123456789\r\n", 40)
	p := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(body))
	frags := frag4(t, p, 256)
	if len(frags) < 3 {
		t.Fatalf("only %d fragments", len(frags))
	}
	orders := map[string][]int{"in order": {}, "reversed": {}, "middle first": {}}
	for i := range frags {
		orders["in order"] = append(orders["in order"], i)
		orders["reversed"] = append(orders["reversed"], len(frags)-1-i)
	}
	orders["middle first"] = append([]int{1, len(frags) - 1}, 0)
	for i := 2; i < len(frags)-1; i++ {
		orders["middle first"] = append(orders["middle first"], i)
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			d := NewDecoder()
			var out []got
			for i, fi := range order {
				at := t0.Add(time.Duration(i) * time.Millisecond)
				f := ether(frags[fi], [2]uint16{etherTypeDot1Q, 5})
				if err := d.Decode(layers.LinkTypeEthernet, f, ci(at, len(f)), collect(&out)); err != nil {
					t.Fatalf("fragment %d: %v", fi, err)
				}
				if i < len(order)-1 && len(out) != 0 {
					t.Fatalf("delivered after %d of %d fragments", i+1, len(order))
				}
			}
			if len(out) != 1 {
				t.Fatalf("got %d datagrams, want 1", len(out))
			}
			last := t0.Add(time.Duration(len(order)-1) * time.Millisecond)
			if g := out[0]; g.Payload != body || !g.Time.Equal(last) || g.VLAN != 5 || g.Transport != UDP ||
				g.Src != netip.MustParseAddrPort("192.0.2.1:5060") {
				t.Errorf("got %+v (payload %d bytes, want %d)", g, len(g.Payload), len(body))
			}
			s := d.Stats()
			if s.FragmentsReassembled != 1 || s.FragmentsPending != 0 || s.FragmentBytesPending != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestDecodeIPv6Fragments(t *testing.T) {
	body := invite + strings.Repeat("a=x-filler:0123456789\r\n", 40)
	p := udpPacket(t, true, "2001:db8::1", "2001:db8::2", 5060, 5060, []byte(body))
	frags := frag6(t, p, 400, 99)
	for _, reverse := range []bool{false, true} {
		t.Run(map[bool]string{false: "in order", true: "reversed"}[reverse], func(t *testing.T) {
			d := NewDecoder()
			var out []got
			for i := range frags {
				fi := i
				if reverse {
					fi = len(frags) - 1 - i
				}
				f := sll(frags[fi])
				if err := d.Decode(layers.LinkTypeLinuxSLL, f, ci(t0.Add(time.Duration(i)*time.Second), len(f)), collect(&out)); err != nil {
					t.Fatal(err)
				}
			}
			if len(out) != 1 {
				t.Fatalf("got %d datagrams, want 1", len(out))
			}
			g := out[0]
			if g.Payload != body || !g.Time.Equal(t0.Add(time.Duration(len(frags)-1)*time.Second)) ||
				g.Dst != netip.MustParseAddrPort("[2001:db8::2]:5060") {
				t.Errorf("got %+v", g)
			}
			if s := d.Stats(); s.FragmentsReassembled != 1 || s.FragmentsPending != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestDecodeFragmentLimitsAndExpiry(t *testing.T) {
	body := strings.Repeat("x", 600)
	first := func(id uint16, v6 bool) []byte {
		if v6 {
			p := udpPacket(t, true, "2001:db8::1", "2001:db8::2", 5060, 5060, []byte(body))
			return frag6(t, p, 256, uint32(id))[0]
		}
		p := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(body))
		p[4], p[5] = byte(id>>8), byte(id)
		return frag4(t, p, 256)[0]
	}
	t.Run("datagram limit", func(t *testing.T) {
		d := NewDecoder(WithFragmentLimits(2, 1<<20))
		for i := range 3 {
			f := ether(first(uint16(i+1), false))
			if err := d.Decode(layers.LinkTypeEthernet, f, ci(t0.Add(time.Duration(i)*time.Second), len(f)), collect(new([]got))); err != nil {
				t.Fatal(err)
			}
		}
		if s := d.Stats(); s.FragmentsPending != 2 || s.FragmentsDropped != 1 {
			t.Errorf("pending %d dropped %d, want 2 and 1", s.FragmentsPending, s.FragmentsDropped)
		}
	})
	t.Run("byte limit", func(t *testing.T) {
		d := NewDecoder(WithFragmentLimits(100, 600))
		for i := range 3 {
			f := ether(first(uint16(i+1), i == 2))
			if err := d.Decode(layers.LinkTypeEthernet, f, ci(t0.Add(time.Duration(i)*time.Second), len(f)), collect(new([]got))); err != nil {
				t.Fatal(err)
			}
		}
		s := d.Stats()
		if s.FragmentBytesPending > 600 || s.FragmentsDropped == 0 {
			t.Errorf("pending %d bytes, dropped %d", s.FragmentBytesPending, s.FragmentsDropped)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		d := NewDecoder(WithFragmentTimeout(10 * time.Second))
		for i, v6 := range []bool{false, true} {
			f := ether(first(1, v6))
			if err := d.Decode(layers.LinkTypeEthernet, f, ci(t0.Add(time.Duration(i)*time.Second), len(f)), collect(new([]got))); err != nil {
				t.Fatal(err)
			}
		}
		d.Expire(t0.Add(5 * time.Second))
		if s := d.Stats(); s.FragmentsPending != 2 {
			t.Fatalf("pending %d after early expire", s.FragmentsPending)
		}
		d.Expire(t0.Add(30 * time.Second))
		if s := d.Stats(); s.FragmentsPending != 0 || s.FragmentsDropped != 2 || s.FragmentBytesPending != 0 {
			t.Errorf("after expiry: %+v", s)
		}
		// The rest of the expired datagram must not complete anything.
		p := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(body))
		p[4], p[5] = 0, 1
		var out []got
		for _, f := range frag4(t, p, 256)[1:] {
			f = ether(f)
			_ = d.Decode(layers.LinkTypeEthernet, f, ci(t0.Add(31*time.Second), len(f)), collect(&out))
		}
		if len(out) != 0 {
			t.Errorf("expired datagram completed: %+v", out)
		}
	})
	t.Run("overlap rejected", func(t *testing.T) {
		d := NewDecoder()
		p := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(body))
		frags := frag4(t, p, 256)
		// [128, 384) overlaps the first fragment [0, 256) with other bytes.
		bh := ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolUDP)
		bh.Flags, bh.FragOffset = layers.IPv4MoreFragments, 16
		bad := serialize(t, bh, gopacket.Payload(make([]byte, 256)))
		var err error
		for _, f := range [][]byte{frags[0], bad} {
			f = ether(f)
			err = d.Decode(layers.LinkTypeEthernet, f, ci(t0, len(f)), collect(new([]got)))
		}
		if !errors.Is(err, ErrFragment) {
			t.Errorf("err = %v, want ErrFragment", err)
		}
	})
}

// tcpRun feeds segments of one direction (192.0.2.1:40000 > 192.0.2.2:5060)
// one millisecond apart and returns what was delivered.
func tcpRun(t *testing.T, d *Decoder, segs []tcpSeg) []got {
	t.Helper()
	var out []got
	for i, s := range segs {
		f := ether(tcpPacket(t, "192.0.2.1", "192.0.2.2", 40000, 5060, s))
		if err := d.Decode(layers.LinkTypeEthernet, f, ci(t0.Add(time.Duration(i)*time.Millisecond), len(f)), collect(&out)); err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
	}
	return out
}

func TestDecodeTCP(t *testing.T) {
	var isn uint32 = 0xfffffff0 // sequence numbers wrap within the tests
	ms := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }
	tests := []struct {
		name string
		opts []DecoderOption
		segs []tcpSeg
		want []got // Src, Dst and Transport are filled in
	}{
		{
			name: "two messages in one segment",
			segs: []tcpSeg{{seq: isn, syn: true}, {seq: isn + 1, payload: "MSG1\r\n\r\nMSG2\r\n\r\n"}},
			want: []got{{Time: ms(1), Payload: "MSG1\r\n\r\nMSG2\r\n\r\n", Start: true}},
		},
		{
			name: "one message in three segments",
			segs: []tcpSeg{{seq: isn, syn: true}, {seq: isn + 1, payload: "INVITE "}, {seq: isn + 8, payload: "sip:a@b "}, {seq: isn + 16, payload: "SIP/2.0\r\n"}},
			want: []got{{Time: ms(1), Payload: "INVITE ", Start: true}, {Time: ms(2), Payload: "sip:a@b "}, {Time: ms(3), Payload: "SIP/2.0\r\n"}},
		},
		{
			name: "out of order",
			segs: []tcpSeg{{seq: isn, syn: true}, {seq: isn + 1, payload: "AAAA"}, {seq: isn + 9, payload: "CCCC"}, {seq: isn + 5, payload: "BBBB"}},
			want: []got{{Time: ms(1), Payload: "AAAA", Start: true}, {Time: ms(3), Payload: "BBBB"}, {Time: ms(2), Payload: "CCCC"}},
		},
		{
			name: "retransmission not delivered twice",
			segs: []tcpSeg{{seq: isn, syn: true}, {seq: isn + 1, payload: "BYE sip:x SIP/2.0\r\n\r\n"}, {seq: isn + 1, payload: "BYE sip:x SIP/2.0\r\n\r\n"}, {seq: isn + 1, payload: "BYE sip:x SIP/2.0\r\n\r\nNEXT"}},
			want: []got{{Time: ms(1), Payload: "BYE sip:x SIP/2.0\r\n\r\n", Start: true}, {Time: ms(3), Payload: "NEXT"}},
		},
		{
			name: "retransmitted syn",
			segs: []tcpSeg{{seq: isn, syn: true}, {seq: isn, syn: true}, {seq: isn + 1, payload: "A"}},
			want: []got{{Time: ms(2), Payload: "A", Start: true}},
		},
		{
			name: "mid-stream pickup",
			segs: []tcpSeg{{seq: 5000, payload: "tail of old\r\n"}, {seq: 5013, payload: "OPTIONS"}},
			want: []got{{Time: ms(0), Payload: "tail of old\r\n", Start: true}, {Time: ms(1), Payload: "OPTIONS"}},
		},
		{
			name: "gap skipped when the buffer fills",
			opts: []DecoderOption{WithTCPLimits(10, 8)},
			segs: []tcpSeg{{seq: 100, payload: "AAAA"}, {seq: 110, payload: "CCCC"}, {seq: 114, payload: "DDDDD"}},
			want: []got{{Time: ms(0), Payload: "AAAA", Start: true}, {Time: ms(1), Payload: "CCCC", Start: true}, {Time: ms(2), Payload: "DDDDD"}},
		},
		{
			name: "gap skipped after the timeout",
			opts: []DecoderOption{WithTCPTimeouts(time.Minute, 2*time.Millisecond)},
			segs: []tcpSeg{{seq: 100, payload: "AAAA"}, {seq: 110, payload: "CCCC"}, {seq: 114}, {seq: 114}, {seq: 114, payload: "D"}},
			want: []got{{Time: ms(0), Payload: "AAAA", Start: true}, {Time: ms(1), Payload: "CCCC", Start: true}, {Time: ms(4), Payload: "D"}},
		},
		{
			name: "new connection on the same ports",
			segs: []tcpSeg{{seq: 1, syn: true}, {seq: 2, payload: "one"}, {seq: 5, fin: true}, {seq: 900, syn: true}, {seq: 901, payload: "two"}},
			want: []got{{Time: ms(1), Payload: "one", Start: true}, {Time: ms(4), Payload: "two", Start: true}},
		},
		{
			name: "data after fin is a retransmission",
			segs: []tcpSeg{{seq: 1, syn: true}, {seq: 2, payload: "one", fin: true}, {seq: 2, payload: "one"}},
			want: []got{{Time: ms(1), Payload: "one", Start: true}},
		},
		{
			name: "stream forgotten after rst",
			segs: []tcpSeg{{seq: 1, syn: true}, {seq: 2, payload: "one"}, {seq: 5, rst: true}, {seq: 2, payload: "one"}},
			want: []got{{Time: ms(1), Payload: "one", Start: true}, {Time: ms(3), Payload: "one", Start: true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(tc.opts...)
			out := tcpRun(t, d, tc.segs)
			for i := range tc.want {
				tc.want[i].Src = netip.MustParseAddrPort("192.0.2.1:40000")
				tc.want[i].Dst = netip.MustParseAddrPort("192.0.2.2:5060")
				tc.want[i].Transport = TCP
			}
			if len(out) != len(tc.want) {
				t.Fatalf("got %d runs %+v\nwant %d %+v", len(out), out, len(tc.want), tc.want)
			}
			for i := range out {
				if out[i] != tc.want[i] {
					t.Errorf("run %d: got %+v\nwant %+v", i, out[i], tc.want[i])
				}
			}
		})
	}
}

func TestDecodeTCPStats(t *testing.T) {
	d := NewDecoder(WithTCPLimits(1, 1024), WithTCPTimeouts(time.Second, time.Second))
	tcpRun(t, d, []tcpSeg{{seq: 1, syn: true}, {seq: 2, payload: "abc"}, {seq: 2, payload: "abc"}})
	s := d.Stats()
	if s.TCPStreamsOpen != 1 || s.TCPBytes != 3 || s.TCPBytesRetransmitted != 3 || s.TCPSegments != 2 {
		t.Errorf("stats %+v", s)
	}
	// The table is full: the reverse direction is refused.
	f := ether(tcpPacket(t, "192.0.2.2", "192.0.2.1", 5060, 40000, tcpSeg{seq: 7, payload: "x"}))
	if err := d.Decode(layers.LinkTypeEthernet, f, ci(t0, len(f)), collect(new([]got))); !errors.Is(err, ErrStreamLimit) {
		t.Errorf("err = %v, want ErrStreamLimit", err)
	}
	d.Expire(t0.Add(time.Hour))
	if s := d.Stats(); s.TCPStreamsOpen != 0 || s.TCPStreamsExpired != 1 || s.TCPStreamsRefused != 1 {
		t.Errorf("after expiry %+v", s)
	}
	// Out-of-order bytes held are counted when dropped.
	tcpRun(t, d, []tcpSeg{{seq: 1, syn: true}, {seq: 10, payload: "zz"}, {seq: 2, rst: true}})
	if s := d.Stats(); s.TCPBytesDropped != 2 {
		t.Errorf("dropped %d, want 2", s.TCPBytesDropped)
	}
}

func TestDecodeTCPOverIPv6Fragments(t *testing.T) {
	ip := ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolTCP)
	tc := &layers.TCP{SrcPort: 5061, DstPort: 5060, Seq: 10, ACK: true, Window: 1000}
	_ = tc.SetNetworkLayerForChecksum(ip)
	body := strings.Repeat("b", 300)
	p := serialize(t, ip, tc, gopacket.Payload(body))
	d := NewDecoder()
	var out []got
	for _, f := range frag6(t, p, 128, 1) {
		if err := d.Decode(layers.LinkTypeRaw, f, ci(t0, len(f)), collect(&out)); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) != 1 || out[0].Payload != body || out[0].Transport != TCP || !out[0].Start {
		t.Errorf("got %+v", out)
	}
}

func BenchmarkDecodeUDP(b *testing.B) {
	rtp := make([]byte, 172) // 12-byte RTP header + 160 bytes of G.711
	rtp[0] = 0x80
	f := ether(udpPacket(b, false, "192.0.2.1", "192.0.2.2", 16384, 16386, rtp), [2]uint16{etherTypeDot1Q, 10})
	d := NewDecoder()
	n := 0
	fn := func(dg *Datagram) { n += len(dg.Payload) }
	info := ci(t0, len(f))
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		if err := d.Decode(layers.LinkTypeEthernet, f, info, fn); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("nothing delivered")
	}
}

func BenchmarkDecodeTCP(b *testing.B) {
	msg := []byte(strings.Repeat("SIP/2.0 180 Ringing\r\n", 20))
	// Pre-build a run of in-order segments so that each frame delivers.
	const frames = 1024
	fs := make([][]byte, frames)
	seq := uint32(1000)
	for i := range fs {
		fs[i] = ether(tcpPacket(b, "192.0.2.1", "192.0.2.2", 40000, 5060, tcpSeg{seq: seq, payload: string(msg)}))
		seq += uint32(len(msg))
	}
	n := 0
	fn := func(dg *Datagram) { n += len(dg.Payload) }
	d := NewDecoder()
	b.ReportAllocs()
	b.SetBytes(int64(len(fs[0])))
	i := 0
	for b.Loop() {
		if i == frames {
			// Start again as a new stream: a SYN resets the direction.
			d = NewDecoder()
			i = 0
		}
		f := fs[i]
		if err := d.Decode(layers.LinkTypeEthernet, f, ci(t0, len(f)), fn); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if n == 0 {
		b.Fatal("nothing delivered")
	}
}
