package config

import "testing"

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
