package daemon

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
	"github.com/switchtap/switchtap/internal/testenv"
)

// TestSecureDirs is issue 9 §5: a data directory open to the group or to
// others is tightened to 0700 with its files made owner-only, and logged;
// a private or missing one is left alone.
func TestSecureDirs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dirMode  os.FileMode // 0 = no directory
		fileMode os.FileMode
		wantDir  os.FileMode
		wantFile os.FileMode
		wantLog  bool
	}{
		{"0755 with 0644 files", 0o755, 0o644, 0o700, 0o600, true},
		{"0750 group readable", 0o750, 0o640, 0o700, 0o600, true},
		{"0701 world searchable", 0o701, 0o600, 0o700, 0o600, true},
		{"0777", 0o777, 0o666, 0o700, 0o600, true},
		{"0700 stays", 0o700, 0o644, 0o700, 0o644, false},
		{"missing", 0, 0, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			file := filepath.Join(dir, "000001.sst")
			if tc.dirMode != 0 {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(file, tc.fileMode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, tc.dirMode); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			if err := secureDirs(slog.New(slog.NewTextHandler(&logs, nil)), dir); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(logs.String(), "tightened"); got != tc.wantLog {
				t.Fatalf("logged %v, want %v: %s", got, tc.wantLog, logs.String())
			}
			if tc.dirMode == 0 {
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Fatalf("missing directory: stat %v", err)
				}
				return
			}
			if m := mode(t, dir); m != tc.wantDir {
				t.Errorf("dir %04o, want %04o", m, tc.wantDir)
			}
			if m := mode(t, file); m != tc.wantFile {
				t.Errorf("file %04o, want %04o", m, tc.wantFile)
			}
			if tc.wantLog && !strings.Contains(logs.String(), fmt.Sprintf("was=%04o", tc.dirMode)) {
				t.Errorf("log does not give the old mode: %s", logs.String())
			}
		})
	}
	t.Run("not a directory", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := secureDirs(slog.New(slog.DiscardHandler), f); err == nil {
			t.Fatal("a file accepted as data directory")
		}
	})
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// taskCaps reads the capability sets and no_new_privs of every thread of
// process pid from /proc (proc(5)): capabilities are per thread.
func taskCaps(t *testing.T, pid int) map[string]map[string]string {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no tasks of %d: %v", pid, err)
	}
	out := map[string]map[string]string{}
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // thread ended meanwhile
		}
		out[path] = parseStatus(b)
	}
	return out
}

func parseStatus(b []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (strings.HasPrefix(k, "Cap") || k == "NoNewPrivs") {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestParseStatus(t *testing.T) {
	in := "Name:\tswitchtap\nCapInh:\t0000000000000000\nCapPrm:\t0000000000002000\nCapEff:\t0000000000002000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"
	got := parseStatus([]byte(in))
	if got["CapEff"] != "0000000000002000" || got["CapBnd"] != "000001ffffffffff" || got["NoNewPrivs"] != "1" || len(got) != 6 {
		t.Fatalf("%v", got)
	}
}

var (
	readyMetricsRe = regexp.MustCompile(`msg="switchtap ready".* metrics=(\S+)`)
	droppedRe      = regexp.MustCompile(`msg="privileges dropped"`)
	framesRe       = regexp.MustCompile(`(?m)^switchtap_capture_frames_total (\d+)`)
)

// TestDropPrivileges runs the shipped binary (CGO_ENABLED=0) on the
// loopback interface, as root and as nobody holding CAP_NET_RAW alone
// (setpriv, as the systemd unit grants it), and requires (issue 9 §5):
// capture starts with CAP_NET_RAW and no CAP_NET_ADMIN; once ready, every
// thread has empty effective, permitted, inheritable, ambient sets and
// no_new_privs, and root's bounding set is empty; capture, metrics and the
// store keep working afterwards.
func TestDropPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.SkipOrFail(t, "needs root (to start as root, and to become nobody with CAP_NET_RAW)")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		testenv.SkipOrFail(t, "setpriv not installed")
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := nettest.BuildSwitchtap(t, root, 3*time.Minute)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		prefix    []string
		uid       int
		boundZero bool // the bounding set must be empty too
	}{
		{"root", nil, 0, true},
		{"nobody with CAP_NET_RAW only", []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"--inh-caps=-all,+net_raw", "--ambient-caps=-all,+net_raw", "--bounding-set=-all,+net_raw"}, 65534, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			// nobody must reach the data dir: open the test's temporary
			// folders (0700) for search.
			for _, d := range []string{base, filepath.Dir(base)} {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			data := filepath.Join(base, "data")
			if err := os.Mkdir(data, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(data, tc.uid, tc.uid); err != nil {
				t.Fatal(err)
			}
			args := append(append([]string(nil), tc.prefix...), bin, "run", "-i", "lo", "--data-dir", data,
				"--web-listen", "off", "--metrics-listen", "127.0.0.1:0")
			cmd := exec.Command(args[0], args[1:]...)
			pr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			lines := make(chan string, 10000)
			go func() {
				sc := bufio.NewScanner(pr)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			var log strings.Builder
			var metricsAddr string
			deadline := time.After(30 * time.Second)
			dropped := false
			for metricsAddr == "" {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("daemon ended before it was ready:\n%s", log.String())
					}
					log.WriteString(l + "\n")
					dropped = dropped || droppedRe.MatchString(l)
					if m := readyMetricsRe.FindStringSubmatch(l); m != nil {
						metricsAddr = m[1]
					}
				case <-deadline:
					t.Fatalf("not ready:\n%s", log.String())
				}
			}
			// metrics.listen given a host binds that address only (the
			// management interface), not every address.
			if !strings.HasPrefix(metricsAddr, "127.0.0.1:") {
				t.Fatalf("metrics on %s, want 127.0.0.1 only", metricsAddr)
			}
			if !dropped {
				t.Fatalf("no \"privileges dropped\" before ready:\n%s", log.String())
			}
			// setpriv execs the daemon: the pid is the daemon's.
			for path, st := range taskCaps(t, cmd.Process.Pid) {
				for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapAmb"} {
					if v, _ := strconv.ParseUint(st[k], 16, 64); v != 0 || st[k] == "" {
						t.Errorf("%s: %s = %s, want 0", path, k, st[k])
					}
				}
				if v, _ := strconv.ParseUint(st["CapBnd"], 16, 64); tc.boundZero && v != 0 {
					t.Errorf("%s: CapBnd = %s, want 0", path, st["CapBnd"])
				}
				if st["NoNewPrivs"] != "1" {
					t.Errorf("%s: NoNewPrivs = %q", path, st["NoNewPrivs"])
				}
			}
			// The packet socket opened before the drop still captures.
			if n := framesAfterTraffic(t, metricsAddr); n == 0 {
				t.Fatalf("no frame captured after the drop:\n%s", log.String())
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			for l := range lines {
				log.WriteString(l + "\n")
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v\n%s", err, log.String())
			}
		})
	}
}

// framesAfterTraffic sends UDP datagrams over loopback until the daemon's
// metrics count captured frames, and returns the count.
func framesAfterTraffic(t *testing.T, metricsAddr string) uint64 {
	t.Helper()
	conn, err := net.Dial("udp", "127.0.0.1:5060")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := &http.Client{Timeout: 5 * time.Second}
	for range 50 {
		_, _ = conn.Write([]byte("OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n\r\n"))
		resp, err := hc.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := framesRe.FindSubmatch(b); m != nil {
			if n, _ := strconv.ParseUint(string(m[1]), 10, 64); n > 0 {
				return n
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0
}
