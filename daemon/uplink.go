package daemon

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/uplink"
)

// newUplink returns the uplink sender service over the store's outbox
// (issue 11), or nil when cfg names no server. It only reads the store and
// writes acknowledgements, so it never blocks the capture. The recordings
// of recDir go up beside the records, on their own queue (recordings.go
// of package uplink), unless uplink.recordings is "off".
func newUplink(store *storage.Store, cfg uplink.Config, recDir string, log *slog.Logger, now func() time.Time) (*uplink.Sender, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	q := storeRecordings{s: store, dir: recDir, all: cfg.RecordingsMode() == uplink.RecordingsAll, now: now}
	return uplink.New(cfg, storeOutbox{store}, uplink.WithLogger(log), uplink.WithClock(now), uplink.WithRecordings(q))
}

// storeRecordings adapts the store's recordings queue (storage/recq.go)
// to uplink.RecordingQueue.
type storeRecordings struct {
	s   *storage.Store
	dir string
	all bool
	now func() time.Time
}

func (q storeRecordings) Candidates(ctx context.Context, settled time.Time, max int) ([]uplink.RecordingFile, time.Time, error) {
	cs, mark, err := q.s.RecordingCandidates(ctx, q.all, settled, max)
	fs := make([]uplink.RecordingFile, len(cs))
	for i, c := range cs {
		fs[i] = uplink.RecordingFile{RecordID: c.RecordID, File: c.File}
	}
	return fs, mark, err
}

func (q storeRecordings) Scanned(ctx context.Context, mark time.Time) error {
	if !q.all {
		return nil
	}
	return q.s.SetRecordingMark(ctx, mark)
}

func (q storeRecordings) Queue(ctx context.Context, j uplink.RecordingJob) (bool, error) {
	return q.s.QueueRecording(ctx, storage.RecJob{RecordID: j.RecordID, File: j.File, SHA256: j.SHA256, Size: j.Size, QueuedAt: q.now().UTC()})
}

func (q storeRecordings) Jobs(ctx context.Context, max int) ([]uplink.RecordingJob, error) {
	js, err := q.s.RecordingJobs(ctx, max)
	out := make([]uplink.RecordingJob, len(js))
	for i, j := range js {
		out[i] = uplink.RecordingJob{RecordID: j.RecordID, File: j.File, SHA256: j.SHA256, Size: j.Size}
	}
	return out, err
}

func (q storeRecordings) Done(ctx context.Context, j uplink.RecordingJob, dropped string) error {
	return q.s.RecordingDone(ctx, j.RecordID, storage.RecDone{SHA256: j.SHA256, At: q.now().UTC(), Dropped: dropped})
}

// Path refuses a file outside the recordings directory: the record names
// it, and a record is data.
func (q storeRecordings) Path(file string) string {
	if q.dir == "" || !filepath.IsLocal(file) {
		return ""
	}
	return filepath.Join(q.dir, file)
}

func (q storeRecordings) Stats(ctx context.Context) (int, int64, error) {
	st, err := q.s.RecQStats(ctx)
	return st.Depth, st.Bytes, err
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
	// The recordings' queue (issue 11).
	recQueued, recBytes, recUploaded, recDropped *prometheus.Desc
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

		recQueued:   prometheus.NewDesc(name("recordings_queued"), "Recordings hashed and waiting for the central server.", nil, nil),
		recBytes:    prometheus.NewDesc(name("recordings_queued_bytes"), "Bytes of the recordings waiting for the central server.", nil, nil),
		recUploaded: prometheus.NewDesc(name("recordings_uploaded_total"), "Recordings the central server verified, since start.", nil, nil),
		recDropped:  prometheus.NewDesc(name("recordings_dropped_total"), "Recordings given up (file missing or changed on disk), since start.", nil, nil),
	}
}

func (c *uplinkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.depth, c.oldest, c.lastAck, c.offline, c.batches, c.records, c.up,
		c.recQueued, c.recBytes, c.recUploaded, c.recDropped} {
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
	if rs, ok, err := c.snd.RecordingsStatus(context.Background()); ok && err == nil {
		ch <- prometheus.MustNewConstMetric(c.recQueued, prometheus.GaugeValue, float64(rs.Queued))
		ch <- prometheus.MustNewConstMetric(c.recBytes, prometheus.GaugeValue, float64(rs.Bytes))
		ch <- prometheus.MustNewConstMetric(c.recUploaded, prometheus.CounterValue, float64(rs.Uploaded))
		ch <- prometheus.MustNewConstMetric(c.recDropped, prometheus.CounterValue, float64(rs.Dropped))
	}
}
