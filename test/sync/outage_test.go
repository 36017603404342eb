package sync_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pgtest"
	"github.com/switchtap/switchtap/internal/testcert"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/uplink"
)

// fakeClock is the sender's clock: it moves only when the sender sleeps.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// sleep advances the clock by d at once (and yields for a moment of real
// time so the writer and the test can look at it).
func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.ns.Add(int64(d))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Millisecond):
		return nil
	}
}

// storeOutbox adapts a store to uplink.Outbox as daemon/uplink.go does.
type storeOutbox struct{ s *storage.Store }

func (o storeOutbox) OutboxAfter(ctx context.Context, after uint64, max int, fn func(uplink.Entry) error) error {
	return o.s.OutboxAfter(ctx, after, max, func(e storage.OutboxEntry) error {
		return fn(uplink.Entry{Seq: e.Seq, RecordID: e.RecordID, Revision: e.Current, Record: e.Record})
	})
}

func (o storeOutbox) AckOutbox(ctx context.Context, seq uint64) error { return o.s.AckOutbox(ctx, seq) }

func (o storeOutbox) OutboxStats(ctx context.Context) (uplink.OutboxStats, error) {
	st, err := o.s.OutboxStats(ctx)
	return uplink.OutboxStats{Depth: st.Depth, Oldest: st.Oldest, Acked: st.Acked, Next: st.Next}, err
}

// TestCentralDownFor24Hours: the central server is up, then really
// stopped (Serve's context cancelled, its listener closed, its pool
// released) for a simulated day while a writer stores calls and updates
// older ones (the trailing NOTIFY) each simulated hour; then a new server
// is started on the same address. The sender runs with an injected clock
// and sleep, so its capped backoff walks the whole day in a few seconds.
// Both sides end with the same records and revisions, the ingest log
// shows no entry applied twice, and the sender said it was offline.
func TestCentralDownFor24Hours(t *testing.T) {
	const (
		before  = 50 // calls synced before the outage
		perHour = 20 // calls written each simulated hour of the outage
		updates = 5  // older calls written again each hour
		outage  = 24 * time.Hour
		box     = "caja-24h"
	)
	cluster := pgtest.New(t)
	db := cluster.DB(t)
	dir := t.TempDir()
	certFile, keyFile, _ := testcert.Write(t, dir, net.ParseIP("127.0.0.1"))
	cfg := centralCfg(db, certFile, keyFile)
	cen := serveCentral(t, cfg, "127.0.0.1:0")
	addr := cen.addr
	token, err := cen.srv.AddBox(context.Background(), box, "Oficina 24h")
	if err != nil {
		t.Fatal(err)
	}

	st, err := storage.Open(filepath.Join(dir, "box"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := &fakeClock{}
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock.ns.Store(start.UnixNano())
	rng := rand.New(rand.NewPCG(11, 24))
	var rmu sync.Mutex
	snd, err := uplink.New(uplink.Config{URL: "https://" + addr, BoxID: box, Token: token, CA: certFile,
		BatchRecords: 40, Poll: 50 * time.Millisecond, Timeout: 5 * time.Second},
		storeOutbox{st}, uplink.WithLogger(discard()), uplink.WithClock(clock.now), uplink.WithSleep(clock.sleep),
		uplink.WithRand(func() float64 { rmu.Lock(); defer rmu.Unlock(); return rng.Float64() }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sent := make(chan error, 1)
	go func() { sent <- snd.Run(ctx) }()

	var written []sip.Call
	write := func(cs ...sip.Call) {
		t.Helper()
		if err := st.PutCalls(context.Background(), cs); err != nil {
			t.Fatal(err)
		}
		written = append(written, cs...)
	}
	for i := range before {
		write(callAt(fmt.Sprintf("pre-%03d", i), start.Add(time.Duration(i)*time.Minute), "0"))
	}
	boxSide := func() (map[string]uint64, error) { return storeRevs(t, st), nil }
	cenSide := func() (map[string]uint64, error) { return queryRevs(db, box) }
	waitSame(t, time.Minute, boxSide, cenSide)

	// The outage: the server goes, the clock walks a day.
	cen.stop()
	realStart := time.Now()
	outStart := clock.now()
	var sawOffline bool
	for hour := 0; hour < 24; {
		if clock.now().Sub(outStart) >= time.Duration(hour)*time.Hour {
			at := outStart.Add(time.Duration(hour) * time.Hour)
			var cs []sip.Call
			for i := range perHour {
				cs = append(cs, callAt(fmt.Sprintf("h%02d-%03d", hour, i), at.Add(time.Duration(i)*time.Second), "0"))
			}
			for range updates {
				old := written[rng.IntN(len(written))]
				old.Operator = fmt.Sprintf("transfer at hour %d", hour)
				cs = append(cs, old)
			}
			write(cs...)
			hour++
		}
		if s, err := snd.Status(context.Background()); err == nil && s.Offline {
			sawOffline = true
		}
		if time.Since(realStart) > 2*time.Minute {
			t.Fatalf("the simulated day did not pass in 2 min of real time: clock at %v", clock.now().Sub(outStart))
		}
		time.Sleep(time.Millisecond)
	}
	for clock.now().Sub(outStart) < outage {
		time.Sleep(time.Millisecond)
	}
	mid, err := snd.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !sawOffline || mid.Depth == 0 {
		t.Errorf("during the outage: offline %v, outbox depth %d; want offline and a backlog", sawOffline, mid.Depth)
	}
	if n, _ := queryRevs(db, box); len(n) != before {
		t.Fatalf("the central took %d records while stopped, want %d", len(n), before)
	}

	// Back, on the same address, as a fresh process would be.
	backAt := time.Now()
	serveCentral(t, cfg, addr) // stopped by its own cleanup
	got := waitSame(t, 2*time.Minute, boxSide, cenSide)
	caught := time.Since(backAt)
	cancel()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	fin, err := snd.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := before + 24*perHour
	requireSame(t, storeRevs(t, st), centralRevs(t, db, box), want)
	batches := checkLedger(t, db, box)
	if fin.Depth != 0 || fin.Offline {
		t.Errorf("after the outage: depth %d, offline %v", fin.Depth, fin.Offline)
	}
	t.Logf("24 h outage: %v; %d upserts in the outage (%d records, %d updates): outbox depth %d at its end; "+
		"simulated %v in %v real; %d failed attempts (backoff capped at %v); caught up in %v; %d batches applied (ok %d, replay %d, gap %d, busy %d)",
		got, 24*(perHour+updates), 24*perHour, 24*updates, mid.Depth, clock.now().Sub(outStart).Round(time.Minute),
		time.Since(realStart).Round(time.Millisecond), fin.Batches.Error, 5*time.Minute, caught.Round(time.Millisecond),
		batches, fin.Batches.OK, fin.Batches.Replay, fin.Batches.Gap, fin.Batches.Busy)
}
