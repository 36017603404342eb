package sync_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/internal/pgtest"
	"github.com/switchtap/switchtap/internal/testcert"
)

// TestPostgresRestartedMidRun restarts PostgreSQL twice (cluster.Restart:
// a fast shutdown, then a start on the same port and data; then a stop
// held 1.5 s before the start) while a
// daemon replays a capture at its own speed and sends it: the central's
// transactions in flight fail, it answers 503, the box waits and resends,
// and both sides end with the same records and revisions, each seq
// applied once.
func TestPostgresRestartedMidRun(t *testing.T) {
	const loadCalls, box = 150, "caja-pg"
	cluster := pgtest.New(t)
	db := cluster.DB(t)
	dir := t.TempDir()
	certFile, keyFile, _ := testcert.Write(t, dir, net.ParseIP("127.0.0.1"))
	cfg := centralCfg(db, certFile, keyFile)
	cfg.RetryAfter = time.Second
	cen := serveCentral(t, cfg, "127.0.0.1:0")
	token, err := cen.srv.AddBox(context.Background(), box, "Oficina pg")
	if err != nil {
		t.Fatal(err)
	}
	pcap := loadPcap(t, dir, box, loadCalls)
	began := time.Now()
	b := startInBox(t, box, filepath.Join(dir, "box"), "https://"+cen.addr, token, certFile, pcap, true,
		func(c *config.Config) { c.Uplink.BatchRecords = 10 })

	var restarts []time.Duration
	for _, at := range []int{20, 80} {
		deadline := time.Now().Add(time.Minute)
		for {
			revs, err := queryRevs(db, box)
			if err == nil && len(revs) >= at {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("central never reached %d records (%v)", at, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t0 := time.Now()
		if at == 20 {
			if err := cluster.Restart(context.Background()); err != nil {
				t.Fatal(err)
			}
		} else {
			// Down long enough that batches surely meet it.
			cluster.Stop()
			time.Sleep(1500 * time.Millisecond)
			if err := cluster.Resume(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		restarts = append(restarts, time.Since(t0).Round(time.Millisecond))
	}
	waitSent(t, 2*time.Minute, b.d.InputEnded, func() string { return b.d.MetricsAddr().String() }, db, box, loadCalls)
	took := time.Since(began)
	m, err := scrape(b.d.MetricsAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	b.halt(t)
	got := requireSame(t, dirRevs(t, b.data), centralRevs(t, db, box), loadCalls)
	applied := checkLedger(t, db, box)
	busy, failed := m[`switchtap_uplink_batches_total{result="busy"}`], m[`switchtap_uplink_batches_total{result="error"}`]
	if busy+failed == 0 {
		t.Errorf("no batch was refused while PostgreSQL restarted: the restarts missed the run")
	}
	t.Logf("PostgreSQL restarted twice (each down %v) mid-run: %v in %v; batches ok %v, busy (503) %v, error %v; %d batches applied",
		restarts, got, took.Round(time.Millisecond), m[`switchtap_uplink_batches_total{result="ok"}`], busy, failed, applied)
}
