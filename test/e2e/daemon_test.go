package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
)

// daemonProc is `switchtap run` as a child process: its own process group,
// killed with the test binary (Pdeathsig) and in t.Cleanup at the latest.
type daemonProc struct {
	cmd  *exec.Cmd
	out  *nettest.LockedBuffer
	done chan struct{}
	err  error
}

// startDaemon starts bin with args. The cleanup stops it with SIGTERM
// (the daemon's normal stop), and saves its whole output to logPath.
func startDaemon(t *testing.T, logPath, bin string, args ...string) *daemonProc {
	t.Helper()
	cmd := exec.Command(bin, args...) //nolint:gosec // G204: the binary the test built
	out := &nettest.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start switchtap run: %v", err)
	}
	d := &daemonProc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("stop switchtap run: %v", err)
		}
		if err := os.WriteFile(logPath, []byte(d.out.String()), 0o600); err != nil {
			t.Errorf("save the daemon's log: %v", err)
		} else {
			t.Logf("switchtap run log: %s", logPath)
		}
		if t.Failed() {
			t.Logf("switchtap run output (tail):\n%s", tail(d.out.String(), 8000))
		}
	})
	return d
}

// stopBudget bounds the daemon's shutdown; dumpBudget the wait for its
// goroutine dump after SIGQUIT.
const (
	stopBudget = 10 * time.Second
	dumpBudget = 5 * time.Second
)

// stop ends the daemon: SIGTERM; if it is still running after stopBudget,
// SIGQUIT, so that the Go runtime writes every goroutine's stack to the
// log (a hang is then diagnosed from the artifact), then SIGKILL to its
// group. A daemon that had to be forced is an error.
func (d *daemonProc) stop() error {
	select {
	case <-d.done:
		return nil
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(stopBudget):
	}
	_ = d.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-d.done:
	case <-time.After(dumpBudget):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
	return fmt.Errorf("%w: still running %v after SIGTERM; stopped with SIGQUIT (goroutine dump in its log)", errTimeout, stopBudget)
}

// waitReady waits for the `msg="switchtap ready"` line and returns its
// fields (web=127.0.0.1:PORT among them).
func (d *daemonProc) waitReady(timeout time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(timeout)
	for {
		sc := bufio.NewScanner(strings.NewReader(d.out.String()))
		for sc.Scan() {
			if line := sc.Text(); strings.Contains(line, `msg="switchtap ready"`) {
				return nettest.LogFields(line), nil
			}
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("%w before it was ready: %v", errExited, d.err)
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: no \"switchtap ready\" within %v", errTimeout, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cliBudget bounds one command-line call.
const cliBudget = 60 * time.Second

// runCLI runs `switchtap args...` with stdin and returns its stdout.
func runCLI(t *testing.T, bin, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cliBudget)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...) //nolint:gosec // G204: the binary the test built
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("switchtap %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// adminPassword reads the first start's admin password from the data
// directory's admin-password.txt, which must be private (0600).
func adminPassword(t *testing.T, dataDir string) string {
	t.Helper()
	path := filepath.Join(dataDir, "admin-password.txt")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("first start wrote no admin password file: %v", err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, m)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if pw, ok := strings.CutPrefix(line, "contraseña: "); ok && strings.TrimSpace(pw) != "" {
			return strings.TrimSpace(pw)
		}
	}
	t.Fatalf("%s has no \"contraseña: \" line", path)
	return ""
}

// jsonLines parses JSON Lines into generic objects, so that records are
// compared field by field, whatever fields they have.
func jsonLines(t *testing.T, what, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v in %q", what, err, line)
		}
		out = append(out, m)
	}
	return out
}

// writeFile writes a file the test needs, private to the test's user.
func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
