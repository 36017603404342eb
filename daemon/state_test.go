package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

// brokenStore refuses every write, final and provisional.
type brokenStore struct{}

var errBroken = errors.New("store on fire")

func (brokenStore) PutCalls(context.Context, []sip.Call) error { return errBroken }
func (brokenStore) PutProgress(context.Context, []sip.Call, []sip.Call) error {
	return errBroken
}

// TestStatusDrops: the status's drops are the capture's and the store
// queue's own counters, filled while records are lost (a store that
// always fails behind a queue of one), each equal to the copy under
// capture or store.
func TestStatusDrops(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, s := range pcapgen.Scenarios() {
		p := filepath.Join(dir, s.Name+".pcap")
		if _, err := s.WriteFile(p); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	src, err := openFiles(paths, false, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	td := tap.NewDaemon(tap.DaemonConfig{
		Tracker: cfg.TrackerConfig(), QueueSize: 1, Provisional: true, EndOfInput: true,
		RetryMin: time.Millisecond, RetryMax: time.Millisecond, DrainTimeout: 10 * time.Millisecond,
	}, src, brokenStore{}, discard())
	store, err := storage.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st := &state{tap: td, store: store, cfg: cfg, errs: &errorRing{}}
	stop := runService(t, td)
	waitUntil(t, "the input to end and records to be dropped", func() bool {
		q := td.Queue()
		return td.InputEnded() && q.Dropped > 0 && q.InProgressDropped > 0
	})
	si, q := st.info(), td.Queue()
	// The queue is read again after the status: its counters only grow.
	if si.Drops.Records == 0 || si.Drops.Records != si.Store.Dropped || si.Drops.Records > q.Dropped {
		t.Errorf("drops.records %d, store.dropped %d, queue %d", si.Drops.Records, si.Store.Dropped, q.Dropped)
	}
	if si.Drops.ProvisionalRecords == 0 || si.Drops.ProvisionalRecords > q.InProgressDropped {
		t.Errorf("drops.provisional_records %d, queue %d", si.Drops.ProvisionalRecords, q.InProgressDropped)
	}
	if si.Drops.KernelPackets != si.Capture.KernelDropped || si.Drops.Calls != si.Capture.CallsDropped {
		t.Errorf("drops %+v, capture %+v", si.Drops, si.Capture)
	}
	// The store still failing at shutdown: the records left are dropped
	// and the run says so.
	if err := stop(); err == nil {
		t.Error("Run: no error after dropping records")
	}
}
