package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/uplink"
)

// newUplink returns the uplink sender service over the store's outbox
// (issue 11), or nil when cfg names no server. It only reads the store and
// writes acknowledgements, so it never blocks the capture.
func newUplink(store *storage.Store, cfg uplink.Config, log *slog.Logger, now func() time.Time) (*uplink.Sender, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	return uplink.New(cfg, storeOutbox{store}, uplink.WithLogger(log), uplink.WithClock(now))
}

// storeOutbox adapts the store to uplink.Outbox: uplink imports no
// storage.
type storeOutbox struct{ s *storage.Store }

func (o storeOutbox) OutboxAfter(ctx context.Context, after uint64, max int, fn func(uplink.Entry) error) error {
	return o.s.OutboxAfter(ctx, after, max, func(e storage.OutboxEntry) error {
		// The record as it is now goes with its current revision.
		return fn(uplink.Entry{Seq: e.Seq, RecordID: e.RecordID, Revision: e.Current, Record: e.Record})
	})
}

func (o storeOutbox) AckOutbox(ctx context.Context, seq uint64) error {
	return o.s.AckOutbox(ctx, seq)
}

func (o storeOutbox) OutboxStats(ctx context.Context) (uplink.OutboxStats, error) {
	st, err := o.s.OutboxStats(ctx)
	return uplink.OutboxStats{Depth: st.Depth, Oldest: st.Oldest, Acked: st.Acked, Next: st.Next}, err
}

// uplinkCollector exports the sender's state as Prometheus metrics.
type uplinkCollector struct {
	snd                                                   *uplink.Sender
	depth, oldest, lastAck, offline, batches, records, up *prometheus.Desc
}

func newUplinkCollector(snd *uplink.Sender) *uplinkCollector {
	name := func(n string) string { return prometheus.BuildFQName("switchtap", "uplink", n) }
	return &uplinkCollector{
		snd:     snd,
		depth:   prometheus.NewDesc(name("outbox_records"), "Records written but not yet acknowledged by the central server.", nil, nil),
		oldest:  prometheus.NewDesc(name("oldest_unacked_seconds"), "Age of the oldest record not yet acknowledged (0: none).", nil, nil),
		lastAck: prometheus.NewDesc(name("last_ack_timestamp_seconds"), "When the central server last acknowledged a batch (0: never since start).", nil, nil),
		offline: prometheus.NewDesc(name("offline"), "1 when the central server has not answered for longer than uplink.offline_after.", nil, nil),
		batches: prometheus.NewDesc(name("batches_total"), "Batches sent, by the server's answer.", []string{"result"}, nil),
		records: prometheus.NewDesc(name("records_acked_total"), "Records acknowledged by the central server.", nil, nil),
		up:      prometheus.NewDesc(name("status_up"), "1 when the uplink's state could be read.", nil, nil),
	}
}

func (c *uplinkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.depth, c.oldest, c.lastAck, c.offline, c.batches, c.records, c.up} {
		ch <- d
	}
}

func (c *uplinkCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.snd.Status(context.Background())
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(st.Depth))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, st.OldestAge.Seconds())
	var last float64
	if !st.LastAck.IsZero() {
		last = float64(st.LastAck.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(c.lastAck, prometheus.GaugeValue, last)
	off := 0.0
	if st.Offline {
		off = 1
	}
	ch <- prometheus.MustNewConstMetric(c.offline, prometheus.GaugeValue, off)
	for _, r := range []struct {
		label string
		n     uint64
	}{{"ok", st.Batches.OK}, {"replay", st.Batches.Replay}, {"gap", st.Batches.Gap}, {"busy", st.Batches.Busy}, {"error", st.Batches.Error}} {
		ch <- prometheus.MustNewConstMetric(c.batches, prometheus.CounterValue, float64(r.n), r.label)
	}
	ch <- prometheus.MustNewConstMetric(c.records, prometheus.CounterValue, float64(st.Records))
}
