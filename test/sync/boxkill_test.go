package sync_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pgtest"
	"github.com/switchtap/switchtap/internal/testcert"
)

// TestBoxKilledMidBatch runs the real binary (`switchtap run --pcap
// --realtime` with an uplink: section) against a central server behind a
// proxy, and kills the box with SIGKILL while a batch is in flight, twice:
// the first time the proxy passes the batch on after the kill (the
// central commits a batch whose sender is dead), the second time it drops
// it (the central never sees it). Each time the box is started again on
// the same data directory and the same capture (its records come again as
// upserts, new revisions). After the third run ends, the box and the
// central hold the same records and revisions, one per call, each seq
// applied once.
func TestBoxKilledMidBatch(t *testing.T) {
	const loadCalls, box = 150, "caja-kill9"
	bin := buildBin(t)
	cluster := pgtest.New(t)
	db := cluster.DB(t)
	dir := t.TempDir()
	certFile, keyFile, _ := testcert.Write(t, dir, net.ParseIP("127.0.0.1"))
	cen := serveCentral(t, centralCfg(db, certFile, keyFile), "127.0.0.1:0")
	token, err := cen.srv.AddBox(context.Background(), box, "Oficina kill9")
	if err != nil {
		t.Fatal(err)
	}
	srvTLS, cliTLS := tlsPair(t, certFile, keyFile)
	px := startProxy(t, "https://"+cen.addr, srvTLS, cliTLS)

	type plan int
	const (
		noKill plan = iota
		killThenForward
		killThenDrop
	)
	var (
		mu       sync.Mutex
		cur      *child
		mode     plan
		runPosts int
		posts    int
		killed   = make(chan uint64, 1)
	)
	px.batch = func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		posts++
		runPosts++
		m, c, n := mode, cur, runPosts
		if m != noKill && n == 3 {
			mode = noKill
		}
		mu.Unlock()
		if m == noKill || n != 3 {
			px.relay(w, r, body)
			return
		}
		c.kill()
		k, _ := centralCursor(db, box)
		if m == killThenForward {
			code, _, ans, err := px.send(context.Background(), r, body)
			if err != nil || code != http.StatusOK {
				t.Errorf("batch of the dead box: %d %s %v", code, ans, err)
			}
		}
		hijackClose(w)
		killed <- uint64(k)
	}

	pcap := loadPcap(t, dir, box, loadCalls)
	data := filepath.Join(dir, "box")
	cfgFile := filepath.Join(dir, "box.yaml")
	writeFile(t, cfgFile, boxYAML("https://"+px.addr, box, token, certFile, 10, ""))
	run := func(p plan) (*child, string) {
		mu.Lock()
		mode, runPosts = p, 0
		mu.Unlock()
		c := startChild(t, fmt.Sprintf("box run %d", p), bin, "run", "--pcap", pcap, "--realtime", "--config", cfgFile,
			"--data-dir", data, "--web-listen", "off", "--metrics-listen", "127.0.0.1:0")
		mu.Lock()
		cur = c
		mu.Unlock()
		addr := c.waitLog(t, `msg="switchtap ready"`, 30*time.Second)["metrics"]
		return c, addr
	}
	began := time.Now()
	var cursors []uint64
	for _, p := range []plan{killThenForward, killThenDrop} {
		c, _ := run(p)
		select {
		case k := <-killed:
			cursors = append(cursors, k)
		case <-time.After(90 * time.Second):
			t.Fatalf("the box never sent its third batch")
		}
		<-c.done
	}
	mid := sumOf(centralRevs(t, db, box))
	c, addr := run(noKill)
	c.waitLog(t, `msg="end of input"`, 90*time.Second)
	waitSent(t, time.Minute, func() bool { return true }, func() string { return addr }, db, box, loadCalls)
	m, err := scrape(addr)
	if err != nil {
		t.Fatal(err)
	}
	c.stop(t, time.Minute)
	took := time.Since(began)
	got := requireSame(t, dirRevs(t, data), centralRevs(t, db, box), loadCalls)
	applied := checkLedger(t, db, box)
	k, err := centralCursor(db, box)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("box killed -9 twice mid-batch: %v in %v (3 runs); central at kills: cursors %v, %v after the second; final cursor %d; %d posts; last run's batches ok %v replay %v gap %v error %v; %d batches applied",
		got, took.Round(time.Millisecond), cursors, mid, k, posts,
		m[`switchtap_uplink_batches_total{result="ok"}`], m[`switchtap_uplink_batches_total{result="replay"}`],
		m[`switchtap_uplink_batches_total{result="gap"}`], m[`switchtap_uplink_batches_total{result="error"}`], applied)
}
