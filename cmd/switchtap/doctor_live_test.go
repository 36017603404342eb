package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/testenv"
)

// doctorConfig writes a configuration whose directories are the test's.
func doctorConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "switchtap.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// lineOf returns the report's line of check.
func lineOf(out, check string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " "+check+": ") {
			return l
		}
	}
	return ""
}

var sipCountRe = regexp.MustCompile(`^OK   sip: (\d+) SIP messages from (\d+) addresses on lo`)

// TestDoctorLoopbackSIP runs the doctor for real on loopback while SIP
// OPTIONS go over it: the capture is opened as the daemon opens it, and
// the messages are counted (each is seen twice on lo: out and in).
func TestDoctorLoopbackSIP(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.SkipOrFail(t, "needs root (CAP_NET_RAW) to capture on lo")
	}
	conn, err := net.Dial("udp", "127.0.0.1:5099")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sent := make(chan int, 1)
	go func() {
		n := 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				sent <- n
				return
			case <-tick.C:
				if _, err := conn.Write([]byte(optionsMsg)); err == nil {
					n++
				}
			}
		}
	}()
	var out bytes.Buffer
	err = run(context.Background(), []string{"doctor", "-i", "lo", "--listen", "1500ms", "--config", doctorConfig(t)}, nil, &out, &out)
	cancel()
	n := <-sent
	if err != nil && !errors.Is(err, errDoctorFailed) {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if l := lineOf(out.String(), "interface"); !strings.HasPrefix(l, "OK   interface: lo is up") {
		t.Fatalf("interface line %q\n%s", l, out.String())
	}
	m := sipCountRe.FindStringSubmatch(lineOf(out.String(), "sip"))
	if m == nil {
		t.Fatalf("no OK sip line:\n%s", out.String())
	}
	// Some of what was sent falls before the capture opened or after it
	// closed; at least half must be counted.
	if got, _ := strconv.Atoi(m[1]); got < n/2 {
		t.Fatalf("%d SIP messages counted of %d sent:\n%s", got, n, out.String())
	}
	t.Logf("sent %d, report:\n%s", n, out.String())
}

// TestDoctorQuietLoopback runs the doctor binary (this test binary, as a
// helper) in a network namespace of its own, whose loopback carries
// nothing: the SIP check warns, and only the clock may fail.
func TestDoctorQuietLoopback(t *testing.T) {
	if os.Getenv("SWITCHTAP_DOCTOR_HELPER") == "1" {
		return
	}
	if os.Geteuid() != 0 {
		testenv.SkipOrFail(t, "needs root for a network namespace and CAP_NET_RAW")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, tool+" not installed")
		}
	}
	cmd := exec.Command("unshare", "--net", "sh", "-c", `ip link set lo up && exec "$0" -test.run='^TestDoctorHelper$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "SWITCHTAP_DOCTOR_HELPER=1",
		"SWITCHTAP_DOCTOR_ARGS=doctor -i lo --listen 1s --config "+doctorConfig(t))
	out, err := cmd.CombinedOutput()
	s := string(out)
	if l := lineOf(s, "sip"); !strings.HasPrefix(l, "WARN sip: no SIP seen on lo in 1s (0 frames)") {
		t.Fatalf("sip line %q (%v):\n%s", l, err, s)
	}
	if l := lineOf(s, "interface"); !strings.HasPrefix(l, "OK ") {
		t.Fatalf("interface line %q:\n%s", l, s)
	}
	for _, check := range []string{"gpio", "disk"} {
		if l := lineOf(s, check); !strings.HasPrefix(l, "OK ") {
			t.Fatalf("%s line %q:\n%s", check, l, s)
		}
	}
	// Exit status 1 exactly when a line says FAIL (here only the clock can).
	failed := strings.Contains(s, "\nFAIL ") || strings.HasPrefix(s, "FAIL ")
	var ee *exec.ExitError
	if failed != (errors.As(err, &ee) && ee.ExitCode() == exitError) || !failed && err != nil {
		t.Fatalf("FAIL in report %v, exit %v:\n%s", failed, err, s)
	}
	t.Logf("report:\n%s", s)
}

// TestDoctorHelper is the doctor as a process, for TestDoctorQuietLoopback.
func TestDoctorHelper(t *testing.T) {
	if os.Getenv("SWITCHTAP_DOCTOR_HELPER") != "1" {
		t.Skip("helper process of TestDoctorQuietLoopback")
	}
	err := run(context.Background(), strings.Fields(os.Getenv("SWITCHTAP_DOCTOR_ARGS")), nil, os.Stdout, os.Stderr)
	if err != nil {
		os.Stdout.WriteString("switchtap: " + err.Error() + "\n")
		os.Exit(exitStatus(err))
	}
	os.Exit(0)
}
