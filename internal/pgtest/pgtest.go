// Package pgtest runs a throwaway PostgreSQL cluster for tests: initdb into
// a temporary directory, a postmaster listening on 127.0.0.1 on a free port
// (and on a unix socket inside that directory), and a fresh database per
// test made from template0. The cluster is meant to be started once per
// test package (from TestMain) and shared; tests that stop or restart it
// start their own.
//
// initdb and postgres refuse to run as root, so when the tests run as root
// the cluster's directory is given to the "postgres" account and both run
// under its uid and gid.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchtap/switchtap/internal/testenv"
)

// ErrNoPostgres is returned by Start when no PostgreSQL binaries are found.
var ErrNoPostgres = errors.New("pgtest: PostgreSQL binaries not found (apt-get install postgresql)")

// startTimeout bounds how long the postmaster may take to accept
// connections after a start.
const startTimeout = 30 * time.Second

// Cluster is one running (or stopped) PostgreSQL cluster.
type Cluster struct {
	bin  string // directory of initdb and postgres
	dir  string // temporary root: data/ and the socket
	port int
	cred *syscall.Credential // nil when not root

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	dbs  atomic.Uint64
}

// FindBin returns the bin directory of the newest PostgreSQL under
// /usr/lib/postgresql (Debian's layout), or the directory of initdb on PATH.
func FindBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

// majorOf is the version number in /usr/lib/postgresql/<N>/bin, 0 if none.
func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// Start creates and starts a new cluster. The caller stops it with Close.
func Start(ctx context.Context) (*Cluster, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: temp dir: %w", err)
	}
	c := &Cluster{bin: bin, dir: dir}
	if err := c.init(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := c.start(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// New starts a cluster for one test, stopped and removed at its end. It
// skips the test (fails it in CI) when PostgreSQL is not installed.
func New(t testing.TB) *Cluster {
	t.Helper()
	c, err := Start(context.Background())
	if errors.Is(err, ErrNoPostgres) {
		testenv.SkipOrFail(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// init runs initdb with trust authentication (the cluster only listens on
// loopback and in a private directory) and picks the port.
func (c *Cluster) init(ctx context.Context) error {
	if os.Geteuid() == 0 {
		cred, err := postgresCred()
		if err != nil {
			return err
		}
		c.cred = cred
		if err := os.Chown(c.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: chown: %w", err)
		}
		// The postgres account must be able to reach the directory.
		if err := os.Chmod(c.dir, 0o700); err != nil {
			return fmt.Errorf("pgtest: chmod: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "initdb"),
		"-D", c.dataDir(), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
		"--locale=C", "--no-sync")
	cmd.SysProcAttr = c.sysProcAttr()
	cmd.Dir = c.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	return nil
}

// postgresCred is the uid and gid of the postgres account.
func postgresCred() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs a postgres account: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: postgres account ids %q/%q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the postmaster binds it; start then fails loudly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// start runs the postmaster and waits until it accepts connections. fsync
// is off: the tests simulate process deaths, not power cuts, and a
// committed transaction survives a postmaster restart without it.
func (c *Cluster) start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return nil
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"),
		"-D", c.dataDir(),
		"-h", "127.0.0.1",
		"-p", strconv.Itoa(c.port),
		"-k", c.dir,
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		"-c", "shared_buffers=64MB",
		"-c", "log_min_messages=fatal")
	cmd.SysProcAttr = c.sysProcAttr()
	cmd.Dir = c.dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &lockedWriter{b: &out}, &lockedWriter{b: &out}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.cmd, c.done = cmd, done

	wctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(wctx, c.URL("postgres"))
		if err == nil {
			_ = conn.Close(wctx)
			return nil
		}
		select {
		case <-done:
			c.cmd = nil
			return fmt.Errorf("pgtest: postgres exited at start: %s", out.String())
		case <-wctx.Done():
			c.stopLocked()
			return fmt.Errorf("pgtest: postgres not ready after %s: %w", startTimeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// lockedWriter lets the postmaster's stdout and stderr share a buffer.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() < 64<<10 {
		w.b.Write(p)
	}
	return len(p), nil
}

// URL is the connection URL of database db on the cluster's TCP port.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// SocketDir is the directory of the cluster's unix socket.
func (c *Cluster) SocketDir() string { return c.dir }

// Port is the cluster's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// CreateDB creates a new empty database and returns its URL.
func (c *Cluster) CreateDB(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.dbs.Add(1))
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return c.URL(name), nil
}

// DB creates a fresh database for the test and returns its URL; it is
// dropped at the test's end (the whole cluster goes at the package's).
func (c *Cluster) DB(t testing.TB) string {
	t.Helper()
	u, err := c.CreateDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Stop stops the postmaster (fast shutdown: sessions are ended, committed
// work is kept) and waits for it to exit. Stopping a stopped cluster does
// nothing.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked()
}

func (c *Cluster) stopLocked() {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(startTimeout):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd, c.done = nil, nil
}

// Restart stops the postmaster and starts it again on the same port and
// data: what a client sees as "PostgreSQL restarted".
func (c *Cluster) Restart(ctx context.Context) error {
	c.Stop()
	return c.start(ctx)
}

// Resume starts a stopped cluster again.
func (c *Cluster) Resume(ctx context.Context) error { return c.start(ctx) }

// Close stops the cluster and removes its directory.
func (c *Cluster) Close() {
	c.Stop()
	_ = os.RemoveAll(c.dir)
}

// Main runs a test package with one shared cluster: set receives it before
// the tests run (nil when PostgreSQL is missing: the tests then skip or
// fail through Need). It returns the exit code for os.Exit.
func Main(m *testing.M, set func(*Cluster)) int {
	c, err := Start(context.Background())
	if err != nil && !errors.Is(err, ErrNoPostgres) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	set(c)
	code := m.Run()
	if c != nil {
		c.Close()
	}
	return code
}

// Need returns c, or skips the test (fails it in CI) when c is nil because
// PostgreSQL is not installed.
func Need(t testing.TB, c *Cluster) *Cluster {
	t.Helper()
	if c == nil {
		testenv.SkipOrFail(t, ErrNoPostgres.Error())
	}
	return c
}
