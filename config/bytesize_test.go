package config

import (
	"errors"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"1024", 1024, true},
		{"20GiB", 20 << 30, true},
		{"512 MiB", 512 << 20, true},
		{"1.5GB", 1500000000, true},
		{"10kB", 10000, true},
		{"-1GiB", 0, false},
		{"lots", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseByteSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if s := ByteSize(20 << 30).String(); s != "20GiB" {
		t.Errorf("String = %q", s)
	}
}

// TestParseByteSizeNonFinite: sizes with no uint64 are errors, not a
// CPU-dependent conversion (issue 9 §6).
func TestParseByteSizeNonFinite(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"NaNGiB", false},
		{"nanGiB", false},
		{"InfGiB", false},
		{"+InfGiB", false},
		{"-InfGiB", false},
		{"InfinityB", false},
		{"1e30GiB", false},
		{"1e30B", false},
		{"16777216TiB", false}, // 2^64
		{"18446744073709551616", false},
		{"16777215TiB", true},
		{"18446744073709551615", true},
		{"0GiB", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseByteSize(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// FuzzParseByteSize: any input parses or fails without panic, and a size
// that parses prints as a string that parses back to it.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"1024", "20GiB", "1.5GB", "NaNGiB", "1e30GiB", "16777215TiB", " 3 KiB "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseByteSize(s)
		if err != nil {
			return
		}
		back, err := ParseByteSize(v.String())
		if err != nil || back != v {
			t.Fatalf("%q → %d → %q → %d, %v", s, v, v.String(), back, err)
		}
	})
}
