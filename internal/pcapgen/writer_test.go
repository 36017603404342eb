package pcapgen

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/pion/rtp"
)

// testTime has nanoseconds that a microsecond format would lose.
var testTime = time.Date(2026, 3, 2, 14, 0, 0, 123456789, time.UTC) //nolint:gochecknoglobals // test constant

func newTestWriter(t *testing.T, ng bool, opts ...Option) (*Writer, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	var w *Writer
	var err error
	if ng {
		w, err = NewNgWriter(&buf, opts...)
	} else {
		w, err = NewWriter(&buf, opts...)
	}
	if err != nil {
		t.Fatalf("new writer: %v", err)
	}
	return w, &buf
}

func readBack(t *testing.T, w *Writer, buf *bytes.Buffer, ng bool) ([]frame, []datagram) {
	t.Helper()
	if err := w.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	frames, lt := readFrames(t, buf.Bytes(), ng)
	if lt != w.LinkType() {
		t.Fatalf("link type %v, want %v", lt, w.LinkType())
	}
	if len(frames) != w.Frames() {
		t.Fatalf("read %d frames, writer counted %d", len(frames), w.Frames())
	}
	return frames, newDecoder(t, lt).decodeAll(frames)
}

func TestUDPRoundTrip(t *testing.T) {
	v4src, v4dst := ap("198.51.100.7:5060"), ap("192.0.2.9:5062")
	v6src, v6dst := ap("[2001:db8::7]:5060"), ap("[2001:db8:1::9]:5062")
	tests := []struct {
		name     string
		ng       bool
		opts     []Option
		pkt      []PacketOption
		src, dst netip.AddrPort
		vlans    []uint16
	}{
		{name: "ipv4 ethernet", src: v4src, dst: v4dst},
		{name: "ipv6 ethernet", src: v6src, dst: v6dst},
		{name: "ipv4 pcapng", ng: true, src: v4src, dst: v4dst},
		{name: "802.1Q", pkt: []PacketOption{WithVLAN(100)}, src: v4src, dst: v4dst, vlans: []uint16{100}},
		{name: "QinQ", pkt: []PacketOption{WithVLAN(200, 100)}, src: v6src, dst: v6dst, vlans: []uint16{200, 100}},
		{name: "linux sll", opts: []Option{WithLinkType(layers.LinkTypeLinuxSLL)}, src: v4src, dst: v4dst},
		{name: "raw ipv6", opts: []Option{WithLinkType(layers.LinkTypeRaw)}, src: v6src, dst: v6dst},
		{name: "raw ipv4 pcapng", ng: true, opts: []Option{WithLinkType(layers.LinkTypeRaw)}, src: v4src, dst: v4dst},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, buf := newTestWriter(t, tc.ng, tc.opts...)
			payload := []byte("OPTIONS sip:x@192.0.2.9 SIP/2.0\r\n\r\n")
			t2 := testTime.Add(time.Nanosecond)
			if err := w.UDP(testTime, tc.src, tc.dst, payload, tc.pkt...); err != nil {
				t.Fatal(err)
			}
			if err := w.UDP(t2, tc.dst, tc.src, payload[:3], tc.pkt...); err != nil {
				t.Fatal(err)
			}
			_, dgs := readBack(t, w, buf, tc.ng)
			if len(dgs) != 2 {
				t.Fatalf("got %d datagrams, want 2", len(dgs))
			}
			dg := dgs[0]
			if !dg.at.Equal(testTime) || !dgs[1].at.Equal(t2) {
				t.Errorf("times %v, %v; want %v, %v", dg.at, dgs[1].at, testTime, t2)
			}
			if dg.src != tc.src || dg.dst != tc.dst || dgs[1].src != tc.dst {
				t.Errorf("addresses %v -> %v, want %v -> %v", dg.src, dg.dst, tc.src, tc.dst)
			}
			if !bytes.Equal(dg.payload, payload) || !bytes.Equal(dgs[1].payload, payload[:3]) {
				t.Errorf("payload %q", dg.payload)
			}
			if !slices.Equal(dg.vlans, tc.vlans) {
				t.Errorf("vlans %v, want %v", dg.vlans, tc.vlans)
			}
		})
	}
}

func TestQinQOuterTPID(t *testing.T) {
	w, buf := newTestWriter(t, false)
	if err := w.UDP(testTime, ap("192.0.2.1:1"), ap("192.0.2.2:2"), []byte("x"), WithVLAN(200, 100)); err != nil {
		t.Fatal(err)
	}
	frames, _ := readBack(t, w, buf, false)
	eth := frames[0].data
	// Ethernet type of the outer tag at bytes 12-13, inner tag's TPID at 16-17.
	if got := layers.EthernetType(uint16(eth[12])<<8 | uint16(eth[13])); got != layers.EthernetTypeQinQ {
		t.Errorf("outer TPID %#x, want 0x88a8", uint16(got))
	}
	if got := layers.EthernetType(uint16(eth[16])<<8 | uint16(eth[17])); got != layers.EthernetTypeDot1Q {
		t.Errorf("inner TPID %#x, want 0x8100", uint16(got))
	}
}

func TestUDPFragments(t *testing.T) {
	v4src, v4dst := ap("198.51.100.7:5060"), ap("192.0.2.9:5060")
	v6src, v6dst := ap("[2001:db8::7]:5060"), ap("[2001:db8::9]:5060")
	tests := []struct {
		name     string
		src, dst netip.AddrPort
		size     int
		mtu      int
		gap      time.Duration
		frags    int
	}{
		{name: "ipv4 fits", src: v4src, dst: v4dst, size: 1472, mtu: 1500, frags: 1},
		{name: "ipv4 two", src: v4src, dst: v4dst, size: 1473, mtu: 1500, frags: 2},
		{name: "ipv4 three with gap", src: v4src, dst: v4dst, size: 4000, mtu: 1500, gap: time.Millisecond, frags: 3},
		{name: "ipv4 small mtu", src: v4src, dst: v4dst, size: 1000, mtu: 576, gap: 7, frags: 2},
		{name: "ipv6 fits", src: v6src, dst: v6dst, size: 1452, mtu: 1500, frags: 1},
		{name: "ipv6 two", src: v6src, dst: v6dst, size: 1453, mtu: 1500, frags: 2},
		{name: "ipv6 three with gap", src: v6src, dst: v6dst, size: 3500, mtu: 1280, gap: time.Microsecond, frags: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, buf := newTestWriter(t, false)
			payload := make([]byte, tc.size)
			for i := range payload {
				payload[i] = byte(i * 7)
			}
			if got := FragmentCount(tc.size, tc.src.Addr().Is6(), tc.mtu); got != tc.frags {
				t.Errorf("FragmentCount = %d, want %d", got, tc.frags)
			}
			if err := w.UDP(testTime, tc.src, tc.dst, payload, WithMTU(tc.mtu), WithFragmentGap(tc.gap)); err != nil {
				t.Fatal(err)
			}
			frames, dgs := readBack(t, w, buf, false)
			if len(frames) != tc.frags {
				t.Fatalf("%d frames, want %d", len(frames), tc.frags)
			}
			for i, f := range frames {
				if want := testTime.Add(time.Duration(i) * tc.gap); !f.ci.Timestamp.Equal(want) {
					t.Errorf("fragment %d at %v, want %v", i, f.ci.Timestamp, want)
				}
				if ipLen := len(f.data) - 14; ipLen > tc.mtu {
					t.Errorf("fragment %d is %d bytes > mtu %d", i, ipLen, tc.mtu)
				}
			}
			if len(dgs) != 1 {
				t.Fatalf("reassembled %d datagrams, want 1", len(dgs))
			}
			if !bytes.Equal(dgs[0].payload, payload) {
				t.Errorf("reassembled payload differs (%d bytes, want %d)", len(dgs[0].payload), len(payload))
			}
			if want := testTime.Add(time.Duration(tc.frags-1) * tc.gap); !dgs[0].at.Equal(want) {
				t.Errorf("datagram at %v, want last fragment's %v", dgs[0].at, want)
			}
			if dgs[0].frags != tc.frags && tc.frags > 1 {
				t.Errorf("datagram from %d fragments, want %d", dgs[0].frags, tc.frags)
			}
		})
	}
}

func FuzzUDPFragments(f *testing.F) {
	f.Add(uint16(3000), uint16(1500), true)
	f.Add(uint16(1473), uint16(1500), false)
	f.Add(uint16(0), uint16(68), false)
	f.Add(uint16(65000), uint16(1280), true)
	f.Fuzz(func(t *testing.T, size, mtu uint16, v6 bool) {
		src, dst := ap("192.0.2.1:5060"), ap("192.0.2.2:5060")
		if v6 {
			src, dst = ap("[2001:db8::1]:5060"), ap("[2001:db8::2]:5060")
		}
		w, buf := newTestWriter(t, false)
		payload := bytes.Repeat([]byte{0xa5, 0x11, 0x3c}, int(size)/3+1)[:min(int(size), maxUDPLen-udpHeaderLen)]
		err := w.UDP(testTime, src, dst, payload, WithMTU(int(mtu)))
		if errors.Is(err, ErrMTU) {
			if FragmentCount(len(payload), v6, int(mtu)) != 0 {
				t.Fatalf("ErrMTU but FragmentCount > 0")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		frames, dgs := readBack(t, w, buf, false)
		if len(frames) != FragmentCount(len(payload), v6, int(mtu)) {
			t.Fatalf("%d frames, FragmentCount %d", len(frames), FragmentCount(len(payload), v6, int(mtu)))
		}
		if len(dgs) != 1 || !bytes.Equal(dgs[0].payload, payload) {
			t.Fatalf("payload does not reassemble")
		}
	})
}

func TestTCPConn(t *testing.T) {
	for _, family := range []string{"ipv4", "ipv6"} {
		t.Run(family, func(t *testing.T) {
			client, server := ap("198.51.100.10:49152"), ap("192.0.2.20:5060")
			if family == "ipv6" {
				client, server = ap("[2001:db8::10]:49152"), ap("[2001:db8::20]:5060")
			}
			w, buf := newTestWriter(t, false)
			c := w.TCP(client, server, WithVLAN(42))
			msgs := [][]byte{[]byte("INVITE sip:a@b SIP/2.0\r\n"), []byte("Content-Length: 0\r\n\r\n")}
			steps := []error{
				c.Handshake(testTime),
				c.Send(testTime.Add(time.Second), true, msgs[0]),
				c.Send(testTime.Add(2*time.Second), true, msgs[1]),
				c.Send(testTime.Add(3*time.Second), false, []byte("SIP/2.0 100 Trying\r\n\r\n")),
				c.Close(testTime.Add(4 * time.Second)),
			}
			for i, err := range steps {
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			if err := c.Send(testTime.Add(5*time.Second), true, []byte("x")); !errors.Is(err, ErrTCPState) {
				t.Errorf("send after close: %v, want ErrTCPState", err)
			}
			frames, dgs := readBack(t, w, buf, false)
			if len(frames) != 9 {
				t.Fatalf("%d frames, want 9", len(frames))
			}
			var stream [2][]byte
			var next [2]uint32
			wantFlags := []string{"S", "SA", "A", "PA", "PA", "PA", "FA", "FA", "A"}
			wantTimes := []time.Duration{0, TCPStep, 2 * TCPStep, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 4*time.Second + TCPStep, 4*time.Second + 2*TCPStep}
			for i, f := range frames {
				p := gopacket.NewPacket(f.data, layers.LinkTypeEthernet, gopacket.Default)
				tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
				if got := tcpFlagString(tcp); got != wantFlags[i] {
					t.Errorf("segment %d flags %s, want %s", i, got, wantFlags[i])
				}
				if want := testTime.Add(wantTimes[i]); !f.ci.Timestamp.Equal(want) {
					t.Errorf("segment %d at %v, want %v", i, f.ci.Timestamp, want)
				}
				dir := 0
				if dgs[i].src == server {
					dir = 1
				}
				if i > 0 && tcp.Seq != next[dir] && !(i == 1) {
					t.Errorf("segment %d seq %d, want %d", i, tcp.Seq, next[dir])
				}
				if tcp.ACK && tcp.Ack != next[1-dir] {
					t.Errorf("segment %d ack %d, want %d", i, tcp.Ack, next[1-dir])
				}
				next[dir] = tcp.Seq + uint32(len(tcp.Payload))
				if tcp.SYN || tcp.FIN {
					next[dir]++
				}
				if !slices.Equal(dgs[i].vlans, []uint16{42}) {
					t.Errorf("segment %d vlans %v", i, dgs[i].vlans)
				}
				stream[dir] = append(stream[dir], dgs[i].payload...)
			}
			if want := append(append([]byte(nil), msgs[0]...), msgs[1]...); !bytes.Equal(stream[0], want) {
				t.Errorf("client stream %q, want %q", stream[0], want)
			}
			if string(stream[1]) != "SIP/2.0 100 Trying\r\n\r\n" {
				t.Errorf("server stream %q", stream[1])
			}
		})
	}
}

func tcpFlagString(t *layers.TCP) string {
	s := ""
	if t.SYN {
		s += "S"
	}
	if t.FIN {
		s += "F"
	}
	if t.PSH {
		s += "P"
	}
	if t.ACK {
		s += "A"
	}
	return s
}

func TestRTPAndRaw(t *testing.T) {
	w, buf := newTestWriter(t, true)
	hdr := rtp.Header{PayloadType: 8, SequenceNumber: 65535, Timestamp: 0xFFFFFF60, SSRC: 0xdeadbeef, Marker: true}
	payload := bytes.Repeat([]byte{0xd5}, 160)
	if err := w.RTP(testTime, ap("192.0.2.1:40000"), ap("198.51.100.2:50000"), hdr, payload); err != nil {
		t.Fatal(err)
	}
	garbage := []byte{0xff, 0x00, 0x13}
	if err := w.Raw(testTime.Add(time.Nanosecond), garbage); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	frames, _ := readFrames(t, buf.Bytes(), true)
	if len(frames) != 2 || !bytes.Equal(frames[1].data, garbage) || !frames[1].ci.Timestamp.Equal(testTime.Add(time.Nanosecond)) {
		t.Fatalf("raw frame not written as is: %+v", frames)
	}
	dg, ok, err := newDecoder(t, layers.LinkTypeEthernet).decode(frames[0])
	if err != nil || !ok {
		t.Fatalf("decode rtp frame: %v", err)
	}
	var p rtp.Packet
	if err := p.Unmarshal(dg.payload); err != nil {
		t.Fatal(err)
	}
	if p.Version != 2 || p.SequenceNumber != 65535 || p.Timestamp != 0xFFFFFF60 || p.SSRC != 0xdeadbeef || !p.Marker || p.PayloadType != 8 || !bytes.Equal(p.Payload, payload) {
		t.Errorf("rtp read back as %+v", p.Header)
	}
}

func TestWriterErrors(t *testing.T) {
	v4a, v4b, v6 := ap("192.0.2.1:1"), ap("192.0.2.2:2"), ap("[2001:db8::1]:1")
	tests := []struct {
		name string
		opts []Option
		run  func(w *Writer) error
		want error
	}{
		{"mixed families", nil, func(w *Writer) error { return w.UDP(testTime, v4a, v6, nil) }, ErrAddress},
		{"zero address", nil, func(w *Writer) error { return w.UDP(testTime, netip.AddrPort{}, v4b, nil) }, ErrAddress},
		{"three tags", nil, func(w *Writer) error { return w.UDP(testTime, v4a, v4b, nil, WithVLAN(1, 2, 3)) }, ErrVLAN},
		{"vlan on raw", []Option{WithLinkType(layers.LinkTypeRaw)}, func(w *Writer) error { return w.UDP(testTime, v4a, v4b, nil, WithVLAN(1)) }, ErrVLAN},
		{"mtu too small", nil, func(w *Writer) error { return w.UDP(testTime, v4a, v4b, make([]byte, 100), WithMTU(27)) }, ErrMTU},
		{"udp too big", nil, func(w *Writer) error { return w.UDP(testTime, v4a, v4b, make([]byte, 65528)) }, ErrTooBig},
		{"tcp segment over mtu", nil, func(w *Writer) error { return w.TCP(v4a, v4b).Send(testTime, true, make([]byte, 1461)) }, ErrTooBig},
		{"tcp close twice", nil, func(w *Writer) error {
			c := w.TCP(v4a, v4b)
			if err := c.Close(testTime); err != nil {
				return err
			}
			return c.Close(testTime)
		}, ErrTCPState},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := newTestWriter(t, false, tc.opts...)
			if err := tc.run(w); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := NewWriter(io.Discard, WithLinkType(layers.LinkTypeIEEE802_11)); !errors.Is(err, ErrLinkType) {
		t.Errorf("802.11 link type: %v, want ErrLinkType", err)
	}
	w, _ := newTestWriter(t, false)
	if err := w.TCP(v4a, v4b).Send(testTime, true, make([]byte, 1460)); err != nil {
		t.Errorf("a full-size segment must fit: %v", err)
	}
}

func BenchmarkUDP(b *testing.B) {
	w, err := NewWriter(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 172)
	src, dst := ap("192.0.2.1:40000"), ap("198.51.100.2:50000")
	b.ReportAllocs()
	for b.Loop() {
		if err := w.UDP(testTime, src, dst, payload); err != nil {
			b.Fatal(err)
		}
	}
}
