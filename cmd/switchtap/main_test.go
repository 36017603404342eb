package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"replay"}, {"run"}, {"calls", "--from", "yesterday"}} {
		if _, _, err := runCmd(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	out, _, err := runCmd(t, "version")
	if err != nil || !strings.HasPrefix(out, "switchtap ") {
		t.Errorf("version: %q %v", out, err)
	}
}

func TestRunNoInterface(t *testing.T) {
	_, _, err := runCmd(t, "run", "-i", "nosuchif0", "--data-dir", t.TempDir())
	if !errors.Is(err, capture.ErrNoInterface) || !strings.Contains(err.Error(), "nosuchif0") {
		t.Fatalf("err = %v, want ErrNoInterface naming the interface", err)
	}
}

// TestRunWithoutCapNetRaw runs the real binary without CAP_NET_RAW (as
// nobody when the test runs as root) and expects a clear error and a
// non-zero exit.
func TestRunWithoutCapNetRaw(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "switchtap")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{bin, "run", "-i", "lo", "--data-dir", filepath.Join(t.TempDir(), "data")}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err != nil {
			testenv.SkipOrFail(t, "setpriv not installed")
		}
		args = append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit status 1, got %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "CAP_NET_RAW") {
		t.Fatalf("error does not explain the missing capability:\n%s", out)
	}
}

func TestReplayJSON(t *testing.T) {
	dir := t.TempDir()
	var files []string
	var want []pcapgen.Expect
	// Two files written in reverse order of time: replay must merge them.
	for _, name := range []string{"busy", "answered"} {
		sc, err := pcapgen.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".pcap")
		e, err := sc.WriteFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
		want = append(want, e...)
	}
	out, _, err := runCmd(t, append([]string{"replay", "--json"}, files...)...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	var prev time.Time
	seen := map[string]bool{}
	for _, l := range lines {
		var c sip.Call
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		if c.InviteAt.Before(prev) {
			t.Errorf("not ordered by invite_at: %s after %s", c.InviteAt, prev)
		}
		prev = c.InviteAt
		seen[c.CallID] = true
		for _, key := range []string{`"id":`, `"invite_at":`, `"ringing_at":`, `"answered_at":`, `"ended_at":`, `"end_reason":`, `"hangup_by":`, `"ring_seconds":`, `"rings":`, `"within_limit":`, `"transfer":`, `"recording":`, `"direction":`, `"operator":`, `"from_name":`} {
			if !strings.Contains(l, key) {
				t.Errorf("record lacks %s: %s", key, l)
			}
		}
	}
	for _, e := range want {
		if !seen[e.CallID] {
			t.Errorf("no record for %s", e.CallID)
		}
	}
}

func TestCallsRange(t *testing.T) {
	dir := t.TempDir()
	st, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, day := range []string{"2026-02-28T23:59:59Z", "2026-03-01T00:00:00Z", "2026-03-31T23:59:59.999999999Z", "2026-04-01T00:00:00Z"} {
		at, _ := time.Parse(time.RFC3339Nano, day)
		c := sip.Call{ID: sip.RecordID(day, at), CallID: day, InviteAt: at, EndReason: sip.EndCompleted, From: "a", To: "b"}
		if err := st.PutCall(context.Background(), c); err != nil {
			t.Fatal(i, err)
		}
	}
	st.Close()
	out, _, err := runCmd(t, "calls", "--data-dir", dir, "--from", "2026-03-01", "--to", "2026-03-31", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"call_id":"2026-03-01T00:00:00Z"`) || !strings.Contains(lines[1], `"call_id":"2026-03-31T23:59:59.999999999Z"`) {
		t.Fatalf("March:\n%s", out)
	}
	table, _, err := runCmd(t, "calls", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(table, "\n"); n != 5 {
		t.Fatalf("table has %d lines, want header + 4:\n%s", n, table)
	}
}
