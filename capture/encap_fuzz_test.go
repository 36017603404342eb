package capture

import (
	"errors"
	"testing"
)

// within reports whether inner is a sub-slice of outer (the decapsulators
// never copy): both end their capacity at the same byte.
func within(outer, inner []byte) bool {
	if cap(inner) == 0 {
		return true
	}
	if cap(outer) == 0 {
		return false
	}
	return &outer[:cap(outer)][cap(outer)-1] == &inner[:cap(inner)][cap(inner)-1]
}

// FuzzDecap feeds the tunnel headers' parsers alone: they return a part
// of their input or a classified error, never anything else.
func FuzzDecap(f *testing.F) {
	for _, tc := range encapCases(f) {
		fr := tc.frames[0]
		if len(fr) > ethernetHeaderLen+20 {
			f.Add(fr[ethernetHeaderLen+20:]) // past an outer IPv4 header: GRE
			f.Add(fr[ethernetHeaderLen+28:]) // past IPv4 and UDP: VXLAN
			f.Add(fr[ethernetHeaderLen:])    // PPPoE
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if tn, err := decapGRE(b); err == nil {
			if !within(b, tn.b) || tn.vlan > vlanIDMask {
				t.Fatalf("gre: %+v", tn)
			}
		} else if !errors.Is(err, errSkip) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("gre error %v", err)
		}
		if tn, ok := decapVXLAN(b); ok && (!within(b, tn.b) || len(tn.b) < ethernetHeaderLen) {
			t.Fatalf("vxlan: %+v", tn)
		}
		if et, rest, err := pppoe(b); err == nil {
			if !within(b, rest) || (et != 0 && et != etherTypeIPv4 && et != etherTypeIPv6) {
				t.Fatalf("pppoe: %#x %d bytes", et, len(rest))
			}
		} else if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("pppoe error %v", err)
		}
	})
}
