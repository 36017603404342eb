package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
)

// TestRecordingKill9 kills switchtap with SIGKILL while it writes
// recordings, starts it again on the same directory and requires every
// file left behind to be repaired: no ".part" remains, and sox and ffprobe
// accept every WAV.
func TestRecordingKill9(t *testing.T) {
	for _, tool := range []string{"sox", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, tool+" not installed")
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchtap")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	load := filepath.Join(dir, "load.pcap")
	if err := pcapgen.WriteFile(load, func(w *pcapgen.Writer) error {
		_, _, err := pcapgen.Load(w, 3000, pcapgen.BaseTime())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	recDir := filepath.Join(dir, "rec")

	var parts []string
	for attempt := 0; attempt < 5 && len(parts) == 0; attempt++ {
		cmd := exec.Command(bin, "replay", "--json", "--record-dir", recDir, load)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once a recording being written holds some audio.
		deadline := time.Now().Add(20 * time.Second)
		for len(parts) == 0 && time.Now().Before(deadline) {
			for _, p := range findFiles(t, recDir, ".part") {
				if st, err := os.Stat(p); err == nil && st.Size() > 8192 {
					parts = append(parts, p)
				}
			}
			if len(parts) == 0 {
				time.Sleep(200 * time.Microsecond)
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		parts = findFiles(t, recDir, ".part")
	}
	if len(parts) == 0 {
		t.Fatal("could not kill switchtap while a recording was being written")
	}
	t.Logf("killed with %d recordings half-written", len(parts))

	// The next start repairs them (replay opens the recorder as run does).
	busy, err := pcapgen.Lookup("busy")
	if err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "busy.pcap")
	if _, err := busy.WriteFile(small); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "replay", "--json", "--record-dir", recDir, small)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("restart: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "repaired") {
		t.Errorf("restart did not report the repair:\n%s", stderr.String())
	}
	if left := findFiles(t, recDir, ".part"); len(left) > 0 {
		t.Fatalf("still half-written after restart: %v", left)
	}
	wavs := findFiles(t, recDir, ".wav")
	if len(wavs) == 0 {
		t.Fatal("no recording left")
	}
	for _, p := range wavs {
		if out, err := exec.Command("sox", "--i", p).CombinedOutput(); err != nil {
			t.Errorf("sox rejects %s: %v\n%s", p, err, out)
		}
		if out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=channels", "-of", "csv=p=0", p).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "2" {
			t.Errorf("ffprobe on %s: %v %q", p, err, out)
		}
	}
	t.Logf("%d recordings readable after the crash", len(wavs))
}

func findFiles(t *testing.T, dir, suffix string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, suffix) {
			out = append(out, p)
		}
		return nil
	})
	return out
}
