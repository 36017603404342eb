package sync_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/internal/pcapgen"
)

// loadPcap writes pcapgen's load of n calls (one every 100 ms, each about
// 5 s long) and returns its path.
func loadPcap(t *testing.T, dir, name string, n int) string {
	t.Helper()
	p := filepath.Join(dir, name+".pcap")
	if err := pcapgen.WriteFile(p, func(w *pcapgen.Writer) error {
		_, _, err := pcapgen.Load(w, n, pcapgen.BaseTime())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// inBox is an in-process daemon on a capture file with the uplink on.
type inBox struct {
	id, data string
	d        *daemon.Daemon
	stop     context.CancelFunc
	done     chan error
}

// startInBox runs a daemon on pcap sending to url.
func startInBox(t *testing.T, id, data, url, token, ca, pcap string, realtime bool, tune func(*config.Config)) *inBox {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = data
	cfg.Web.Listen, cfg.Metrics.Listen = "", "127.0.0.1:0"
	cfg.Recording.Enabled = false
	cfg.Uplink.URL = url
	cfg.Uplink.BoxID, cfg.Uplink.Token, cfg.Uplink.CA = id, token, ca
	cfg.Uplink.Poll = 50 * time.Millisecond
	cfg.Uplink.BackoffMin, cfg.Uplink.BackoffMax = 50*time.Millisecond, time.Second
	if tune != nil {
		tune(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d, err := daemon.New(ctx, daemon.Options{Config: cfg, Pcaps: []string{pcap}, Realtime: realtime, Log: discard(),
		Argon: ptr(testArgon())})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	b := &inBox{id: id, data: data, d: d, stop: cancel, done: make(chan error, 1)}
	go func() { b.done <- d.Run(ctx) }()
	t.Cleanup(func() { b.halt(t) })
	return b
}

// halt stops the daemon and waits for it.
func (b *inBox) halt(t *testing.T) {
	t.Helper()
	if b.stop == nil {
		return
	}
	b.stop()
	b.stop = nil
	if err := <-b.done; err != nil {
		t.Errorf("box %s: %v", b.id, err)
	}
}

// scrape reads a Prometheus text page into name{labels} → value.
func scrape(addr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics") //nolint:noctx // a test scrape
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseMetrics(string(body)), nil
}

// parseMetrics reads a Prometheus text page.
func parseMetrics(page string) map[string]float64 {
	m := map[string]float64{}
	for _, line := range strings.Split(page, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// waitSent waits until the box's input ended (ended), its outbox is empty
// by its metrics, and the central holds want of its records.
func waitSent(t *testing.T, timeout time.Duration, ended func() bool, metricsAddr func() string, db, box string, want int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var depth float64 = -1
		n := -1
		if ended() {
			if m, err := scrape(metricsAddr()); err == nil {
				if v, ok := m["switchtap_uplink_outbox_records"]; ok {
					depth = v
				}
			}
			if revs, err := queryRevs(db, box); err == nil {
				n = len(revs)
			}
			if depth == 0 && n == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("box %s after %v: input ended %v, outbox depth %v, central records %d of %d", box, timeout, ended(), depth, n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }
