package central

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pgtest"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  Config
		want error
	}{
		{"no database", Config{}, ErrConfig},
		{"cert without key", Config{Database: "postgres://x", TLSCert: "c.pem"}, ErrConfig},
		{"negative conns", Config{Database: "postgres://x", MaxConns: -1}, ErrConfig},
		{"decoded under body", Config{Database: "postgres://x", MaxBody: 1 << 20, MaxDecoded: 1 << 10}, ErrConfig},
		{"retry after under a second", Config{Database: "postgres://x", RetryAfter: time.Millisecond}, ErrConfig},
		{"defaults", Config{Database: "postgres://x"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.withDefaults()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil && (got.Listen != DefaultListen || got.MaxInflight != DefaultMaxConns || got.MaxDecoded != DefaultMaxDecoded) {
				t.Fatalf("defaults not filled: %+v", got)
			}
		})
	}
	if _, err := New(context.Background(), Config{Database: "postgres://x", Timezone: "Mars/Olympus"}, discard()); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad timezone: %v", err)
	}
}

// TestServeShutsDown: Serve answers until its context ends, then returns
// nil after a graceful shutdown.
func TestServeShutsDown(t *testing.T) {
	t.Parallel()
	pgtest.Need(t, cluster)
	e := newEnv(t, nil, nil)
	b := e.addBox("caja-run", "O")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.s.Serve(ctx, ln) }()
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+PathCursor, nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("still serving after shutdown")
	}
}
