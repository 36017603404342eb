package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
)

// proc is a switchtap process with its stderr read line by line.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	log   *strings.Builder
	done  chan error
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 100000), log: &strings.Builder{}, done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return p
}

// waitLine returns the first line matching re, failing after budget.
func (p *proc) waitLine(t *testing.T, re *regexp.Regexp, budget time.Duration) string {
	t.Helper()
	deadline := time.After(budget)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("process ended before %q:\n%s", re, p.log)
			}
			p.log.WriteString(l + "\n")
			if re.MatchString(l) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %q within %s:\n%s", re, budget, p.log)
		}
	}
}

// wait drains the log and returns the exit status.
func (p *proc) wait(t *testing.T, budget time.Duration) int {
	t.Helper()
	deadline := time.After(budget)
	for {
		select {
		case l, ok := <-p.lines:
			if ok {
				p.log.WriteString(l + "\n")
				continue
			}
			err := <-p.done
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return exit.ExitCode()
			}
			if err != nil {
				t.Fatal(err)
			}
			return 0
		case <-deadline:
			t.Fatalf("process still running after %s:\n%s", budget, p.log)
		}
	}
}

var (
	readyRe      = regexp.MustCompile(`msg="switchtap ready"`)
	endOfInputRe = regexp.MustCompile(`msg="end of input"`)
	cutRe        = regexp.MustCompile(`msg="capture file cut short`)
	stoppedRe    = regexp.MustCompile(`msg="switchtap stopped"`)
)

// buildBinary builds switchtap as shipped (CGO_ENABLED=0).
func buildBinary(t *testing.T) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return nettest.BuildSwitchtap(t, root, 3*time.Minute)
}

// storedCalls lists the store's records with the real binary.
func storedCalls(t *testing.T, bin, dataDir string) string {
	t.Helper()
	out, err := exec.Command(bin, "calls", "--json", "--data-dir", dataDir).Output()
	if err != nil {
		t.Fatalf("calls: %v", err)
	}
	return string(out)
}

// TestBinaryBadDays runs the shipped binary through issue 9's truncation
// (§3), signal (§4: SIGHUP) and permission (§5: umask, data dir) cases.
func TestBinaryBadDays(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.pcap")
	writeLoad(t, whole, 40, false)
	cut := filepath.Join(dir, "cut.pcap")
	off := cutMidPacket(t, whole, cut, 0.6)
	fixed := repaired(t, cut, off)
	wantOut, _, err := runCmd(t, "replay", "--json", fixed)
	if err != nil {
		t.Fatal(err)
	}
	want := len(decodeCalls(t, wantOut))

	t.Run("replay exits 3 on a cut file", func(t *testing.T) {
		cmd := exec.Command(bin, "replay", "--json", cut)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitPartial {
			t.Fatalf("exit %v, want status %d:\n%s", err, exitPartial, stderr.String())
		}
		if string(out) != wantOut {
			t.Fatalf("output differs from the file repaired at the cut")
		}
		if !strings.Contains(stderr.String(), fmt.Sprintf("%s: cut short at byte %d", cut, off)) {
			t.Fatalf("stderr:\n%s", stderr.String())
		}
	})

	t.Run("run --pcap on a cut file keeps its calls, SIGHUP stops cleanly", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		p := startProc(t, bin, "run", "--pcap", cut, "--data-dir", data, "--web-listen", "off", "--metrics-listen", "off")
		l := p.waitLine(t, cutRe, 30*time.Second)
		if !strings.Contains(l, "file="+cut) || !strings.Contains(l, fmt.Sprintf("offset=%d", off)) {
			t.Fatalf("warning names neither the file nor the offset: %s", l)
		}
		p.waitLine(t, endOfInputRe, 30*time.Second)
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("SIGHUP: exit %d, want 0:\n%s", code, p.log)
		}
		if !stoppedRe.MatchString(p.log.String()) {
			t.Fatalf("no clean stop logged:\n%s", p.log)
		}
		if got := len(decodeCalls(t, storedCalls(t, bin, data))); got != want {
			t.Fatalf("%d records stored, want the %d read before the cut", got, want)
		}
	})

	t.Run("SIGHUP mid-capture stores the open calls", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		// Realtime: each call rings 2 s and talks 3 s, so 2.5 s in some
		// are answered and none has ended.
		p := startProc(t, bin, "run", "--pcap", whole, "--realtime", "--data-dir", data, "--web-listen", "off", "--metrics-listen", "off")
		p.waitLine(t, readyRe, 30*time.Second)
		time.Sleep(pcapgen.LoadRing + 500*time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("SIGHUP: exit %d, want 0 (129 = killed, open calls lost):\n%s", code, p.log)
		}
		calls := decodeCalls(t, storedCalls(t, bin, data))
		answered, shutdown := 0, 0
		for _, c := range calls {
			if c.AnsweredAt != nil {
				answered++
			}
			if c.EndDetail == "shutdown" {
				shutdown++
			}
		}
		if answered == 0 || shutdown == 0 {
			t.Fatalf("%d records, %d answered, %d closed by the shutdown: the open calls were not flushed\n%s", len(calls), answered, shutdown, p.log)
		}
	})

	t.Run("umask 077 and a 0755 data dir tightened", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(data, 0o755); err != nil {
			t.Fatal(err)
		}
		stray := filepath.Join(data, "notes.txt")
		if err := os.WriteFile(stray, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(stray, 0o644); err != nil {
			t.Fatal(err)
		}
		// The test's own umask (022 usually) is inherited: the daemon must
		// set its own.
		old := syscall.Umask(0o022)
		defer syscall.Umask(old)
		p := startProc(t, bin, "run", "--pcap", whole, "--data-dir", data, "--web-listen", "off", "--metrics-listen", "off")
		p.waitLine(t, regexp.MustCompile(`directory was open to other users: tightened.*was=0755`), 30*time.Second)
		p.waitLine(t, endOfInputRe, 60*time.Second)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("exit %d:\n%s", code, p.log)
		}
		var n int
		err := filepath.WalkDir(data, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			if e.Type()&fs.ModeSocket != 0 {
				return nil // the API socket's mode is its access control (0660)
			}
			n++
			if m := info.Mode().Perm(); m&0o077 != 0 {
				t.Errorf("%s is mode %04o, open to other users", path, m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 5 {
			t.Fatalf("only %d entries checked under %s", n, data)
		}
		if len(findFiles(t, data, ".wav")) == 0 {
			t.Fatal("no recording made: WAV modes not checked")
		}
	})
}
