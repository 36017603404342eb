package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// startServer runs a server for reg on 127.0.0.1:0 and returns its base
// URL, a stop function and the channel Run's result arrives on.
func startServer(t *testing.T, reg *prometheus.Registry) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	s := NewServer("127.0.0.1:0", Handler(reg), discardLogger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("server not ready after 5 s")
	}
	if s.Addr() == nil {
		cancel()
		t.Fatalf("server failed to listen: %v", <-done)
	}
	t.Cleanup(cancel)
	return "http://" + s.Addr().String(), cancel, done
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestServer(t *testing.T) {
	reg := goldenRegistry(t)
	base, cancel, done := startServer(t, reg)

	tests := []struct {
		name, path string
		status     int
		ctype      string
		contains   []string
	}{
		{"metrics", MetricsPath, http.StatusOK, "text/plain", []string{
			`switchtap_build_info{goversion="go1.26.0",revision="2aeca53",version="v0.3.0"} 1`,
			`switchtap_calls_ringing 2`,
			`go_goroutines `,
		}},
		{"index links to metrics", "/", http.StatusOK, "text/html", []string{`href="/metrics"`}},
		{"anything else is 404", "/debug/pprof/", http.StatusNotFound, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ctype, body := get(t, base+tt.path)
			if status != tt.status {
				t.Fatalf("GET %s: %d, want %d", tt.path, status, tt.status)
			}
			if !strings.HasPrefix(ctype, tt.ctype) {
				t.Errorf("GET %s: Content-Type %q, want %q…", tt.path, ctype, tt.ctype)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s: body lacks %q", tt.path, s)
				}
			}
		})
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(shutdownTimeout + time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := http.Get(base + MetricsPath); err == nil {
		t.Error("server still answers after Run returned")
	}
}

// TestServerShutdownWaitsForScrape checks that a scrape in progress when
// the context ends is completed, not cut.
func TestServerShutdownWaitsForScrape(t *testing.T) {
	m, reg := newTestMetrics(t, testConfig())
	entered := make(chan struct{})
	release := make(chan struct{})
	m.SetSnapshot(func() Snapshot {
		close(entered)
		<-release
		return fixtureSnapshot()
	})
	base, cancel, done := startServer(t, reg)
	type result struct {
		status int
		body   string
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + MetricsPath)
		if err != nil {
			got <- result{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b)}
	}()
	<-entered
	cancel()
	time.Sleep(50 * time.Millisecond) // let Shutdown start
	close(release)
	r := <-got
	if r.status != http.StatusOK || !strings.Contains(r.body, "switchtap_capture_up 1") {
		t.Errorf("scrape during shutdown: %d, %d bytes", r.status, len(r.body))
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestServerListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := NewServer(ln.Addr().String(), http.NotFoundHandler(), discardLogger())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = s.Run(ctx)
	if !errors.Is(err, ErrListen) {
		t.Fatalf("Run on a used port: %v, want ErrListen", err)
	}
	select {
	case <-s.Ready():
	default:
		t.Error("Ready not closed after a failed listen")
	}
	if s.Addr() != nil {
		t.Errorf("Addr = %v after a failed listen, want nil", s.Addr())
	}
}
