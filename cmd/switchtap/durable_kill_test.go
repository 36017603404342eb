package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
)

// TestKill9RecordedCallsDurable kills the recording daemon with SIGKILL
// while calls end and their recordings are committed in groups (issue 12):
// every record it had reported stored names a recording that was already
// finished and in place when it died (not a ".part" the next start has to
// repair), with a whole WAV header, and is still there after the restart.
func TestKill9RecordedCallsDurable(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchtap")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	load := filepath.Join(dir, "load.pcap")
	if err := pcapgen.WriteFile(load, func(w *pcapgen.Writer) error {
		_, _, err := pcapgen.Load(w, 200, pcapgen.BaseTime())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	recDir := filepath.Join(data, "recordings")
	cfg := filepath.Join(dir, "switchtap.yaml")
	if err := os.WriteFile(cfg, []byte("recording:\n  min_free: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--config", cfg, "--data-dir", data, "--web-listen", "127.0.0.1:0", "--metrics-listen", "off"}

	p := startDaemon(t, bin, append([]string{"--pcap", load, "--realtime"}, common...)...)
	stored := map[string]bool{}
	deadline := time.After(60 * time.Second)
	for len(stored) < 40 {
		select {
		case l := <-p.lines:
			if m := storedIDRe.FindStringSubmatch(l); m != nil {
				stored[m[1]] = true
			}
		case <-deadline:
			t.Fatalf("only %d calls stored", len(stored))
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	for l := range p.lines {
		if m := storedIDRe.FindStringSubmatch(l); m != nil {
			stored[m[1]] = true
		}
	}
	// What the kill left under final names, before anything repairs.
	inPlace := map[string]bool{}
	for _, f := range findFiles(t, recDir, ".wav") {
		rel, _ := filepath.Rel(recDir, f)
		inPlace[filepath.ToSlash(rel)] = true
		checkWAVHeader(t, f)
	}
	parts := findFiles(t, recDir, ".part")
	t.Logf("killed after %d records stored: %d recordings in place, %d being written", len(stored), len(inPlace), len(parts))

	busy, _ := pcapgen.Lookup("busy")
	small := filepath.Join(dir, "busy.pcap")
	if _, err := busy.WriteFile(small); err != nil {
		t.Fatal(err)
	}
	p2 := startDaemon(t, bin, append([]string{"--pcap", small}, common...)...)
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	_ = p2.cmd.Wait()
	out, errOut, err := runBin(t, bin, "calls", "--json", "--data-dir", data)
	if err != nil {
		t.Fatalf("calls: %v %s", err, errOut)
	}
	have := map[string]sip.Call{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c sip.Call
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		have[c.ID] = c
	}
	withFile := 0
	for id := range stored {
		c, ok := have[id]
		if !ok {
			t.Errorf("record %s was reported stored before the crash and is gone", id)
			continue
		}
		if c.Recording == nil || c.Recording.File == "" {
			t.Errorf("record %s reported stored without its recording: %+v", id, c.Recording)
			continue
		}
		if c.EndDetail == "crash" || strings.HasPrefix(c.Recording.NotRecordable, "crash") {
			t.Errorf("record %s was reported stored, and closed as a crash: %s %q", id, c.EndDetail, c.Recording.NotRecordable)
		}
		if !inPlace[filepath.ToSlash(c.Recording.File)] {
			t.Errorf("record %s was reported stored before its recording %s was in place", id, c.Recording.File)
		}
		withFile++
	}
	if withFile == 0 {
		t.Fatal("no stored record with a recording")
	}
}

// checkWAVHeader requires a whole WAV header whose sizes match the file.
func checkWAVHeader(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Errorf("%s: no WAV header (%d bytes)", path, len(b))
		return
	}
	if got := binary.LittleEndian.Uint32(b[4:8]); int(got) != len(b)-8 {
		t.Errorf("%s: RIFF size %d, file has %d", path, got, len(b)-8)
	}
}
