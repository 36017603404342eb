package sync_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
	"github.com/switchtap/switchtap/internal/testenv"
)

// buildBudget bounds `go build ./cmd/switchtap`.
const buildBudget = 4 * time.Minute

// buildBin builds the shipped binary once per test.
func buildBin(t *testing.T) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return nettest.BuildSwitchtap(t, root, buildBudget)
}

// child is a switchtap process the test started (argv[0] may be "ip" for
// `ip netns exec`, which execs in place: the pid is the program's).
type child struct {
	name string
	cmd  *exec.Cmd
	out  *nettest.LockedBuffer
	done chan struct{}
	err  error
}

func startChild(t *testing.T, name string, argv ...string) *child {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // G204: the test's binary
	c := &child{name: name, cmd: cmd, out: &nettest.LockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("%s output (tail):\n%s", name, tail(c.out.String(), 4000))
		}
	})
	return c
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL to the process and waits for it: kill -9.
func (c *child) kill() {
	if c.exited() {
		return
	}
	_ = syscall.Kill(c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.done
}

// stop sends SIGTERM and waits for a clean exit.
func (c *child) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	if c.exited() {
		t.Fatalf("%s exited on its own: %v", c.name, c.err)
	}
	_ = syscall.Kill(c.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(timeout):
		t.Fatalf("%s did not stop within %v", c.name, timeout)
	}
	if c.err != nil {
		t.Fatalf("%s: %v", c.name, c.err)
	}
}

// waitLog waits for a log line containing s and returns its fields.
func (c *child) waitLog(t *testing.T, s string, timeout time.Duration) map[string]string {
	t.Helper()
	kv, err := c.awaitLog(s, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// awaitLog is waitLog for goroutines other than the test's.
func (c *child) awaitLog(s string, timeout time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(timeout)
	for {
		sc := bufio.NewScanner(strings.NewReader(c.out.String()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				return nettest.LogFields(sc.Text()), nil
			}
		}
		if c.exited() {
			return nil, fmt.Errorf("%s exited (%v) before logging %q", c.name, c.err, s)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: no %q within %v", c.name, s, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// centralYAML is a central server's configuration file.
func centralYAML(db, listen, certFile, keyFile string) string {
	return fmt.Sprintf("central:\n  database: %q\n  listen: %q\n  tls_cert: %q\n  tls_key: %q\n  retry_after: 1s\n",
		db, listen, certFile, keyFile)
}

// boxYAML is a box's configuration file with the uplink on; recording is
// its recording: section ("" turns recording off), uplinkExtra more
// uplink: keys ("timeout: 4s") that override the ones here.
func boxYAML(url, box, token, ca string, batch int, recording string, uplinkExtra ...string) string {
	if recording == "" {
		recording = "recording:\n  enabled: false\n"
	}
	keys := map[string]string{"batch_records": fmt.Sprint(batch), "poll": "50ms", "backoff_min": "100ms",
		"backoff_max": "2s", "timeout": "20s", "offline_after": "3s"}
	for _, kv := range uplinkExtra {
		k, v, _ := strings.Cut(kv, ":")
		keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	var more strings.Builder
	for _, k := range []string{"batch_records", "poll", "backoff_min", "backoff_max", "timeout", "offline_after"} {
		fmt.Fprintf(&more, "  %s: %s\n", k, keys[k])
	}
	return fmt.Sprintf("%suplink:\n  url: %q\n  box_id: %q\n  token: %q\n  ca: %q\n%s",
		recording, url, box, token, ca, more.String())
}

// enrol runs `switchtap central box add` and returns the token it prints.
func enrol(t *testing.T, bin, cfgFile, box string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, bin, "central", "box", "add", box, "--office", "Oficina "+box, "--config", cfgFile) //nolint:gosec // G204: the test's binary
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("central box add: %v\n%s", err, stderr.String())
	}
	tok := strings.TrimSpace(string(out))
	if !strings.HasPrefix(tok, "stb_") {
		t.Fatalf("central box add printed %q", tok)
	}
	return tok
}
