package hep

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzRoundTrip encodes packets built from fuzzed fields and reads them
// back with the strict decoder: every field must come back as it went.
func FuzzRoundTrip(f *testing.F) {
	for _, tc := range encodeCases() {
		src, dst := tc.p.Src.Addr().As16(), tc.p.Dst.Addr().As16()
		f.Add(src[:], dst[:], tc.p.Src.Addr().Unmap().Is6(), tc.p.Src.Port(), tc.p.Dst.Port(), tc.p.Transport == TCP,
			tc.p.Time.UnixNano(), tc.enc.AgentID, tc.enc.Password, tc.p.CallID, tc.p.VLAN, tc.p.Payload)
	}
	f.Fuzz(func(t *testing.T, srcB, dstB []byte, v6 bool, sport, dport uint16, tcp bool, nanos int64,
		agent uint32, password, callID string, vlan uint16, payload []byte) {
		addr := func(b []byte) netip.Addr {
			var a [16]byte
			copy(a[:], b)
			if v6 {
				ip := netip.AddrFrom16(a)
				if ip.Is4In6() {
					return ip.Unmap()
				}
				return ip
			}
			return netip.AddrFrom4([4]byte(a[:4]))
		}
		p := Packet{
			Src: netip.AddrPortFrom(addr(srcB), sport), Dst: netip.AddrPortFrom(addr(dstB), dport),
			Transport: UDP, VLAN: vlan, CallID: callID, Payload: payload,
		}
		if tcp {
			p.Transport = TCP
		}
		if nanos != 0 {
			p.Time = time.Unix(0, nanos)
		}
		enc := Encoder{AgentID: agent, Password: password}
		b, err := enc.Append(nil, &p)
		if err != nil {
			if !errors.Is(err, ErrTime) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrAddress) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if n, _ := enc.Size(&p); n != len(b) {
			t.Fatalf("Size %d, wrote %d", n, len(b))
		}
		d, err := decode(b)
		if err != nil {
			t.Fatalf("decode: %v\n%x", err, b)
		}
		checkDecoded(t, d, enc, p)
	})
}

// FuzzDecode feeds arbitrary bytes to the test decoder: it must not
// panic, and what it accepts must encode again to a packet that decodes
// the same, byte for byte when it came in the encoder's own order.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hep"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("HEP3\x00\x06"))
	if len(files) > 0 {
		// The same packet with a µs offset past a second.
		b, _ := os.ReadFile(files[0])
		i := bytes.Index(b, []byte{0, 0, 0, chunkTimeUsec, 0, 10})
		if i >= 0 {
			copy(b[i+6:], []byte{0xff, 0xff, 0xff, 0xff})
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decode(b)
		if err != nil || d.Usec >= 1_000_000 {
			// A µs offset past a second is out of spec: the encoder
			// never writes one, so there is nothing to round-trip.
			return
		}
		p, enc := d.packet()
		again, err := enc.Append(nil, &p)
		if err != nil {
			if p.Transport != UDP && p.Transport != TCP {
				return // a transport the encoder does not send
			}
			t.Fatalf("re-encode: %v", err)
		}
		d2, err := decode(again)
		if err != nil {
			t.Fatalf("decode of re-encoding: %v", err)
		}
		checkDecoded(t, d2, enc, p)
		canonical := d.ProtoType == protoSIP && equal(d.Order, d.canonicalOrder())
		if canonical && !bytes.Equal(b, again) {
			t.Fatalf("canonical packet re-encoded differently:\n in %x\nout %x", b, again)
		}
	})
}
