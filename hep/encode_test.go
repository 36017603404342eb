package hep

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sipMessage returns a SIP request with CRLF line ends.
func sipMessage(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n")
}

// encodeCase is a packet to encode, shared by the golden and tshark tests.
type encodeCase struct {
	name string
	enc  Encoder
	p    Packet
}

func encodeCases() []encodeCase {
	at := time.Date(2026, 12, 3, 14, 5, 6, 789_012_345, time.UTC)
	invite := sipMessage(
		"INVITE sip:100@10.1.1.10 SIP/2.0",
		"Via: SIP/2.0/UDP 10.1.1.20:5060;branch=z9hG4bK-1",
		"From: <sip:2201@10.1.1.20>;tag=a1",
		"To: <sip:100@10.1.1.10>",
		"Call-ID: c1@10.1.1.20",
		"CSeq: 1 INVITE",
		"Content-Length: 0",
	)
	ok := sipMessage(
		"SIP/2.0 200 OK",
		"Via: SIP/2.0/TCP [2001:db8::20]:5060;branch=z9hG4bK-2",
		"From: <sip:2202@[2001:db8::20]>;tag=b1",
		"To: <sip:100@[2001:db8::10]>;tag=b2",
		"Call-ID: c2@2001:db8::20",
		"CSeq: 7 INVITE",
		"Content-Length: 0",
	)
	body := "Atención: señal débil"
	accents := []byte("MESSAGE sip:recepcion@hacienda.gob.sv SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 10.1.1.30:5060;branch=z9hG4bK-3\r\n" +
		"From: \"José Peña Núñez\" <sip:2203@10.1.1.30>;tag=c1\r\n" +
		"To: \"Recepción\" <sip:recepcion@hacienda.gob.sv>\r\n" +
		"Call-ID: ñandú-3@10.1.1.30\r\n" +
		"CSeq: 1 MESSAGE\r\n" +
		"Content-Type: text/plain;charset=utf-8\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	return []encodeCase{
		{"ipv4_udp", Encoder{AgentID: 2001}, Packet{
			Time: at, Src: netip.MustParseAddrPort("10.1.1.20:5060"), Dst: netip.MustParseAddrPort("10.1.1.10:5060"),
			Transport: UDP, CallID: "c1@10.1.1.20", Payload: invite,
		}},
		{"ipv6_tcp", Encoder{AgentID: 0xfffffffe}, Packet{
			Time: at.Add(time.Second), Src: netip.MustParseAddrPort("[2001:db8::10]:5060"), Dst: netip.MustParseAddrPort("[2001:db8::20]:40123"),
			Transport: TCP, CallID: "c2@2001:db8::20", Payload: ok,
		}},
		{"ipv4_tcp_accents_auth_vlan", Encoder{AgentID: 7, Password: "contraseña"}, Packet{
			Time: at.Add(2 * time.Second), Src: netip.MustParseAddrPort("10.1.1.30:5060"), Dst: netip.MustParseAddrPort("10.1.1.10:5060"),
			Transport: TCP, VLAN: 120, CallID: "ñandú-3@10.1.1.30", Payload: accents,
		}},
		{"ipv6_udp_no_callid", Encoder{}, Packet{
			Time: time.Unix(0, 1000), Src: netip.MustParseAddrPort("[2001:db8::1]:5062"), Dst: netip.MustParseAddrPort("[2001:db8::2]:5060"),
			Transport: UDP, Payload: invite,
		}},
		{"mapped_is_ipv4", Encoder{AgentID: 1}, Packet{
			// IPv4-mapped IPv6 (a dual-stack socket's view) goes as IPv4.
			Time: at, Src: netip.MustParseAddrPort("[::ffff:10.1.1.20]:5060"), Dst: netip.MustParseAddrPort("[::ffff:10.1.1.10]:5060"),
			Transport: UDP, CallID: "c1@10.1.1.20", Payload: invite,
		}},
	}
}

func TestEncodeGolden(t *testing.T) {
	var enc []byte
	for _, tc := range encodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			enc, err = tc.enc.Append(enc[:0], &tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := tc.enc.Size(&tc.p); n != len(enc) {
				t.Errorf("Size = %d, Append wrote %d", n, len(enc))
			}
			path := filepath.Join("testdata", tc.name+".hep")
			if *update {
				if err := os.WriteFile(path, enc, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, want) {
				t.Errorf("encoding differs from %s:\n got %x\nwant %x", path, enc, want)
			}
		})
	}
}

// TestEncodeByHand spells one packet out byte by byte from the chunk
// table of docs/domain.md §8, independent of the encoder's code.
func TestEncodeByHand(t *testing.T) {
	p := Packet{
		Time:      time.Unix(0x6543_2100, 123_456_789),
		Src:       netip.MustParseAddrPort("192.0.2.1:5060"),
		Dst:       netip.MustParseAddrPort("192.0.2.2:5080"),
		Transport: UDP,
		VLAN:      10,
		CallID:    "x",
		Payload:   []byte("OPTIONS"),
	}
	want := strings.Join([]string{
		"48455033", "0082", // "HEP3", total 6 + 124 of chunks
		"0000 0001 0007 02",             // IPv4
		"0000 0002 0007 11",             // UDP
		"0000 0003 000a c0000201",       // 192.0.2.1
		"0000 0004 000a c0000202",       // 192.0.2.2
		"0000 0007 0008 13c4",           // 5060
		"0000 0008 0008 13d8",           // 5080
		"0000 0009 000a 65432100",       // seconds
		"0000 000a 000a 0001e240",       // 123456 µs
		"0000 000b 0007 01",             // SIP
		"0000 000c 000a 0000002a",       // agent 42
		"0000 000e 0009 6b6579",         // "key"
		"0000 0012 0008 000a",           // VLAN 10
		"0000 0011 0007 78",             // "x"
		"0000 000f 000d 4f5054494f4e53", // "OPTIONS"
	}, "")
	wantB, err := hex.DecodeString(strings.ReplaceAll(want, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Encoder{AgentID: 42, Password: "key"}).Append(nil, &p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wantB) {
		t.Errorf("got  %x\nwant %x", got, wantB)
	}
}

// TestEncodeDecode reads every case back with the strict test decoder.
func TestEncodeDecode(t *testing.T) {
	for _, tc := range encodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.enc.Append(nil, &tc.p)
			if err != nil {
				t.Fatal(err)
			}
			d, err := decode(b)
			if err != nil {
				t.Fatal(err)
			}
			checkDecoded(t, d, tc.enc, tc.p)
		})
	}
}

// checkDecoded compares what was decoded with what was encoded.
func checkDecoded(t *testing.T, d decoded, enc Encoder, p Packet) {
	t.Helper()
	src, dst := p.Src.Addr().Unmap(), p.Dst.Addr().Unmap()
	family := byte(familyIPv4)
	if src.Is6() {
		family = familyIPv6
	}
	var sec, usec uint32
	if !p.Time.IsZero() {
		sec, usec = uint32(p.Time.Unix()), uint32(p.Time.Nanosecond()/1000)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"family", d.Family, family},
		{"proto", d.Proto, byte(p.Transport)},
		{"src", d.Src, src},
		{"dst", d.Dst, dst},
		{"src port", d.SrcPort, p.Src.Port()},
		{"dst port", d.DstPort, p.Dst.Port()},
		{"seconds", d.Sec, sec},
		{"µs", d.Usec, usec},
		{"proto type", d.ProtoType, byte(protoSIP)},
		{"agent", d.AgentID, enc.AgentID},
		{"password", d.Password, enc.Password},
		{"has password", d.HasPassword, enc.Password != ""},
		{"call-id", d.CallID, p.CallID},
		{"has call-id", d.HasCallID, p.CallID != ""},
		{"vlan", d.VLAN, p.VLAN},
		{"payload", string(d.Payload), string(p.Payload)},
		{"order", d.Order, d.canonicalOrder()},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
}

func equal(a, b any) bool {
	if x, ok := a.([]uint16); ok {
		y, _ := b.([]uint16)
		return slices.Equal(x, y)
	}
	return a == b
}

func TestEncodeErrors(t *testing.T) {
	good := Packet{
		Time: time.Unix(1, 0), Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"),
		Transport: UDP, Payload: []byte("BYE"),
	}
	tests := []struct {
		name string
		edit func(*Packet)
		enc  Encoder
		err  error
	}{
		{"mixed families", func(p *Packet) { p.Dst = netip.MustParseAddrPort("[2001:db8::1]:5060") }, Encoder{}, ErrAddress},
		{"mapped and v6", func(p *Packet) {
			p.Src = netip.MustParseAddrPort("[::ffff:10.0.0.1]:5060")
			p.Dst = netip.MustParseAddrPort("[2001:db8::1]:5060")
		}, Encoder{}, ErrAddress},
		{"no source", func(p *Packet) { p.Src = netip.AddrPort{} }, Encoder{}, ErrAddress},
		{"no transport", func(p *Packet) { p.Transport = 0 }, Encoder{}, ErrTransport},
		{"sctp", func(p *Packet) { p.Transport = 132 }, Encoder{}, ErrTransport},
		{"before 1970", func(p *Packet) { p.Time = time.Unix(-1, 0) }, Encoder{}, ErrTime},
		{"after 2106", func(p *Packet) { p.Time = time.Unix(1<<32, 0) }, Encoder{}, ErrTime},
		{"payload too large", func(p *Packet) { p.Payload = make([]byte, MaxSize) }, Encoder{}, ErrTooLarge},
		{"one byte too many", func(p *Packet) {
			n, _ := (&Encoder{}).Size(p)
			p.Payload = make([]byte, len(p.Payload)+MaxSize-n+1)
		}, Encoder{}, ErrTooLarge},
		{"exactly the largest", func(p *Packet) {
			n, _ := (&Encoder{}).Size(p)
			p.Payload = make([]byte, len(p.Payload)+MaxSize-n)
		}, Encoder{}, nil},
		{"password pushes it over", func(p *Packet) {
			n, _ := (&Encoder{}).Size(p)
			p.Payload = make([]byte, len(p.Payload)+MaxSize-n)
		}, Encoder{Password: "x"}, ErrTooLarge},
		{"last second of 2106", func(p *Packet) { p.Time = time.Unix(1<<32-1, 999_999_999) }, Encoder{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.edit(&p)
			buf := []byte("keep")
			got, err := tt.enc.Append(buf, &p)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if string(got) != "keep" {
					t.Errorf("buffer changed on error: %q", got)
				}
				return
			}
			if _, err := decode(got[4:]); err != nil {
				t.Errorf("decode: %v", err)
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, tc := range encodeCases() {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 0, 2048)
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.p.Payload)))
			for b.Loop() {
				var err error
				if buf, err = tc.enc.Append(buf[:0], &tc.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
