package daemon_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testcert"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// cheapArgon keeps the tests fast; the default cost is measured in
// access's benchmarks.
var cheapArgon = access.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

// writeCaptures writes the synthetic scenarios named, one pcap each.
func writeCaptures(t *testing.T, dir string, names ...string) []string {
	t.Helper()
	var paths []string
	for _, n := range names {
		s, err := pcapgen.Lookup(n)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, n+".pcap")
		if _, err := s.WriteFile(p); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// replayRecords is what `switchtap replay --json` prints for path.
func replayRecords(t *testing.T, cfg config.Config, paths []string) map[string]sip.Call {
	t.Helper()
	src, err := capture.OpenFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := map[string]sip.Call{}
	p := tap.NewPipeline(cfg.TrackerConfig(), func(c sip.Call) { out[c.ID] = c }, discard())
	if err := tap.Replay(context.Background(), src, p); err != nil {
		t.Fatal(err)
	}
	return out
}

type running struct {
	d    *daemon.Daemon
	cfg  config.Config
	stop context.CancelFunc
	done chan error
	base string
}

func start(t *testing.T, cfg config.Config, pcaps []string) *running {
	t.Helper()
	return startLogging(t, cfg, pcaps, testLog(t))
}

// startLogging is start with the daemon's log sent to log.
func startLogging(t *testing.T, cfg config.Config, pcaps []string, log *slog.Logger) *running {
	t.Helper()
	d, err := daemon.New(context.Background(), daemon.Options{Config: cfg, Pcaps: pcaps, Version: "test", Log: log, Argon: &cheapArgon})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{d: d, cfg: cfg, stop: cancel, done: make(chan error, 1), base: "http://" + d.WebAddr().String()}
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() { r.shutdown(t) })
	return r
}

func (r *running) shutdown(t *testing.T) {
	t.Helper()
	if r.stop == nil {
		return
	}
	r.stop()
	r.stop = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop")
	}
}

func testConfig(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Metrics.Listen = "127.0.0.1:0"
	cfg.Recording.MinFree = 0
	return cfg
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func adminPassword(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, daemon.AdminPasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`contraseña: (\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no password in %q", b)
	}
	return string(m[1])
}

// client is a browser-like API client with a cookie jar; it sends the
// Origin of the console, as a browser does on a same-origin POST.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", c.base)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestRunPcap runs the whole daemon on a capture file: the records it
// stores equal replay's, /healthz and /metrics answer without a login and
// nothing else does, the first admin must change its generated password,
// the API then serves the records, the command line's socket reaches the
// running daemon, and after shutdown the store holds every record.
func TestRunPcap(t *testing.T) {
	dir := t.TempDir()
	pcaps := writeCaptures(t, dir, "answered", "abandoned", "blind-transfer")
	cfg := testConfig(t)
	want := replayRecords(t, cfg, pcaps)
	logged := &logBuffer{}
	r := startLogging(t, cfg, pcaps, logged.logger())
	waitFor(t, "the capture to be stored", func() bool { return r.d.InputStored() && r.d.Stored() >= uint64(len(want)) })
	// No certificate: the console is served over plain HTTP, and the log
	// says so at start.
	if l := logged.String(); !strings.Contains(l, "level=WARN msg=\""+plainHTTPWarning) || !strings.Contains(l, "listen="+cfg.Web.Listen) {
		t.Errorf("no plain-HTTP warning in the log:\n%s", l)
	}

	anon := newClient(t, r.base)
	if code, _ := anon.do("GET", "/healthz", nil); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
	mc := newClient(t, "http://"+r.d.MetricsAddr().String())
	if code, b := mc.do("GET", "/metrics", nil); code != http.StatusOK || !bytes.Contains(b, []byte("switchtap_")) {
		t.Errorf("/metrics: %d", code)
	} else if !bytes.Contains(b, []byte("\nswitchtap_capture_lag_max_seconds 0\n")) {
		// The files' frames are months old: no capture lag from them.
		t.Errorf("/metrics: a capture lag from capture files:\n%s", b)
	}
	for _, p := range []string{"/api/v1/calls?from=2026-03-01&to=2026-03-03", "/api/v1/status", "/api/v1/audit", "/envivo", "/llamadas"} {
		if code, _ := anon.do("GET", p, nil); code != http.StatusUnauthorized && code != http.StatusSeeOther {
			t.Errorf("anonymous %s: %d, want 401 or a redirect to the login", p, code)
		}
	}

	c := newClient(t, r.base)
	pw := adminPassword(t, cfg.DataDir)
	if code, b := c.do("POST", "/api/v1/login", map[string]string{"name": "admin", "password": pw}); code != http.StatusOK {
		t.Fatalf("login: %d %s", code, b)
	}
	if code, _ := c.do("GET", "/api/v1/calls?from=2026-03-01&to=2026-03-03", nil); code != http.StatusForbidden {
		t.Errorf("calls before the password change: %d, want 403", code)
	}
	if code, b := c.do("POST", "/api/v1/account/password", map[string]string{"old": pw, "new": "otra-clave-larga-1"}); code/100 != 2 {
		t.Fatalf("change password: %d %s", code, b)
	}
	code, b := c.do("GET", "/api/v1/calls?from=2026-03-01&to=2026-03-03", nil)
	if code != http.StatusOK {
		t.Fatalf("calls: %d %s", code, b)
	}
	var got []sip.Call
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("API gave %d records, replay %d", len(got), len(want))
	}
	for _, g := range got {
		w, ok := want[g.ID]
		w.Messages, g.Messages = nil, nil
		if !ok || !reflect.DeepEqual(stripRecording(g), stripRecording(w)) {
			t.Errorf("record %s:\n api    %+v\n replay %+v", g.ID, g, w)
		}
	}

	// The command line reaches the running daemon through its socket.
	cl, ok := daemon.Dial(cfg.SocketPath())
	if !ok {
		t.Fatal("socket does not answer")
	}
	var viaSocket []sip.Call
	if err := cl.Do(context.Background(), "GET", "/api/v1/calls?from=2026-03-01&to=2026-03-03", nil, &viaSocket); err != nil {
		t.Fatal(err)
	}
	if len(viaSocket) != len(want) {
		t.Errorf("socket gave %d records, want %d", len(viaSocket), len(want))
	}
	if err := cl.Do(context.Background(), "POST", "/api/v1/users", map[string]string{"name": "ana", "role": "tecnico", "password": "clave-de-ana-1"}, nil); err != nil {
		t.Fatalf("user add over the socket: %v", err)
	}
	// `switchtap audit verify` reaches the chain's check over it.
	var sockRep access.VerifyReport
	if err := cl.Do(context.Background(), "GET", "/audit/verify", nil, &sockRep); err != nil || sockRep.Entries == 0 || len(sockRep.Problems) != 0 {
		t.Fatalf("audit verify over the socket: %+v %v", sockRep, err)
	}

	r.shutdown(t)
	st, err := storage.Open(cfg.DataDir, storage.WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 0
	if err := st.Calls(context.Background(), time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), func(c sip.Call) error {
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("%d records in the store after shutdown, want %d", n, len(want))
	}
	acc, err := access.New(st.KV("access"), access.Config{}, discard())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := acc.Verify(context.Background())
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("audit verify: %+v %v", rep, err)
	}
	actions := map[string]int{}
	remotes := map[string]string{}
	if err := acc.AuditRange(context.Background(), time.Unix(0, 0), time.Now().Add(time.Hour), func(e access.Entry) error {
		actions[e.Action]++
		remotes[e.Action] = e.Remote
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"login", "password_change", "user_added"} {
		if actions[a] == 0 {
			t.Errorf("no %q in the audit log: %v", a, actions)
		}
	}
	// Who acted from where: the browser's address, the local socket.
	if remotes["login"] != "127.0.0.1" || remotes["password_change"] != "127.0.0.1" || remotes["user_added"] != "socket" {
		t.Errorf("audit remotes %v", remotes)
	}
}

// stripRecording drops the recording's file details, which replay without
// a record dir does not have.
func stripRecording(c sip.Call) sip.Call {
	// The recorder's fields: replay here runs without one.
	c.Recording, c.Speech, c.Quality = nil, nil, nil
	return c
}

// TestRunNeedsInput: neither an interface nor files is a usage error.
func TestRunNeedsInput(t *testing.T) {
	cfg := testConfig(t)
	_, err := daemon.New(context.Background(), daemon.Options{Config: cfg, Log: discard()})
	if !errors.Is(err, daemon.ErrUsage) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(cfg.SocketPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed start left %s behind: %v", cfg.SocketPath(), err)
	}
}

// logBuffer keeps what a daemon logs, for the tests that read it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logger returns a text logger into b.
func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// plainHTTPWarning is the start of the warning logged when the console is
// served without TLS.
const plainHTTPWarning = "web console served over plain HTTP"

// testLog shows the daemon's log with -v when SWITCHTAP_TEST_LOG is set.
func testLog(t *testing.T) *slog.Logger {
	if os.Getenv("SWITCHTAP_TEST_LOG") == "" {
		return discard()
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// TestRunTLS: with a certificate the console is served over HTTPS only,
// and the session cookie is Secure (and HttpOnly, SameSite=Lax).
func TestRunTLS(t *testing.T) {
	dir := t.TempDir()
	pcaps := writeCaptures(t, dir, "answered")
	cfg := testConfig(t)
	certFile, keyFile, pool := testcert.Write(t, dir)
	cfg.Web.TLSCert, cfg.Web.TLSKey = certFile, keyFile
	logged := &logBuffer{}
	r := startLogging(t, cfg, pcaps, logged.logger())
	addr := r.d.WebAddr().String()
	if strings.Contains(logged.String(), plainHTTPWarning) {
		t.Error("the plain-HTTP warning is logged under TLS")
	}

	// Go's TLS server answers a plain request with a 400 and nothing else.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the TLS port: %d", resp.StatusCode)
		}
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	b, _ := json.Marshal(map[string]string{"name": "admin", "password": adminPassword(t, cfg.DataDir)})
	req, _ := http.NewRequest("POST", "https://"+addr+"/api/v1/login", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login over TLS: %d", resp.StatusCode)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "switchtap_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v: want Secure, HttpOnly, SameSite=Lax", session)
	}
}

// TestFirstAdmin: on the first start with no users the admin's password
// is written once to the log and to a 0600 file, even over a file left
// with a wider mode; a later start creates no second admin and leaves the
// file alone.
func TestFirstAdmin(t *testing.T) {
	dir := t.TempDir()
	pcaps := writeCaptures(t, dir, "answered")
	cfg := testConfig(t)
	cfg.Web.Listen, cfg.Metrics.Listen = "", ""
	// A private data dir (a wider one would have its files tightened at
	// start, hiding the file's own mode).
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg.DataDir, daemon.AdminPasswordFile)
	if err := os.WriteFile(path, []byte("left by an earlier install\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	logged := &logBuffer{}
	d, err := daemon.New(context.Background(), daemon.Options{Config: cfg, Pcaps: pcaps, Version: "test", Log: logged.logger(), Argon: &cheapArgon})
	if err != nil {
		t.Fatal(err)
	}
	stop := func(d *daemon.Daemon) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := d.Run(ctx); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	stop(d)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("%s is mode %04o, want 0600", daemon.AdminPasswordFile, m)
	}
	pw := adminPassword(t, cfg.DataDir)
	line := ""
	for l := range strings.SplitSeq(logged.String(), "\n") {
		if strings.Contains(l, "account admin created") {
			line = l
		}
	}
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "user=admin") || !strings.Contains(line, "password="+pw) ||
		!strings.Contains(line, "file="+path) {
		t.Errorf("the log's first-admin line %q does not carry the file's password %q", line, pw)
	}

	// A second start: the account exists, nothing is created or written.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	again := &logBuffer{}
	d, err = daemon.New(context.Background(), daemon.Options{Config: cfg, Pcaps: pcaps, Version: "test", Log: again.logger(), Argon: &cheapArgon})
	if err != nil {
		t.Fatal(err)
	}
	stop(d)
	if strings.Contains(again.String(), "account admin created") {
		t.Error("a second start created the admin again")
	}
	if got := adminPassword(t, cfg.DataDir); got != pw {
		t.Errorf("a second start rewrote the password file")
	}
}
