package sync_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pgtest"
	"github.com/switchtap/switchtap/internal/testcert"
	"github.com/switchtap/switchtap/internal/tmpfs"
)

// tmpfsSize holds badger's preallocated files (48 MiB), its reserve
// (32 MiB) and its floor (64 MiB) with room to record (as test/diskfull).
const tmpfsSize = 256 << 20

// fillDisk writes zeros until the filesystem is full, as another service
// would.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=1M").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "No space left") {
		t.Fatalf("dd did not fill the disk: %v: %s", err, out)
	}
}

// TestDiskNearlyFullDuringOutage runs the real binary with its data on a
// small tmpfs, recording, while the central server is down. Another
// writer fills the disk: recordings stop ("disk floor reached" logged),
// the store refuses writes and keeps records in memory, the outbox
// waits. Then the disk is freed and the central server comes up on the
// address the box was configured with: no record was dropped, and both
// sides end with the same records and revisions.
func TestDiskNearlyFullDuringOutage(t *testing.T) {
	const loadCalls, box = 150, "caja-disco"
	fs := tmpfs.Mount(t, tmpfsSize)
	bin := buildBin(t)
	cluster := pgtest.New(t)
	db := cluster.DB(t)
	dir := t.TempDir()
	certFile, keyFile, _ := testcert.Write(t, dir, net.ParseIP("127.0.0.1"))
	cfg := centralCfg(db, certFile, keyFile)
	// Enrol the box, then stop: the outage starts before the box does.
	listen := freeAddr(t)
	cen := serveCentral(t, cfg, listen)
	token, err := cen.srv.AddBox(context.Background(), box, "Oficina disco")
	if err != nil {
		t.Fatal(err)
	}
	cen.stop()

	pcap := loadPcap(t, dir, box, loadCalls)
	data := filepath.Join(fs, "data")
	boxCfg := filepath.Join(dir, "box.yaml")
	// The recording floor above the store's: a filling disk stops the
	// audio first.
	writeFile(t, boxCfg, boxYAML("https://"+listen, box, token, certFile, 20, "recording:\n  min_free: 120MiB\n"))
	began := time.Now()
	bx := startChild(t, "box", bin, "run", "--pcap", pcap, "--realtime", "--config", boxCfg, "--data-dir", data,
		"--web-listen", "off", "--metrics-listen", "127.0.0.1:0")
	addr := bx.waitLog(t, `msg="switchtap ready"`, 30*time.Second)["metrics"]
	bx.waitLog(t, `msg="call stored"`, 30*time.Second)
	// A backlog in the outbox, and the box saying it is cut off.
	waitMetricOf(t, bx, addr, "switchtap_uplink_outbox_records", func(v float64) bool { return v >= 40 }, 30*time.Second)
	waitMetricOf(t, bx, addr, "switchtap_uplink_offline", func(v float64) bool { return v == 1 }, 15*time.Second)

	filler := filepath.Join(fs, "dd.fill")
	fillDisk(t, filler)
	bx.waitLog(t, `msg="disk floor reached: no audio is written"`, 15*time.Second)
	m := waitMetricOf(t, bx, addr, "switchtap_store_disk_full", func(v float64) bool { return v == 1 }, 15*time.Second)
	depthFull := m["switchtap_uplink_outbox_records"]
	if m["switchtap_uplink_offline"] != 1 {
		t.Errorf("the box does not show the outage on a full disk")
	}
	time.Sleep(2 * time.Second)
	m = waitMetricOf(t, bx, addr, "switchtap_store_queue_records", func(v float64) bool { return v > 0 }, 15*time.Second)
	queued := m["switchtap_store_queue_records"]

	// The disk back first, then the server.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitMetricOf(t, bx, addr, "switchtap_store_disk_full", func(v float64) bool { return v == 0 }, 15*time.Second)
	backAt := time.Now()
	serveCentral(t, cfg, listen) // stopped by its own cleanup
	bx.waitLog(t, `msg="end of input"`, 90*time.Second)
	waitSent(t, 2*time.Minute, func() bool { return true }, func() string { return addr }, db, box, loadCalls)
	caught := time.Since(backAt)
	m, err = scrape(addr)
	if err != nil {
		t.Fatal(err)
	}
	if m["switchtap_store_dropped_records_total"] != 0 {
		t.Errorf("%v records dropped", m["switchtap_store_dropped_records_total"])
	}
	bx.stop(t, time.Minute)
	got := requireSame(t, dirRevs(t, data), centralRevs(t, db, box), loadCalls)
	applied := checkLedger(t, db, box)
	t.Logf("disk full during an outage: %v in %v; at the full disk: outbox depth %v (offline shown), %v records waiting in memory; "+
		"recordings paused (logged); caught up %v after the server came back; refused writes %v, dropped %v; batches ok %v error %v; %d batches applied",
		got, time.Since(began).Round(time.Millisecond), depthFull, queued, caught.Round(time.Millisecond),
		m["switchtap_store_disk_refused_writes_total"], m["switchtap_store_dropped_records_total"],
		m[`switchtap_uplink_batches_total{result="ok"}`], m[`switchtap_uplink_batches_total{result="error"}`], applied)
}

// waitMetricOf waits until a child's metric satisfies ok.
func waitMetricOf(t *testing.T, c *child, addr, name string, ok func(float64) bool, timeout time.Duration) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m, err := scrape(addr)
		if err == nil && ok(m[name]) {
			return m
		}
		if c.exited() {
			t.Fatalf("%s exited (%v) while waiting for %s", c.name, c.err, name)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after %v (%v)", name, m[name], timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
