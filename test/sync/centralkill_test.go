package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/internal/pgtest"
	"github.com/switchtap/switchtap/internal/testcert"
)

// TestCentralKilledAfterCommit runs the central server as a real child
// process (`switchtap central --config`) behind a proxy. Twice, the proxy
// passes a batch on, waits until its commit is visible in PostgreSQL (the
// box's cursor reached the batch's last seq), SIGKILLs the central before
// relaying its answer and drops the box's connection, then starts the
// central again on the same address. The box's next post must be the
// same batch byte for byte, answered 200 with a cursor at its last seq
// (a replay: the ingest log shows it applied once), and both sides end
// with the same records and revisions.
func TestCentralKilledAfterCommit(t *testing.T) {
	const loadCalls, box = 200, "caja-kill"
	bin := buildBin(t)
	cluster := pgtest.New(t)
	db := cluster.DB(t)
	dir := t.TempDir()
	certFile, keyFile, _ := testcert.Write(t, dir, net.ParseIP("127.0.0.1"))
	listen := freeAddr(t)
	cfgFile := filepath.Join(dir, "central.yaml")
	writeFile(t, cfgFile, centralYAML(db, listen, certFile, keyFile))
	token := enrol(t, bin, cfgFile, box)

	var (
		mu       sync.Mutex
		cen      *child
		starts   int
		killedAt []uint64 // last seq of each batch killed after commit
		gotFirst []bool   // whether the central's 200 had reached the proxy at the kill
		killBody []byte   // the batch killed, awaiting its resend
		replays  int
		posts    int
	)
	// startCentral runs in the proxy's handler too: no t.Fatal there.
	startCentral := func() {
		c := startChild(t, "central", bin, "central", "--config", cfgFile)
		if _, err := c.awaitLog("central server listening", 30*time.Second); err != nil {
			t.Error(err)
		}
		mu.Lock()
		cen = c
		starts++
		mu.Unlock()
	}
	startCentral()
	srvTLS, cliTLS := tlsPair(t, certFile, keyFile)
	px := startProxy(t, "https://"+listen, srvTLS, cliTLS)
	px.batch = func(w http.ResponseWriter, r *http.Request, body []byte) {
		var b struct {
			First uint64 `json:"first_seq"`
			Last  uint64 `json:"last_seq"`
		}
		if err := json.Unmarshal(gunzip(t, body), &b); err != nil {
			t.Errorf("batch: %v", err)
		}
		mu.Lock()
		posts++
		i, pendingResend := posts, killBody
		mu.Unlock()
		if pendingResend != nil {
			// The first post after a kill: the resend of the same batch.
			if !bytes.Equal(body, pendingResend) {
				t.Errorf("post after the kill is not the killed batch (seqs %d-%d)", b.First, b.Last)
			}
			code, h, ans, err := px.send(r.Context(), r, body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			if k, err := ackOf(ans); code != http.StatusOK || err != nil || k < b.Last {
				t.Errorf("resend of %d-%d answered %d %s, want a replay", b.First, b.Last, code, ans)
			}
			mu.Lock()
			killBody = nil
			replays++
			mu.Unlock()
			write(w, code, h, ans)
			return
		}
		if i != 4 && i != 12 {
			px.relay(w, r, body)
			return
		}
		answered := make(chan struct{})
		go func() {
			defer close(answered)
			_, _, _, _ = px.send(context.Background(), r, body)
		}()
		deadline := time.Now().Add(20 * time.Second)
		for {
			k, err := centralCursor(db, box)
			if err == nil && k >= int64(b.Last) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("batch %d-%d never committed (%v)", b.First, b.Last, err)
				break
			}
			time.Sleep(time.Millisecond)
		}
		early := false
		select {
		case <-answered:
			early = true
		default:
		}
		mu.Lock()
		c := cen
		mu.Unlock()
		c.kill()
		<-answered
		mu.Lock()
		killedAt = append(killedAt, b.Last)
		gotFirst = append(gotFirst, early)
		killBody = body
		mu.Unlock()
		hijackClose(w)
		startCentral()
	}

	pcap := loadPcap(t, dir, box, loadCalls)
	began := time.Now()
	bx := startInBox(t, box, filepath.Join(dir, "box"), "https://"+px.addr, token, certFile, pcap, false,
		func(c *config.Config) { c.Uplink.BatchRecords = 20 })
	waitSent(t, 2*time.Minute, bx.d.InputEnded, func() string { return bx.d.MetricsAddr().String() }, db, box, loadCalls)
	took := time.Since(began)
	m, err := scrape(bx.d.MetricsAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	bx.halt(t)
	got := requireSame(t, dirRevs(t, bx.data), centralRevs(t, db, box), loadCalls)
	applied := checkLedger(t, db, box)
	mu.Lock()
	defer mu.Unlock()
	if len(killedAt) != 2 || replays != 2 {
		t.Errorf("%d kills after commit, %d resends answered as replays; want 2 and 2", len(killedAt), replays)
	}
	t.Logf("central killed after commit: %v in %v; killed at seqs %v (its answer already at the proxy: %v), %d central starts, %d posts, %d resends answered as replays; box batches ok %v error %v; %d batches applied",
		got, took.Round(time.Millisecond), killedAt, gotFirst, starts, posts, replays,
		m[`switchtap_uplink_batches_total{result="ok"}`], m[`switchtap_uplink_batches_total{result="error"}`], applied)
}
