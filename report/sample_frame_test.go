package report

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodeFrameErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"no colon", "3abc,"},
		{"no comma", "3:abc"},
		{"short", "5:abc,"},
		{"odd number of fields", "1:a,"},
		{"negative", "-1:,"},
		{"long length", "99999999999:a,"},
		{"leading zero", "00:,0:,"},
		{"plus sign", "+1:a,1:b,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeFrame([]byte(tt.in)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

// FuzzDecodeFrame: any input is read without panic, and what reads as a
// frame encodes back to the same bytes (the encoding is canonical).
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte("7:r-00000,3:Ana,7:r-00001,0:,"))
	f.Add([]byte("0:,0:,"))
	f.Add([]byte("3:a,b,1:x,"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrame(b)
		if err != nil {
			return
		}
		if got := EncodeFrame(fr); !bytes.Equal(got, b) {
			t.Fatalf("encode(decode(%q)) = %q", b, got)
		}
	})
}

func BenchmarkFrameHash(b *testing.B) {
	frame := smpFrame()
	b.ReportAllocs()
	for b.Loop() {
		FrameHash(frame)
	}
}
