package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchtap/switchtap/metrics"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

// diskEvery is how often the disk watch reads the store's disk. The store
// checks the free space before every write itself; the watch is for when
// nothing is written: it takes the reserve back once space returns and
// keeps the metric current.
const diskEvery = time.Second

// diskStore is the store as the disk watch sees it.
type diskStore interface {
	Disk(check bool) storage.DiskStatus
}

// recordQueue is the capture's record queue as the disk watch sees it.
type recordQueue interface {
	Queue() tap.QueueStats
}

// diskWatch logs when the store's disk fills and empties, with what
// waits in memory meanwhile (issue 9, item 1). The order on a filling disk
// is the recorder's floor first (recording.min_free: no new audio), then
// the store's own (storage.DefaultMinFree: records wait in the bounded
// queue, the status lamp shows the store's fault); capture and the alarm
// go on throughout.
type diskWatch struct {
	store diskStore
	queue recordQueue
	log   *slog.Logger
	every time.Duration
	full  bool
}

// Run checks the disk every diskEvery until ctx is done.
func (w *diskWatch) Run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		w.check()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (w *diskWatch) check() {
	d := w.store.Disk(true)
	if d.Full == w.full {
		return
	}
	w.full = d.Full
	q := w.queue.Queue()
	if d.Full {
		w.log.Error("disk full: store writes refused, records wait in memory; capture and alarm go on",
			"free_bytes", d.FreeBytes, "store_floor_bytes", d.MinFreeBytes, "queued", q.Queued, "dropped", q.Dropped)
		return
	}
	w.log.Info("disk space back: store writes resume", "free_bytes", d.FreeBytes, "queued", q.Queued, "dropped", q.Dropped)
}

// snapshot is the disk metrics' view of the store and the queue.
func (w *diskWatch) snapshot() metrics.DiskSnapshot {
	d := w.store.Disk(false)
	q := w.queue.Queue()
	return metrics.DiskSnapshot{
		StoreFull:       d.Full,
		StoreFloorBytes: d.MinFreeBytes,
		ReserveBytes:    d.ReserveBytes,
		RefusedWrites:   d.Refused,
		Queued:          q.Queued,
		Dropped:         q.Dropped,
		WriteErrors:     q.WriteErrors,
	}
}

// watchDisk registers the disk metrics and runs the disk watch in the back
// tier, so it still reports while the last records drain at shutdown.
func (d *Daemon) watchDisk(reg prometheus.Registerer, log *slog.Logger) error {
	w := &diskWatch{store: d.store, queue: d.tap, log: log, every: diskEvery}
	if err := reg.Register(metrics.NewDiskCollector(w.snapshot)); err != nil {
		return fmt.Errorf("disk metrics: %w", err)
	}
	d.sup.Add("disk watch", Back, w)
	return nil
}
