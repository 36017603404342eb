package recorder

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/zaf/g711"
)

func TestExportPCM(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      format
		decode func(byte) int16
	}{
		{"ulaw", formatULaw, g711.DecodeUlawFrame},
		{"alaw", formatALaw, g711.DecodeAlawFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samples := make([]byte, 2*8000) // one second, stereo
			for i := range samples {
				samples[i] = byte(i * 7)
			}
			path := filepath.Join(t.TempDir(), "x.wav")
			wf := tc.f.wav()
			if err := os.WriteFile(path, append(wf.header(uint32(len(samples))), samples...), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := ExportPCM(path, &out); err != nil {
				t.Fatal(err)
			}
			b := out.Bytes()
			hdr := formatPCM16.wav().header(uint32(2 * len(samples)))
			if !bytes.Equal(b[:len(hdr)], hdr) {
				t.Fatalf("header % x", b[:len(hdr)])
			}
			pcm := b[len(hdr):]
			if len(pcm) != 2*len(samples) {
				t.Fatalf("%d PCM bytes, want %d", len(pcm), 2*len(samples))
			}
			for i, c := range samples {
				if got := int16(binary.LittleEndian.Uint16(pcm[2*i:])); got != tc.decode(c) {
					t.Fatalf("sample %d = %d, want %d", i, got, tc.decode(c))
				}
			}
			if sox, err := exec.LookPath("sox"); err == nil {
				pcmPath := filepath.Join(t.TempDir(), "pcm.wav")
				if err := os.WriteFile(pcmPath, b, 0o600); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command(sox, "--i", pcmPath).CombinedOutput(); err != nil || !bytes.Contains(out, []byte("16-bit Signed Integer PCM")) {
					t.Fatalf("sox --i: %v\n%s", err, out)
				}
			}
		})
	}
}
