package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
)

// openPty opens a pseudo-terminal pair (/dev/ptmx, unlocked, and its
// /dev/pts/N): a real terminal for term.IsTerminal, without creack/pty.
func openPty(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("no pseudo-terminals here: %v", err))
	}
	fd := int(m.Fd()) //nolint:gosec // G115: a file descriptor fits an int
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("open pts: %v", err)
	}
	return m, s
}

// TestReplayProgressOnTerminal runs replay with stderr on a real
// pseudo-terminal: the line is drawn in place, and the final line's
// packets, bytes and calls are those of the capture (the decoder's frame
// count, the file's size, the summary's calls).
func TestReplayProgressOnTerminal(t *testing.T) {
	master, tty := openPty(t)
	defer master.Close()
	dir := t.TempDir()
	pcap := filepath.Join(dir, "load.pcap")
	if err := pcapgen.WriteFile(pcap, func(w *pcapgen.Writer) error {
		if _, _, err := pcapgen.Load(w, 20, pcapgen.BaseTime()); err != nil {
			return err
		}
		return w.Flush()
	}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(pcap)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan string)
	go func() {
		var b bytes.Buffer
		// Read until the terminal's other side is closed (EIO).
		_, _ = io.Copy(&b, master)
		out <- b.String()
	}()
	var stdout bytes.Buffer
	err = run(context.Background(), []string{"replay", pcap}, strings.NewReader(""), &stdout, tty)
	tty.Close()
	got := strings.ReplaceAll(<-out, "\r\n", "\n") // the terminal's own newline mapping
	if err != nil {
		t.Fatalf("replay: %v (stderr %q)", err, got)
	}
	if !strings.HasPrefix(got, "\r") || !strings.Contains(got, " left") {
		t.Fatalf("no progress line drawn: %q", got)
	}
	m := regexp.MustCompile(`switchtap: read ([0-9.]+) MB, (\d+) packets in [0-9.]+s \([^)]*\), (\d+) calls\n(\d+) frames, \d+ SIP messages, \d+ rejected, (\d+) calls\n$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no final line followed by the summary: %q", got)
	}
	if want := fmt.Sprintf("%.1f", float64(st.Size())/1e6); m[1] != want {
		t.Errorf("read %s MB, the file has %s MB", m[1], want)
	}
	if m[2] != m[4] {
		t.Errorf("progress counted %s packets, the decoder %s frames", m[2], m[4])
	}
	if m[3] != m[5] || m[3] != "20" {
		t.Errorf("progress counted %s calls, the summary %s, the capture 20", m[3], m[5])
	}
}

// TestRunPcapProgressOnTerminal runs the daemon on a capture with stderr on
// a pseudo-terminal: the line is drawn while the files are read and ends
// with the bytes of the file and the records stored.
func TestRunPcapProgressOnTerminal(t *testing.T) {
	master, tty := openPty(t)
	defer master.Close()
	bin := buildBinary(t)
	dir := t.TempDir()
	pcap := filepath.Join(dir, "load.pcap")
	if err := pcapgen.WriteFile(pcap, func(w *pcapgen.Writer) error {
		if _, _, err := pcapgen.Load(w, 20, pcapgen.BaseTime()); err != nil {
			return err
		}
		return w.Flush()
	}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(pcap)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--pcap", pcap, "--data-dir", filepath.Join(dir, "data"),
		"--web-listen", "off", "--metrics-listen", "off")
	cmd.Stderr = tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	final := regexp.MustCompile(`switchtap: read ([0-9.]+) MB, (\d+) packets in [0-9.]+s \([^)]*\), (\d+) records`)
	var b bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.Now().Add(30 * time.Second)
	for !final.Match(b.Bytes()) {
		if time.Now().After(deadline) {
			t.Fatalf("no final progress line in 30 s: %q", b.String())
		}
		_ = master.SetReadDeadline(time.Now().Add(time.Second))
		n, _ := master.Read(buf)
		b.Write(buf[:n])
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	got := b.String()
	m := final.FindStringSubmatch(got)
	if !strings.HasPrefix(got, "\r") && !strings.Contains(got, "\r") {
		t.Errorf("the line is not drawn in place: %q", got)
	}
	if want := fmt.Sprintf("%.1f", float64(st.Size())/1e6); m[1] != want {
		t.Errorf("read %s MB, the file has %s MB", m[1], want)
	}
	if n, _ := strconv.Atoi(m[3]); n < 20 {
		t.Errorf("%s records stored at the end of 20 calls", m[3])
	}
}
