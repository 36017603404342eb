package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
)

// daemonProc is a switchtap run process with its log read line by line.
type daemonProc struct {
	cmd   *exec.Cmd
	lines chan string
	web   string
}

var (
	webAddrRe  = regexp.MustCompile(`msg="switchtap ready".* web=(\S+)`)
	storedIDRe = regexp.MustCompile(`msg="call stored".* id=(\S+)`)
)

func startDaemon(t *testing.T, bin string, args ...string) *daemonProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run"}, args...)...)
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &daemonProc{cmd: cmd, lines: make(chan string, 100000)}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.After(20 * time.Second)
	for p.web == "" {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatal("daemon exited before it was ready")
			}
			if m := webAddrRe.FindStringSubmatch(l); m != nil {
				p.web = "http://" + m[1]
			}
		case <-deadline:
			t.Fatal("daemon not ready")
		}
	}
	return p
}

func jsonDo(t *testing.T, hc *http.Client, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// TestKill9WithWebUp kills the daemon with SIGKILL while it captures,
// stores and serves a logged-in console, and starts it again on the same
// data directory: every record it had reported stored is there, the
// session survives (it lives in the store), and the audit chain verifies.
func TestKill9WithWebUp(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchtap")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	load := filepath.Join(dir, "load.pcap")
	if err := pcapgen.WriteFile(load, func(w *pcapgen.Writer) error {
		_, _, err := pcapgen.Load(w, 150, pcapgen.BaseTime())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "switchtap.yaml")
	if err := os.WriteFile(cfg, []byte("recording:\n  min_free: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--config", cfg, "--data-dir", data, "--web-listen", "127.0.0.1:0", "--metrics-listen", "off"}

	p := startDaemon(t, bin, append([]string{"--pcap", load, "--realtime"}, common...)...)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	pw := adminPasswordIn(t, data)
	if code := jsonDo(t, hc, "POST", p.web+"/api/v1/login", map[string]string{"name": "admin", "password": pw}, nil); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	if code := jsonDo(t, hc, "POST", p.web+"/api/v1/account/password", map[string]string{"old": pw, "new": "clave-nueva-admin"}, nil); code/100 != 2 {
		t.Fatalf("password change: %d", code)
	}

	stored := map[string]bool{}
	deadline := time.After(60 * time.Second)
	for len(stored) < 25 {
		select {
		case l := <-p.lines:
			if m := storedIDRe.FindStringSubmatch(l); m != nil {
				stored[m[1]] = true
			}
		case <-deadline:
			t.Fatalf("only %d calls stored", len(stored))
		}
	}
	// Requests in flight while it dies (their errors are expected).
	inflight := make(chan struct{})
	go func() {
		defer close(inflight)
		c := &http.Client{Jar: jar, Timeout: time.Second}
		for range 20 {
			if resp, err := c.Get(p.web + "/api/v1/calls?from=2026-03-01&to=2026-03-03"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	<-inflight
	for l := range p.lines {
		if m := storedIDRe.FindStringSubmatch(l); m != nil {
			stored[m[1]] = true
		}
	}
	t.Logf("killed after %d records were reported stored", len(stored))

	busy, _ := pcapgen.Lookup("busy")
	small := filepath.Join(dir, "busy.pcap")
	if _, err := busy.WriteFile(small); err != nil {
		t.Fatal(err)
	}
	p2 := startDaemon(t, bin, append([]string{"--pcap", small}, common...)...)
	// The cookie jar is keyed by host, not port: move the cookie over.
	hc2 := &http.Client{Timeout: 10 * time.Second}
	req, _ := http.NewRequest("GET", p2.web+"/api/v1/me", nil)
	for _, c := range jar.Cookies(mustURL(t, p.web)) {
		req.AddCookie(c)
	}
	resp, err := hc2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the session did not survive the crash: /api/v1/me %d", resp.StatusCode)
	}
	out, errOut, err := runBin(t, bin, "calls", "--json", "--data-dir", data)
	if err != nil {
		t.Fatalf("calls: %v %s", err, errOut)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c sip.Call
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		have[c.ID] = true
	}
	for id := range stored {
		if !have[id] {
			t.Errorf("record %s was reported stored before the crash and is gone", id)
		}
	}
	if o, e, err := runBin(t, bin, "audit", "verify", "--data-dir", data); err != nil || !strings.Contains(o, "intact") {
		t.Errorf("audit verify after the crash: %v %s %s", err, o, e)
	}
}

func runBin(t *testing.T, bin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func adminPasswordIn(t *testing.T, data string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "admin-password.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`contraseña: (\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no password in %q", b)
	}
	return string(m[1])
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
