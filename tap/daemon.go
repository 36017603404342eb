package tap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/sip"
)

// faultCommit starts the status lamp's fault while records wait for a
// disk that does not make their recordings durable.
const faultCommit = "recordings:"

// FlushShutdown is the end_detail of legs still open when the daemon stops.
const FlushShutdown = "shutdown"

// End details of the records a daemon stores for calls whose end it has
// not seen (issue 9 §4: a crash must not lose the calls in progress).
const (
	// DetailInProgress is the end_detail of a provisional record, stored
	// when the call rings and again when it is answered (end_reason
	// unknown, ended_at null); the call's final record replaces it.
	DetailInProgress = "in_progress"
	// DetailCrash is the end_detail given at the next start to a
	// provisional record whose final record was never stored: the daemon
	// was killed or the box lost power while the call was in progress.
	DetailCrash = "crash"
)

// LiveSource is a live capture: frames plus the kernel's counters.
type LiveSource interface {
	capture.Source
	Stats() (capture.LiveStats, error)
}

// CallWriter stores finished call records durably.
type CallWriter interface {
	PutCalls(ctx context.Context, cs []sip.Call) error
}

// ProgressWriter is a CallWriter that also keeps the provisional records
// of calls in progress apart from the final ones (storage.Store), each
// deleted in the transaction that stores its call's final record, so that
// the next start finds exactly the calls a crash interrupted.
type ProgressWriter interface {
	CallWriter
	PutProgress(ctx context.Context, open, done []sip.Call) error
}

// DurableMedia is a MediaRecorder whose files become durable after End
// returns, in groups, by a committer of its own (recorder.Recorder): the
// store writer stores a record only once the files it names are settled,
// so that a record reported stored names a recording on disk, while the
// capture never waits for the disk. NewDaemon finds it among the
// pipeline's options (WithRecorder).
type DurableMedia interface {
	// Mark is the committer's mark of the files handed off so far.
	Mark() uint64
	// Durable is the mark settled so far and a channel closed when it
	// next advances.
	Durable() (uint64, <-chan struct{})
	// Settle returns the recording to store once settled (without a file
	// that could not be made durable).
	Settle(rec *sip.Recording) *sip.Recording
}

// DaemonConfig tunes a Daemon.
type DaemonConfig struct {
	Tracker sip.TrackerConfig
	// Tick is how often the capture clock is carried forward when no
	// packet arrives, so timeouts fire on a quiet line.
	Tick time.Duration
	// QueueSize bounds the records kept in memory while they wait for the
	// store (a slow or failing disk); past it records are counted as
	// dropped. Capture never waits on the store.
	QueueSize int
	// DrainTimeout bounds how long shutdown keeps retrying a failing store
	// for the records still queued; what is left after it is counted as
	// dropped and reported in Run's error, so shutdown always completes.
	DrainTimeout time.Duration
	// RetryMin and RetryMax bound the backoff between failed store writes.
	RetryMin, RetryMax time.Duration
	// EndOfInput makes a source's io.EOF the end of the input rather than
	// a failure (capture files under `run --pcap`): the legs still open are
	// flushed as end_of_capture, as replay does, and the daemon keeps
	// running until ctx is done.
	EndOfInput bool
	// Sleep waits between retries (injected for tests); it returns early
	// with false when stop is closed.
	Sleep func(d time.Duration, stop <-chan struct{}) bool
	// Now is the wall clock (injected for tests); it only carries the
	// capture clock forward between packets, never stamps an event.
	Now func() time.Time
	// StatsEvery is how often the counters are logged (0: never).
	StatsEvery time.Duration
	// Pipeline adds consumers (recorder, alarm, metrics) to the pipeline.
	Pipeline []PipelineOption
	// Provisional stores a record of each call when it rings and again
	// when it is answered (end_detail in_progress), through the same queue
	// as the final records but never in their place, so that a crash
	// loses no call that rang. It needs a store that is a ProgressWriter;
	// replay never does it (the provisional records are a daemon concern).
	Provisional bool
	// CommitStall is how long the records may wait for their recordings
	// to be made durable (DurableMedia) before the status lamp shows a
	// fault: the disk is not answering. Default 10 s.
	CommitStall time.Duration
}

// Daemon captures live, tracks calls and stores each finished leg.
type Daemon struct {
	cfg   DaemonConfig
	src   LiveSource
	store CallWriter
	log   *slog.Logger

	// handoff passes the frames read to the goroutine running the
	// pipeline (handoff.go).
	handoff *handoff

	mu       sync.Mutex
	p        *Pipeline
	lastPkt  time.Time
	lastWall time.Time

	// lagLast and lagMax (ns) are how long a batch's first frame had
	// waited, from the kernel's timestamp to the pipeline: the last batch's
	// and the longest since the start. Written by the pipeline's goroutine
	// only. A lag nearing the time the capture ring holds means drops.
	lagLast, lagMax atomic.Int64

	running atomic.Bool
	started time.Time
	// fault holds the current fault ("" when none) for the status lamp.
	fault atomic.Value

	queue *recordQueue
	// media is the pipeline's recorder when its files are committed
	// apart (nil: records need not wait).
	media DurableMedia
	// progress holds the provisional records waiting for the store (nil
	// unless cfg.Provisional); pw is the store that keeps them.
	progress *progressQueue
	pw       ProgressWriter
	ring     sip.RingPolicy
	nOpen    atomic.Uint64
	// drain is closed when capture has ended and the last records are
	// queued: the writer then empties the queue and returns.
	drain       chan struct{}
	eof         atomic.Bool
	nStore      atomic.Uint64
	writeErrors atomic.Uint64
}

// NewDaemon returns a daemon reading src and writing to store.
func NewDaemon(cfg DaemonConfig, src LiveSource, store CallWriter, log *slog.Logger) *Daemon {
	if cfg.Tick <= 0 {
		// The alarm's thresholds are met within one tick of their capture
		// time on a quiet line.
		cfg.Tick = 10 * time.Millisecond
	}
	if cfg.QueueSize <= 0 {
		// About 10 minutes of a busy switchboard's records, a few MB.
		cfg.QueueSize = 10000
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 100 * time.Millisecond
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(5*time.Second, cfg.RetryMin)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CommitStall <= 0 {
		cfg.CommitStall = 10 * time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	d := &Daemon{cfg: cfg, src: src, store: store, log: log, queue: newRecordQueue(cfg.QueueSize), drain: make(chan struct{}),
		handoff: newHandoff()}
	opts := cfg.Pipeline
	if cfg.Provisional {
		pw, ok := store.(ProgressWriter)
		if ok {
			d.pw, d.progress = pw, newProgressQueue(cfg.QueueSize)
			d.ring = cfg.Tracker.Ring
			if d.ring.MaxRings == 0 {
				d.ring = sip.DefaultTrackerConfig().Ring // as the tracker does
			}
			// A copy: the caller's options must not grow with ours.
			opts = append(slices.Clip(opts), WithEvents(d.provisional))
		} else {
			log.Warn("provisional records off: the store cannot keep calls in progress")
		}
	}
	d.p = NewPipeline(cfg.Tracker, d.enqueue, log, opts...)
	if m, ok := d.p.rec.(DurableMedia); ok {
		d.media = m
	}
	return d
}

// sleep waits d or until stop is closed.
func sleep(d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// enqueue is the pipeline's output; it never blocks. It runs on the
// pipeline's goroutine under d.mu, or, with the recorder on a goroutine of
// its own (WithRecorderGoroutine), on that one, after the call's recording
// has ended there: what it touches has locks of its own.
// The call's provisional record, if one still waits, is not written: the
// final record replaces it (and deletes it from the store).
func (d *Daemon) enqueue(c sip.Call) {
	if d.progress != nil {
		d.progress.remove(c.ID)
	}
	var need uint64
	if d.media != nil && c.Recording != nil {
		// Its file was handed off when the recorder ended the leg, just
		// before this record was emitted: the mark covers it.
		need = d.media.Mark()
	}
	if !d.queue.push(c, need) {
		d.log.Error("record dropped: store queue full", "id", c.ID, "call_id", c.CallID,
			"queued", d.cfg.QueueSize, "dropped_total", d.queue.droppedCount())
	}
}

// provisional queues a record of the call as it stands when it starts
// ringing or is answered (issue 9 §4). A leg that was only offered gets
// none: a flood of INVITEs that never ring must not become records. It
// runs under d.mu, from the pipeline, and never blocks.
func (d *Daemon) provisional(e sip.Event) {
	if e.Kind != sip.EventRinging && e.Kind != sip.EventAnswered {
		return
	}
	if e.Call.EndedAt != nil || e.Call.EndDetail != "" || e.Call.EndReason != sip.EndUnknown {
		return // already ended: its final record is on its way
	}
	c := *e.Call
	// e.Call is shared with the tracker: nothing it points to may be kept.
	c.Messages = nil
	if c.Transfer != nil {
		tr := *c.Transfer
		c.Transfer = &tr
	}
	c.Recording = nil
	c.EndDetail = DetailInProgress
	measureRings(&c, d.ring)
	if !d.progress.put(c) {
		d.log.Warn("provisional record dropped: queue full", "id", c.ID, "call_id", c.CallID,
			"queued", d.cfg.QueueSize, "dropped_total", d.progress.droppedCount())
	}
}

// measureRings fills the ring figures the tracker gives a final record
// (DESIGN.md "Call record"), as far as they are known while the call is in
// progress: once answered they are final; while it rings, unknown (0).
func measureRings(c *sip.Call, ring sip.RingPolicy) {
	if c.AnsweredAt == nil {
		return
	}
	start := c.InviteAt
	if c.RingingAt != nil {
		start = *c.RingingAt
	}
	d := c.AnsweredAt.Sub(start)
	c.RingSeconds = d.Seconds()
	c.Rings = ring.Rings(d)
	c.WithinLimit = ring.WithinLimit(d)
}

// progressQueue holds the latest provisional record of each call in
// progress until the writer stores it. It is apart from the record queue
// so that provisional records never take a final record's place: a call's
// final record removes its provisional one, and a newer snapshot of a call
// replaces the one waiting. Bounded like the record queue.
type progressQueue struct {
	mu      sync.Mutex
	byID    map[string]progressEntry
	max     int
	seq     uint64
	dropped uint64
	// ready has room for one wake-up: a put never blocks on it.
	ready chan struct{}
}

// progressEntry is a waiting snapshot; seq tells a snapshot stored from a
// newer one that came while it was written.
type progressEntry struct {
	c   sip.Call
	seq uint64
}

func newProgressQueue(max int) *progressQueue {
	return &progressQueue{byID: make(map[string]progressEntry), max: max, ready: make(chan struct{}, 1)}
}

// put keeps c as its call's latest snapshot, or counts it as dropped when
// the queue is full of other calls; it reports whether c was kept.
func (q *progressQueue) put(c sip.Call) bool {
	q.mu.Lock()
	if _, ok := q.byID[c.ID]; !ok && len(q.byID) >= q.max {
		q.dropped++
		q.mu.Unlock()
		return false
	}
	q.seq++
	q.byID[c.ID] = progressEntry{c: c, seq: q.seq}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// remove forgets the snapshot of call id (its final record is queued).
func (q *progressQueue) remove(id string) {
	q.mu.Lock()
	delete(q.byID, id)
	q.mu.Unlock()
}

// peek returns up to n snapshots, oldest first, left in place until done.
func (q *progressQueue) peek(n int) []progressEntry {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n <= 0 || len(q.byID) == 0 {
		return nil
	}
	out := make([]progressEntry, 0, min(n, len(q.byID)))
	for _, e := range q.byID {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b progressEntry) int { return cmp.Compare(a.seq, b.seq) })
	return out[:min(n, len(out))]
}

// done removes the snapshots stored, unless a newer one of the same call
// came meanwhile.
func (q *progressQueue) done(es []progressEntry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range es {
		if cur, ok := q.byID[e.c.ID]; ok && cur.seq == e.seq {
			delete(q.byID, e.c.ID)
		}
	}
}

// drop discards every snapshot, counting them, and returns how many.
func (q *progressQueue) drop() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.byID)
	q.dropped += uint64(n)
	clear(q.byID)
	return n
}

func (q *progressQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.byID)
}

func (q *progressQueue) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// QueueStats describes the records between capture and store.
type QueueStats struct {
	// Queued records wait for the store; Dropped were lost because the
	// queue was full or the store still failed at shutdown.
	Queued  int
	Dropped uint64
	// WriteErrors counts failed store writes (each retried).
	WriteErrors uint64
	// InProgress provisional records wait for the store;
	// InProgressDropped were not stored (their queue was full, or the
	// store still failed at shutdown): only a crash before the call's end
	// loses such a call. InProgressStored counts those written.
	InProgress        int
	InProgressDropped uint64
	InProgressStored  uint64
}

// Queue returns the store queue's counters.
func (d *Daemon) Queue() QueueStats {
	q := QueueStats{Queued: d.queue.len(), Dropped: d.queue.droppedCount(), WriteErrors: d.writeErrors.Load(),
		InProgressStored: d.nOpen.Load()}
	if d.progress != nil {
		q.InProgress, q.InProgressDropped = d.progress.len(), d.progress.droppedCount()
	}
	return q
}

// InputEnded reports whether a finite input (capture files) has been read
// to its end.
func (d *Daemon) InputEnded() bool { return d.eof.Load() }

// InputStored reports whether a finite input has been read to its end and
// every record it gave is out of the queues: stored, or counted dropped.
func (d *Daemon) InputStored() bool {
	return d.eof.Load() && d.queue.len() == 0 && (d.progress == nil || d.progress.len() == 0)
}

// Stats returns the pipeline's counters.
func (d *Daemon) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.p.Stats()
}

// Capturing reports whether the capture is running (not yet stopped or
// failed).
func (d *Daemon) Capturing() bool { return d.running.Load() }

// Now returns the capture clock: the newest capture time carried forward
// by the wall time since it was read.
func (d *Daemon) Now() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lastPkt.IsZero() {
		return d.cfg.Now()
	}
	return d.lastPkt.Add(d.cfg.Now().Sub(d.lastWall))
}

// Mute silences the alarm's buzzer for the calls ringing now.
func (d *Daemon) Mute() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.p.Mute()
}

// AlarmPanel returns the alarm panel's state.
func (d *Daemon) AlarmPanel() device.PanelState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.p.AlarmPanel()
}

// Health says what the status lamp shows: a fault (the store cannot be
// written), or when SIP was last seen, on the capture clock.
func (d *Daemon) Health() device.Health {
	d.mu.Lock()
	h := device.Health{LastSIP: d.p.stats.LastSIP, Started: d.started}
	d.mu.Unlock()
	if f, ok := d.fault.Load().(string); ok {
		h.Fault = f
	}
	return h
}

// KernelStats returns the kernel's counters of the live capture: packets
// received by the filter and dropped for lack of buffer space.
func (d *Daemon) KernelStats() (capture.LiveStats, error) { return d.src.Stats() }

// CaptureLag returns how long the last batch of frames had waited when the
// pipeline took it, from the kernel's timestamp of its first frame, and
// the longest such wait since the start. Meaningful for a live capture
// only (a file's timestamps are of its day).
func (d *Daemon) CaptureLag() (last, longest time.Duration) {
	return time.Duration(d.lagLast.Load()), time.Duration(d.lagMax.Load())
}

// Backlog returns the number of frames read from the capture and not yet
// through the pipeline (at most two batches: handoff.go).
func (d *Daemon) Backlog() int { return d.handoff.backlog() }

// Stored returns how many records have been written to the store.
func (d *Daemon) Stored() uint64 { return d.nStore.Load() }

// Run captures until ctx is done or the capture fails. On the way out it
// closes the capture, emits the legs still open (end_reason unknown,
// end_detail "shutdown") and waits until every record is stored.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	writeErr := make(chan error, 1)
	go func() { writeErr <- d.write() }()

	var wg sync.WaitGroup
	readErr := make(chan error, 1)
	wg.Add(2)
	d.running.Store(true)
	d.mu.Lock()
	d.started = d.cfg.Now()
	d.mu.Unlock()
	go func() {
		defer wg.Done()
		defer d.running.Store(false)
		err := d.read(ctx)
		if err != nil || !d.cfg.EndOfInput {
			cancel()
		}
		readErr <- err
	}()
	go func() {
		defer wg.Done()
		d.tick(ctx)
	}()

	<-ctx.Done()
	// The kernel's counters are read before the socket is closed.
	d.logStats()
	closeErr := d.src.Close()
	wg.Wait()

	d.mu.Lock()
	d.p.Flush(FlushShutdown)
	d.mu.Unlock()
	close(d.drain)

	var errs []error
	if err := <-readErr; err != nil {
		errs = append(errs, err)
	}
	if err := <-writeErr; err != nil {
		errs = append(errs, err)
	}
	if closeErr != nil {
		errs = append(errs, fmt.Errorf("close capture: %w", closeErr))
	}
	return errors.Join(errs...)
}

func (d *Daemon) read(ctx context.Context) error {
	err := stage(ctx, d.src, d.handoff, d.process, d.cfg.Now)
	if ctx.Err() != nil {
		return nil
	}
	if d.cfg.EndOfInput && errors.Is(err, io.EOF) {
		d.mu.Lock()
		d.p.Flush(FlushEndOfCapture)
		d.mu.Unlock()
		d.eof.Store(true)
		d.log.Info("end of input", "calls_queued", d.queue.len())
		return nil
	}
	return fmt.Errorf("capture: %w", err)
}

// process runs a batch of frames through the pipeline; wall is the wall
// time after they were read.
func (d *Daemon) process(b *frameBatch, wall time.Time) {
	if !wall.IsZero() && len(b.frames) > 0 {
		// Both clocks are the system's (the kernel stamps frames with
		// CLOCK_REALTIME): a step of it shows here, as the capture
		// clock's does; a step back is no lag.
		lag := max(wall.Sub(b.frames[0].Info.Timestamp), 0)
		d.lagLast.Store(int64(lag))
		if int64(lag) > d.lagMax.Load() {
			d.lagMax.Store(int64(lag))
		}
	}
	d.mu.Lock()
	for _, f := range b.frames {
		d.p.Frame(f)
	}
	d.p.EndBatch()
	d.lastPkt = d.p.Now()
	d.lastWall = wall
	d.mu.Unlock()
}

// tick carries the capture clock forward between packets: the newest
// capture time plus the wall time elapsed since it was read.
func (d *Daemon) tick(ctx context.Context) {
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	lastLog := d.cfg.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Frames waiting in the hand-off carry the clock themselves:
			// carrying it forward now would run it ahead of them.
			if d.handoff.backlog() == 0 {
				d.mu.Lock()
				if !d.lastPkt.IsZero() {
					d.p.Advance(d.lastPkt.Add(d.cfg.Now().Sub(d.lastWall)))
					d.p.EndBatch()
				}
				d.mu.Unlock()
			}
			if now := d.cfg.Now(); d.cfg.StatsEvery > 0 && now.Sub(lastLog) >= d.cfg.StatsEvery {
				lastLog = now
				d.logStats()
			}
		}
	}
}

// logStats logs the counters an administrator needs to trust the tap:
// kernel drops, undecodable frames, rejected SIP, open and stored calls.
func (d *Daemon) logStats() {
	st := d.Stats()
	k, err := d.src.Stats()
	if err != nil {
		d.log.Warn("kernel capture counters unavailable", "err", err)
	}
	d.log.Info("stats", "kernel_received", k.Received, "kernel_dropped", k.Dropped,
		"frames", st.Decoder.Frames, "undecodable", st.Decoder.Undecodable,
		"sip_messages", st.SIPMessages, "sip_errors", st.SIPErrors,
		"calls_open", st.Tracker.Open, "calls_stored", d.Stored(),
		"calls_dropped_full", st.Tracker.DroppedFull)
}

// write stores queued records in batches until drain is closed and the
// queue is empty. A failed write is retried with backoff, the fault shown
// on the status lamp, while capture goes on filling the bounded queue;
// after drain, retries stop at DrainTimeout and what is left is counted as
// dropped and returned as an error.
func (d *Daemon) write() error {
	const maxBatch = 256
	stop := make(chan struct{}) // closed at the drain deadline
	draining := false
	// The drain deadline's timer is stopped on return: nothing of the
	// writer outlives it.
	var drainTimer *time.Timer
	defer func() {
		if drainTimer != nil {
			drainTimer.Stop()
		}
	}()
	startDrain := func() {
		draining = true
		drainTimer = time.AfterFunc(d.cfg.DrainTimeout, func() { close(stop) })
	}
	// Provisional records wake the writer too (nil channel: never).
	var progressReady chan struct{}
	if d.progress != nil {
		progressReady = d.progress.ready
	}
	backoff := d.cfg.RetryMin
	drain := d.drain // nil once seen closed
	// stalled is when the head of the queue started waiting for the
	// recorder's committer while it made no progress past seen (zero: it
	// does not wait).
	var stalled time.Time
	var seen uint64
	for {
		durable := uint64(math.MaxUint64)
		var committed <-chan struct{}
		if d.media != nil {
			durable, committed = d.media.Durable()
		}
		batch, blocked := d.queue.peek(maxBatch, durable)
		if !blocked {
			committed = nil
		}
		if !blocked || durable != seen {
			// The committer is keeping up: the disk answers.
			seen, stalled = durable, time.Time{}
			if f, _ := d.fault.Load().(string); strings.HasPrefix(f, faultCommit) {
				d.fault.Store("")
			}
		}
		if d.media != nil {
			for i := range batch {
				batch[i].Recording = d.media.Settle(batch[i].Recording)
			}
		}
		// Final records first; provisional ones fill the batch. A final
		// record is never behind its provisional one: it removed it from
		// progress before it was queued, and PutProgress writes the
		// finals of a batch last.
		var open []progressEntry
		if d.progress != nil {
			open = d.progress.peek(maxBatch - len(batch))
		}
		if len(batch) == 0 && len(open) == 0 {
			if draining && !blocked {
				return nil
			}
			// While draining, blocked means the recordings of the
			// records left are not yet durable: wait for the disk up to
			// the drain deadline.
			var deadline chan struct{}
			if draining {
				deadline = stop
			}
			var stallC <-chan time.Time
			var stallT *time.Timer
			if blocked {
				now := d.cfg.Now()
				if stalled.IsZero() {
					stalled = now
				}
				if left := d.cfg.CommitStall - now.Sub(stalled); left > 0 {
					stallT = time.NewTimer(left)
					stallC = stallT.C
				} else {
					d.fault.Store(fmt.Sprintf("%s no recording made durable for %s", faultCommit, now.Sub(stalled).Round(time.Second)))
				}
			}
			select {
			case <-stallC:
				d.log.Error("the disk has not made the recordings durable: records wait", "queued", d.queue.len(), "for", d.cfg.CommitStall)
			case <-d.queue.ready:
			case <-progressReady:
			case <-committed:
			case <-drain:
				drain = nil
				startDrain()
			case <-deadline:
				n := d.queue.drop()
				d.log.Error("records lost: their recordings were not made durable by shutdown", "records", n)
				return fmt.Errorf("store: %d records not stored at shutdown: their recordings are not durable", n)
			}
			if stallT != nil {
				stallT.Stop()
			}
			continue
		}
		// Not the run context: records must still be written during
		// shutdown.
		err := d.put(context.Background(), open, batch)
		if err == nil {
			d.queue.done(len(batch))
			if d.progress != nil {
				d.progress.done(open)
			}
			d.fault.Store("")
			d.nStore.Add(uint64(len(batch)))
			d.nOpen.Add(uint64(len(open)))
			backoff = d.cfg.RetryMin
			for _, e := range open {
				d.log.Debug("call in progress stored", "id", e.c.ID, "call_id", e.c.CallID, "answered", e.c.AnsweredAt != nil)
			}
			for _, c := range batch {
				d.log.Info("call stored", "id", c.ID, "call_id", c.CallID, "end_reason", c.EndReason)
			}
			continue
		}
		d.writeErrors.Add(1)
		d.fault.Store("store: " + err.Error())
		d.log.Error("store write failed, retrying", "records", len(batch), "queued", d.queue.len(), "retry_in", backoff, "err", err)
		wait := d.drain
		if draining {
			wait = stop
		}
		if !d.cfg.Sleep(backoff, wait) && draining {
			n := d.queue.drop()
			if d.progress != nil {
				if m := d.progress.drop(); m > 0 {
					d.log.Error("provisional records lost: store still failing at shutdown", "records", m, "err", err)
				}
			}
			d.log.Error("records lost: store still failing at shutdown", "records", n, "err", err)
			return fmt.Errorf("store: %d records not stored at shutdown: %w", n, err)
		}
		if !draining {
			select {
			case <-d.drain:
				drain = nil
				startDrain()
			default:
			}
		}
		backoff = min(2*backoff, d.cfg.RetryMax)
	}
}

// put writes one batch: through PutProgress when provisional records are
// kept (a final record must delete its call's provisional one, stored in an
// earlier batch), else through PutCalls.
func (d *Daemon) put(ctx context.Context, open []progressEntry, done []sip.Call) error {
	if d.pw == nil {
		return d.store.PutCalls(ctx, done)
	}
	cs := make([]sip.Call, len(open))
	for i, e := range open {
		cs[i] = e.c
	}
	return d.pw.PutProgress(ctx, cs, done)
}
