package lab_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// errExited says a process ended before it printed what we waited for.
var errExited = errors.New("process exited")

// errTimeout says a process did not do what we waited for in time.
var errTimeout = errors.New("timed out")

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.String()
}

// proc is a child process started inside a network namespace.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // result of Wait, set before done is closed
}

// startIn starts argv inside the network namespace ns with its stdout and
// stderr kept together. `ip netns exec` execs argv in place, so the pid is
// argv's own and a signal sent to it reaches the program, not a wrapper.
// The process leads its own process group and dies with the test binary
// (Pdeathsig); t.Cleanup kills it if it is still running.
func startIn(ctx context.Context, t *testing.T, ns, dir, name string, argv ...string) *proc {
	t.Helper()

	args := append([]string{"netns", "exec", ns}, argv...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Dir = dir
	out := &lockedBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second

	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s (%s): %v", name, strings.Join(cmd.Args, " "), err)
	}

	p := &proc{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill(t) })

	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor waits until the output contains s.
func (p *proc) waitFor(s string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(p.out.String(), s) {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%w: %s before printing %q: %v", errExited, p.name, s, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s did not print %q within %v", errTimeout, p.name, s, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the process to end and returns its exit error.
func (p *proc) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s: %w", p.name, p.err)
		}

		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%w: %s still running after %v", errTimeout, p.name, timeout)
	}
}

// stop sends sig and waits for the process to end.
func (p *proc) stop(sig syscall.Signal, timeout time.Duration) error {
	if p.exited() {
		return fmt.Errorf("%w: %s ended before %v was sent: %v", errExited, p.name, sig, p.err)
	}
	if err := syscall.Kill(p.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}

	return p.wait(timeout)
}

// kill ends the process group if the process is still running.
func (p *proc) kill(t *testing.T) {
	t.Helper()

	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Errorf("%s (pid %d) survived SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// tail returns the last n bytes of the output.
func (p *proc) tail(n int) string {
	s := p.out.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}

	return s
}
