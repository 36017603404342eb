package capture

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var updateEncap = flag.Bool("update-encap", false, "rewrite testdata/encap.pcap and testdata/encap.golden")

// encapCase is one remote-mirror encapsulation of a SIP INVITE: the frames
// as they reach the box, and the same traffic captured directly.
type encapCase struct {
	name   string
	callID string
	frames [][]byte
	bare   [][]byte
	// v6 and tcp say what the inner packet is, for the tshark check.
	v6, tcp bool
}

var (
	dot1q42 = [2]uint16{etherTypeDot1Q, 42}
	qinq100 = [2]uint16{etherTypeQinQ, 100}
	tag7    = [2]uint16{etherTypeDot1Q, 7}
)

// encapCases builds every encapsulation the decoder follows.
func encapCases(tb testing.TB) []encapCase {
	tb.Helper()
	var cases []encapCase
	add := func(name string, v6 bool, build func(id string, inner []byte) (frames [][]byte, bare [][]byte)) {
		id := strings.ReplaceAll(name, " ", "-") + "@encap"
		src, dst := "192.0.2.1", "192.0.2.2"
		if v6 {
			src, dst = "2001:db8::1", "2001:db8::2"
		}
		frames, bare := build(id, udpPacket(tb, v6, src, dst, 5060, 5060, sipInvite(id)))
		cases = append(cases, encapCase{name: name, callID: id, frames: frames, bare: bare, v6: v6})
	}
	one := func(f, b []byte) ([][]byte, [][]byte) { return [][]byte{f}, [][]byte{b} }
	teb := &layers.GRE{Protocol: greProtoTEB}
	erspan1 := &layers.GRE{Protocol: greProtoERSPAN2}
	erspan2 := &layers.GRE{Protocol: greProtoERSPAN2, SeqPresent: true, Seq: 7}
	erspan3 := &layers.GRE{Protocol: greProtoERSPAN3, SeqPresent: true, Seq: 9}

	add("gre teb", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, teb, ether(p, dot1q42)), ether(p, dot1q42))
	})
	add("gre teb checksum key seq", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		g := &layers.GRE{Protocol: greProtoTEB, ChecksumPresent: true, KeyPresent: true, Key: 0xdeadbeef, SeqPresent: true, Seq: 1}
		return one(greOver(tb, false, g, ether(p)), ether(p))
	})
	add("gre ipv4", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, &layers.GRE{Protocol: layers.EthernetTypeIPv4, KeyPresent: true, Key: 1}, p), ether(p))
	})
	add("gre ipv6 over ipv6", true, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, true, &layers.GRE{Protocol: layers.EthernetTypeIPv6}, p), ether(p))
	})
	add("erspan i", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, erspan1, ether(p, dot1q42)), ether(p, dot1q42))
	})
	add("erspan ii", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, erspan2, append(erspan2Header(42, 3, 100, 1), ether(p, dot1q42)...)), ether(p, dot1q42))
	})
	add("erspan ii tag stripped", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, erspan2, append(erspan2Header(42, 2, 100, 1), ether(p)...)), ether(p, dot1q42))
	})
	add("erspan ii untagged", true, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, erspan2, append(erspan2Header(0, 0, 100, 1), ether(p)...)), ether(p))
	})
	add("erspan ii qinq", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, erspan2, append(erspan2Header(100, 3, 5, 2), ether(p, qinq100, dot1q42)...)), ether(p, qinq100, dot1q42))
	})
	add("erspan ii over ipv6", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, true, erspan2, append(erspan2Header(42, 3, 100, 1), ether(p, dot1q42)...)), ether(p, dot1q42))
	})
	add("erspan ii over ipv6 options", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		// Destination options (RFC 8200 4.6, PadN) between IPv6 and GRE.
		g := serialize(tb, erspan2, gopacket.Payload(append(erspan2Header(42, 3, 100, 1), ether(p, dot1q42)...)))
		opts := append([]byte{protoGRE, 0, 1, 4, 0, 0, 0, 0}, g...)
		return one(etherOf(serialize(tb, ip6(mirrorSrc6, mirrorDst6, layers.IPProtocol(protoDestOpts)), gopacket.Payload(opts))), ether(p, dot1q42))
	})
	add("gre teb over ipv6 hop-by-hop", true, func(_ string, p []byte) ([][]byte, [][]byte) {
		g := serialize(tb, &layers.GRE{Protocol: greProtoTEB}, gopacket.Payload(ether(p)))
		hbh := append([]byte{protoGRE, 0, 1, 4, 0, 0, 0, 0}, g...)
		return one(etherOf(serialize(tb, ip6(mirrorSrc6, mirrorDst6, layers.IPProtocolIPv6HopByHop), gopacket.Payload(hbh))), ether(p))
	})
	add("erspan iii", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, erspan3, append(erspan3Header(42, 200, 0x01020304, erspanFTEthernet, false), ether(p, dot1q42)...)), ether(p, dot1q42))
	})
	add("erspan iii platform sub-header", true, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, erspan3, append(erspan3Header(42, 200, 0x01020304, erspanFTEthernet, true), ether(p, qinq100, dot1q42)...)), ether(p, qinq100, dot1q42))
	})
	add("erspan iii ip frame", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, erspan3, append(erspan3Header(0, 200, 1, erspanFTIP, false), p...)), ether(p))
	})
	add("vxlan", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(vxlanOver(tb, false, ether(p, dot1q42)), ether(p, dot1q42))
	})
	add("vxlan ipv6 qinq over ipv6", true, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(vxlanOver(tb, true, ether(p, qinq100, dot1q42)), ether(p, qinq100, dot1q42))
	})
	add("pppoe", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(pppoeOver(tb, p), ether(p))
	})
	add("pppoe ipv6 vlan", true, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(pppoeOver(tb, p, tag7), ether(p, tag7))
	})
	add("pppoe in vxlan", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(vxlanOver(tb, false, pppoeOver(tb, p, dot1q42)), ether(p, dot1q42))
	})
	add("ipip", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(ipInIP(tb, p, false), ether(p))
	})
	add("ipv6 in ipv4", true, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(ipInIP(tb, p, false), ether(p))
	})
	add("ipv4 in ipv6", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(ipInIP(tb, p, true), ether(p))
	})
	add("ipv6 in ipv6", true, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(ipInIP(tb, p, true), ether(p))
	})
	add("ipip in erspan ii", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		return one(greOver(tb, false, erspan2, append(erspan2Header(42, 3, 100, 1), ipInIP(tb, p, false)...)), ether(p))
	})
	add("four tunnels", false, func(_ string, p []byte) ([][]byte, [][]byte) {
		// VXLAN in GRE in IPv6 in IPv4: the deepest nesting followed.
		in := vxlanOver(tb, false, ether(p))
		g := serialize(tb, &layers.GRE{Protocol: greProtoTEB}, gopacket.Payload(in))
		return one(ipInIP(tb, outerIP(tb, false, layers.IPProtocolGRE, g), false, true), ether(p))
	})
	add("erspan ii fragmented", false, func(id string, _ []byte) ([][]byte, [][]byte) {
		// A full-size mirrored frame does not fit the mirror's MTU with
		// its 50 bytes of headers: the switch fragments the GRE packet.
		body := append(sipInvite(id), bytes.Repeat([]byte("a=x-filler:0123456789\r\n"), 52)...)
		p := udpPacket(tb, false, "192.0.2.1", "192.0.2.2", 5060, 5060, body)
		outer := outerIP(tb, false, layers.IPProtocolGRE,
			serialize(tb, erspan2, gopacket.Payload(append(erspan2Header(42, 3, 100, 1), ether(p, dot1q42)...))))
		var frames [][]byte
		for _, f := range frag4(tb, outer, 1200) {
			frames = append(frames, etherOf(f))
		}
		return frames, [][]byte{ether(p, dot1q42)}
	})
	// SIP over TCP through ERSPAN: the stream key is the inner one.
	tcpSIP := func(id string) []byte {
		return tcpPacket(tb, "192.0.2.1", "192.0.2.2", 40000, 5060, tcpSeg{seq: 1000, payload: string(sipInvite(id))})
	}
	id := "erspan-ii-tcp@encap"
	p := tcpSIP(id)
	cases = append(cases, encapCase{name: "erspan ii tcp", callID: id, tcp: true,
		frames: [][]byte{greOver(tb, false, erspan2, append(erspan2Header(42, 3, 100, 1), ether(p, dot1q42)...))},
		bare:   [][]byte{ether(p, dot1q42)}})
	return cases
}

// decodeAll decodes Ethernet frames one millisecond apart from t0 with a
// fresh decoder and returns what it delivered.
func decodeAll(tb testing.TB, frames [][]byte) ([]got, *Decoder) {
	tb.Helper()
	d := NewDecoder()
	var out []got
	for i, f := range frames {
		if err := d.Decode(layers.LinkTypeEthernet, f, ci(t0.Add(time.Duration(i)*time.Millisecond), len(f)), collect(&out)); err != nil {
			tb.Fatalf("frame %d: %v", i, err)
		}
	}
	return out, d
}

func TestDecodeEncapsulated(t *testing.T) {
	for _, tc := range encapCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := decodeAll(t, tc.bare)
			out, d := decodeAll(t, tc.frames)
			if len(want) != 1 || !strings.Contains(want[0].Payload, "Call-ID: "+tc.callID) {
				t.Fatalf("bare frame gave %+v", want)
			}
			// The capture time is the outer frame's: the last one, which
			// completed the datagram.
			want[0].Time = t0.Add(time.Duration(len(tc.frames)-1) * time.Millisecond)
			if len(out) != 1 || out[0] != want[0] {
				t.Fatalf("got %+v\nwant %+v", out, want)
			}
			if s := d.Stats(); s.Datagrams != 1 || s.Skipped != 0 || s.Frames != uint64(len(tc.frames)) {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestDecodeEncapsulationLimits(t *testing.T) {
	inner := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(invite))
	// nest wraps inner in n tunnels: IPv4 in IPv4, then GRE and VXLAN.
	nest := func(n int) []byte {
		v6 := make([]bool, n)
		return ipInIP(t, inner, v6...)
	}
	for n := 1; n <= maxEncapDepth; n++ {
		out, _ := decodeAll(t, [][]byte{nest(n)})
		if len(out) != 1 || out[0].Src != netip.MustParseAddrPort("192.0.2.1:5060") {
			t.Errorf("%d tunnels: got %+v", n, out)
		}
	}
	for _, f := range [][]byte{
		nest(maxEncapDepth + 1),
		nest(40),
		// The same depth through GRE and VXLAN.
		greOver(t, false, &layers.GRE{Protocol: greProtoTEB}, vxlanOver(t, false, nest(maxEncapDepth-1))),
	} {
		d := NewDecoder()
		var out []got
		err := d.Decode(layers.LinkTypeEthernet, f, ci(t0, len(f)), collect(&out))
		if !errors.Is(err, ErrEncapDepth) || len(out) != 0 {
			t.Errorf("err = %v, delivered %d", err, len(out))
		}
		if n := d.Stats().Undecodable[ReasonEncapDepth]; n != 1 {
			t.Errorf("undecodable[%s] = %d, want 1", ReasonEncapDepth, n)
		}
	}
}

func TestDecodeEncapsulationErrors(t *testing.T) {
	inner := ether(udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(invite)))
	ipPacket := stripEther(inner)
	icmp := serialize(t, ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, gopacket.Payload("ping"))
	gre := func(flags uint16, proto uint16, rest []byte) []byte {
		h := []byte{byte(flags >> 8), byte(flags), byte(proto >> 8), byte(proto)}
		return etherOf(outerIP(t, false, layers.IPProtocolGRE, append(h, rest...)))
	}
	erspan2 := func(h []byte) []byte { return gre(greFlagSeq, greProtoERSPAN2, append([]byte{0, 0, 0, 1}, h...)) }
	pppoeRaw := func(verType, code byte, length uint16, rest []byte) []byte {
		h := []byte{verType, code, 0x12, 0x34, byte(length >> 8), byte(length)}
		return etherT(etherTypePPPoESession, append(h, rest...))
	}
	vxNoI := etherOf(udpPacket(t, false, mirrorSrc4, mirrorDst4, 49152, vxlanPort, append(make([]byte, 8), inner...)))
	tests := []struct {
		name    string
		frame   []byte
		want    error  // nil: no error
		reason  string // counted undecodable
		skipped bool
		udp     int // datagrams delivered
	}{
		{"gre cut in header", gre(0, greProtoTEB, nil)[:ethernetHeaderLen+20+2], ErrTruncated, ReasonTruncated, false, 0},
		{"gre key cut", gre(greFlagKey, greProtoTEB, []byte{1, 2}), ErrTruncated, ReasonTruncated, false, 0},
		{"gre routing", gre(greFlagRouting, greProtoTEB, append(make([]byte, 4), inner...)), ErrMalformed, ReasonMalformed, false, 0},
		{"gre version 1 pptp", gre(0x3081, 0x880b, make([]byte, 12)), nil, "", true, 0},
		{"gre mpls", gre(0, 0x8847, make([]byte, 40)), nil, "", true, 0},
		{"gre empty teb", gre(0, greProtoTEB, nil), ErrTruncated, ReasonTruncated, false, 0},
		{"erspan ii cut", erspan2([]byte{0x10, 0}), ErrTruncated, ReasonTruncated, false, 0},
		{"erspan ii bad version", erspan2(append([]byte{0x30, 0, 0, 0, 0, 0, 0, 0}, inner...)), ErrMalformed, ReasonMalformed, false, 0},
		{"erspan ii icmp", erspan2(append(erspan2Header(1, 0, 1, 1), ether(icmp)...)), nil, "", true, 0},
		{"erspan ii arp", erspan2(append(erspan2Header(1, 0, 1, 1), etherT(0x0806, make([]byte, 28))...)), nil, "", true, 0},
		{"erspan iii cut", gre(greFlagSeq, greProtoERSPAN3, append(make([]byte, 4), 0x20, 0, 0, 0)), ErrTruncated, ReasonTruncated, false, 0},
		{"erspan iii sub-header cut", gre(greFlagSeq, greProtoERSPAN3, append(make([]byte, 4), erspan3Header(0, 1, 1, 0, true)[:16]...)), ErrTruncated, ReasonTruncated, false, 0},
		{"erspan iii bad version", gre(greFlagSeq, greProtoERSPAN3, append(make([]byte, 4), append([]byte{0x10}, erspan3Header(0, 1, 1, 0, false)[1:]...)...)), ErrMalformed, ReasonMalformed, false, 0},
		{"erspan iii frame type 1", gre(greFlagSeq, greProtoERSPAN3, append(make([]byte, 4), append(erspan3Header(0, 1, 1, 1, false), inner...)...)), nil, "", true, 0},
		{"erspan iii ip bad version", gre(greFlagSeq, greProtoERSPAN3, append(make([]byte, 4), append(erspan3Header(0, 1, 1, erspanFTIP, false), 0x55, 0)...)), ErrMalformed, ReasonMalformed, false, 0},
		{"inner ethernet cut", gre(0, greProtoTEB, inner[:10]), ErrTruncated, ReasonTruncated, false, 0},
		{"inner ipv4 cut", gre(0, greProtoTEB, inner[:30]), ErrTruncated, ReasonTruncated, false, 0},
		{"ipip cut", etherOf(outerIP(t, false, layers.IPProtocolIPv4, ipPacket[:12])), ErrTruncated, ReasonTruncated, false, 0},
		{"icmp in ipip", etherOf(outerIP(t, false, layers.IPProtocolIPv4, icmp)), nil, "", true, 0},
		{"vxlan without i flag is plain udp", vxNoI, nil, "", false, 1},
		{"vxlan too short is plain udp", etherOf(udpPacket(t, false, mirrorSrc4, mirrorDst4, 49152, vxlanPort, []byte{8, 0, 0, 0, 0, 0, 1, 0})), nil, "", false, 1},
		{"pppoe lcp", pppoeRaw(0x11, 0, 6, []byte{0xc0, 0x21, 1, 1, 0, 4}), nil, "", true, 0},
		{"pppoe discovery code", pppoeRaw(0x11, 0x09, 2, []byte{0, 0x21}), ErrMalformed, ReasonMalformed, false, 0},
		{"pppoe bad version", pppoeRaw(0x21, 0, 2, []byte{0, 0x21}), ErrMalformed, ReasonMalformed, false, 0},
		{"pppoe length past frame", pppoeRaw(0x11, 0, 900, append([]byte{0, 0x21}, ipPacket...)), ErrTruncated, ReasonTruncated, false, 0},
		{"pppoe cut", etherT(etherTypePPPoESession, []byte{0x11, 0, 0}), ErrTruncated, ReasonTruncated, false, 0},
		{"pppoe no protocol", pppoeRaw(0x11, 0, 0, nil), ErrTruncated, ReasonTruncated, false, 0},
		{"pppoe compressed protocol", pppoeRaw(0x11, 0, uint16(1+len(ipPacket)), append([]byte{0x21}, ipPacket...)), nil, "", false, 1},
		{"pppoe padded", append(pppoeRaw(0x11, 0, uint16(2+len(ipPacket)), append([]byte{0, 0x21}, ipPacket...)), 0, 0, 0, 0), nil, "", false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			var out []got
			err := d.Decode(layers.LinkTypeEthernet, tc.frame, ci(t0, len(tc.frame)), collect(&out))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(out) != tc.udp {
				t.Fatalf("delivered %d datagrams, want %d: %+v", len(out), tc.udp, out)
			}
			s := d.Stats()
			if tc.reason != "" && s.Undecodable[tc.reason] != 1 {
				t.Errorf("undecodable[%s] = %d, want 1 (%v)", tc.reason, s.Undecodable[tc.reason], s.Undecodable)
			}
			if (s.Skipped == 1) != tc.skipped {
				t.Errorf("skipped = %d, want %v", s.Skipped, tc.skipped)
			}
		})
	}
}

// encapFrames returns the frames of every case in order, one millisecond
// apart, with the case each belongs to.
func encapFrames(cases []encapCase) (frames [][]byte, owner []int) {
	for i, tc := range cases {
		for _, f := range tc.frames {
			frames = append(frames, f)
			owner = append(owner, i)
		}
	}
	return frames, owner
}

// writeEncapPcap renders the frames as a pcap file.
func writeEncapPcap(tb testing.TB, frames [][]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	for i, f := range frames {
		if err := w.WritePacket(ci(t0.Add(time.Duration(i)*time.Millisecond), len(f)), f); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

// renderEncap is the golden text of what the decoder made of each case.
func renderEncap(tb testing.TB, cases []encapCase, frames [][]byte, owner []int) []byte {
	tb.Helper()
	d := NewDecoder()
	var b bytes.Buffer
	for i, f := range frames {
		var out []got
		if err := d.Decode(layers.LinkTypeEthernet, f, ci(t0.Add(time.Duration(i)*time.Millisecond), len(f)), collect(&out)); err != nil {
			fmt.Fprintf(&b, "%-32s frame %2d: %v\n", cases[owner[i]].name, i+1, err)
			continue
		}
		for _, g := range out {
			line, _, _ := strings.Cut(g.Payload, "\r\n")
			fmt.Fprintf(&b, "%-32s frame %2d: %s %s %s > %s vlan %d, %d bytes, %q\n", cases[owner[i]].name, i+1,
				g.Time.Format("15:04:05.000000000"), g.Transport, g.Src, g.Dst, g.VLAN, len(g.Payload), line)
		}
	}
	fmt.Fprintf(&b, "stats: %+v\n", d.Stats())
	return b.Bytes()
}

func TestEncapGolden(t *testing.T) {
	cases := encapCases(t)
	frames, owner := encapFrames(cases)
	for _, g := range []struct {
		file string
		got  []byte
	}{
		{"encap.pcap", writeEncapPcap(t, frames)},
		{"encap.golden", renderEncap(t, cases, frames, owner)},
	} {
		path := filepath.Join("testdata", g.file)
		if *updateEncap {
			if err := os.WriteFile(path, g.got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update-encap to write it)", err)
		}
		if !bytes.Equal(g.got, want) {
			t.Errorf("%s differs from the golden file (run with -update-encap and review the diff):\n%s", g.file, g.got)
		}
	}
}

// encapBench builds one frame per encapsulation carrying an RTP packet
// like BenchmarkDecodeUDP's.
func encapBench(tb testing.TB) []struct {
	name  string
	frame []byte
} {
	rtp := make([]byte, 172) // 12-byte RTP header + 160 bytes of G.711
	rtp[0] = 0x80
	p := udpPacket(tb, false, "192.0.2.1", "192.0.2.2", 16384, 16386, rtp)
	inner := ether(p, dot1q42)
	erspan2 := &layers.GRE{Protocol: greProtoERSPAN2, SeqPresent: true, Seq: 7}
	erspan3 := &layers.GRE{Protocol: greProtoERSPAN3, SeqPresent: true, Seq: 9}
	return []struct {
		name  string
		frame []byte
	}{
		{"bare", inner},
		{"gre teb", greOver(tb, false, &layers.GRE{Protocol: greProtoTEB, KeyPresent: true, Key: 1}, inner)},
		{"erspan ii", greOver(tb, false, erspan2, append(erspan2Header(42, 3, 100, 1), inner...))},
		{"erspan iii", greOver(tb, false, erspan3, append(erspan3Header(42, 1, 1, erspanFTEthernet, true), inner...))},
		{"vxlan", vxlanOver(tb, false, inner)},
		{"pppoe", pppoeOver(tb, p, dot1q42)},
		{"ipip", ipInIP(tb, p, false)},
		{"ipv4 in ipv6", ipInIP(tb, p, true)},
	}
}

func BenchmarkDecodeEncap(b *testing.B) {
	for _, bc := range encapBench(b) {
		b.Run(strings.ReplaceAll(bc.name, " ", "_"), func(b *testing.B) {
			d := NewDecoder()
			n := 0
			fn := func(dg *Datagram) { n += len(dg.Payload) }
			info := ci(t0, len(bc.frame))
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.frame)))
			for b.Loop() {
				if err := d.Decode(layers.LinkTypeEthernet, bc.frame, info, fn); err != nil {
					b.Fatal(err)
				}
			}
			if n == 0 {
				b.Fatal("nothing delivered")
			}
		})
	}
}

// The bare frames, the reference of TestDecodeEncapsulated, are valid for
// gopacket's own decoder too.
func TestEncapBareFramesDecodeWithGopacket(t *testing.T) {
	for _, tc := range encapCases(t) {
		for _, f := range tc.bare {
			p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
			if el := p.ErrorLayer(); el != nil {
				t.Errorf("%s: %v", tc.name, el.Error())
			}
		}
	}
}
