// Package sync_test joins the box and the central server: daemons running
// on capture files send their records through the uplink to a central
// server on a real PostgreSQL, and both sides end with the same records.
package sync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/central"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/pgtest"
	"github.com/switchtap/switchtap/internal/testcert"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// boxRecords reads a box's store after its daemon stopped: id → record.
func boxRecords(t *testing.T, dir string) map[string]sip.Call {
	t.Helper()
	st, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]sip.Call{}
	if err := st.Calls(context.Background(), time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), func(c sip.Call) error {
		out[c.ID] = c
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBoxesToCentral runs three boxes, each on its own capture of
// loadCalls calls, into one central server: every record of every box
// reaches the server exactly once, attributed to its box, and the rate is
// reported.
func TestBoxesToCentral(t *testing.T) {
	const boxes, loadCalls = 3, 600
	cluster := pgtest.Need(t, pgtest.New(t))
	dir := t.TempDir()
	certFile, keyFile, _ := testcert.Write(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := central.New(ctx, central.Config{Database: cluster.DB(t), Listen: "127.0.0.1:0",
		TLSCert: certFile, TLSKey: keyFile, Access: access.Config{Argon: access.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}}}, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	type box struct {
		id, data string
		d        *daemon.Daemon
		done     chan error
		stop     context.CancelFunc
	}
	var bs []*box
	began := time.Now()
	for i := range boxes {
		b := &box{id: fmt.Sprintf("caja-%d", i+1), data: filepath.Join(dir, fmt.Sprintf("box%d", i+1)), done: make(chan error, 1)}
		token, err := srv.AddBox(ctx, b.id, fmt.Sprintf("Oficina %d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		pcap := filepath.Join(dir, b.id+".pcap")
		if err := pcapgen.WriteFile(pcap, func(w *pcapgen.Writer) error {
			// Each box its own day, so their record ids differ.
			_, _, err := pcapgen.Load(w, loadCalls, pcapgen.BaseTime().AddDate(0, 0, i))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		cfg := config.Default()
		cfg.DataDir = b.data
		cfg.Web.Listen, cfg.Metrics.Listen = "", ""
		cfg.Recording.Enabled = false
		cfg.Uplink.URL = "https://" + ln.Addr().String()
		cfg.Uplink.BoxID, cfg.Uplink.Token, cfg.Uplink.CA = b.id, token, certFile
		cfg.Uplink.Poll = 50 * time.Millisecond
		b.d, err = daemon.New(ctx, daemon.Options{Config: cfg, Pcaps: []string{pcap}, Log: discard(),
			Argon: &access.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}})
		if err != nil {
			t.Fatal(err)
		}
		bctx, bstop := context.WithCancel(ctx)
		b.stop = bstop
		go func() { b.done <- b.d.Run(bctx) }()
		bs = append(bs, b)
	}

	count := func() (int, map[string]int) {
		per := map[string]int{}
		n := 0
		err := srv.EachCall(ctx, central.CallFilter{From: time.Unix(0, 0), To: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}, func(rec []byte) error {
			var r struct {
				ID    string `json:"id"`
				BoxID string `json:"box_id"`
			}
			if err := json.Unmarshal(rec, &r); err != nil {
				return err
			}
			per[r.BoxID]++
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, per
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		n, _ := count()
		ended := true
		for _, b := range bs {
			ended = ended && b.d.InputEnded()
		}
		if ended && n == boxes*loadCalls {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("central has %d of %d records", n, boxes*loadCalls)
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(began)
	t.Logf("%d boxes × %d records reached the central server in %v: %.0f records/s end to end (capture, store, outbox, uplink, PostgreSQL)",
		boxes, loadCalls, took.Round(time.Millisecond), float64(boxes*loadCalls)/took.Seconds())
	for _, b := range bs {
		b.stop()
		if err := <-b.done; err != nil {
			t.Errorf("box %s: %v", b.id, err)
		}
	}
	// Exactly once: the server's records of each box are the box's.
	_, per := count()
	for _, b := range bs {
		got := boxRecords(t, b.data)
		if per[b.id] != len(got) || len(got) != loadCalls {
			t.Errorf("box %s: %d records on the box, %d on the server, want %d", b.id, len(got), per[b.id], loadCalls)
		}
	}
	boxesOut, err := srv.Boxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(boxesOut, func(i, j int) bool { return boxesOut[i].BoxID < boxesOut[j].BoxID })
	for _, b := range boxesOut {
		if b.LastContact == nil || b.Acked < loadCalls {
			t.Errorf("box %s: last contact %v, acked %d", b.BoxID, b.LastContact, b.Acked)
		}
		t.Logf("box %s (%s): acked seq %d (each record is written at its BYE and again with its whole ladder)", b.BoxID, b.Office, b.Acked)
	}
	cancel()
	<-served
}
