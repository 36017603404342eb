// Package nettest runs the programs of the end-to-end tests (test/live,
// test/lab) inside network namespaces: started, watched, stopped and
// always reaped.
package nettest

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

// ErrExited says a process ended before it printed what we waited for.
var ErrExited = errors.New("process exited")

// ErrTimeout says a process did not do what we waited for in time.
var ErrTimeout = errors.New("timed out")

// LockedBuffer collects a child's output while the test reads it.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.String()
}

// Proc is a child process started inside a network namespace.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Out  *LockedBuffer
	// Done is closed when the process has ended; Err is then its result.
	Done chan struct{}
	Err  error
}

// StartIn starts argv inside the network namespace ns with its stdout and
// stderr kept together. `ip netns exec` execs argv in place, so the pid is
// argv's own and a signal sent to it reaches the program, not a wrapper.
// The process leads its own process group and dies with the test binary
// (Pdeathsig); t.Cleanup kills it if it is still running.
func StartIn(ctx context.Context, t *testing.T, ns, dir, name string, argv ...string) *Proc {
	t.Helper()

	args := append([]string{"netns", "exec", ns}, argv...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Dir = dir
	out := &LockedBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second

	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s (%s): %v", name, strings.Join(cmd.Args, " "), err)
	}

	p := &Proc{Name: name, Cmd: cmd, Out: out, Done: make(chan struct{})}
	go func() {
		p.Err = cmd.Wait()
		close(p.Done)
	}()
	t.Cleanup(func() { p.Kill(t) })

	return p
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.Done:
		return true
	default:
		return false
	}
}

// WaitFor waits until the output contains s.
func (p *Proc) WaitFor(s string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(p.Out.String(), s) {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("%w: %s before printing %q: %v", ErrExited, p.Name, s, p.Err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s did not print %q within %v", ErrTimeout, p.Name, s, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Wait waits for the process to end and returns its exit error.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.Done:
		if p.Err != nil {
			return fmt.Errorf("%s: %w", p.Name, p.Err)
		}

		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%w: %s still running after %v", ErrTimeout, p.Name, timeout)
	}
}

// Stop sends sig and waits for the process to end.
func (p *Proc) Stop(sig syscall.Signal, timeout time.Duration) error {
	if p.Exited() {
		return fmt.Errorf("%w: %s ended before %v was sent: %v", ErrExited, p.Name, sig, p.Err)
	}
	if err := syscall.Kill(p.Cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signal %s: %w", p.Name, err)
	}

	return p.Wait(timeout)
}

// Kill ends the process group if the process is still running.
func (p *Proc) Kill(t *testing.T) {
	t.Helper()

	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.Done:
	case <-time.After(5 * time.Second):
		t.Errorf("%s (pid %d) survived SIGKILL", p.Name, p.Cmd.Process.Pid)
	}
}

// Tail returns the last n bytes of the output.
func (p *Proc) Tail(n int) string {
	s := p.Out.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}

	return s
}
