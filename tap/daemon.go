package tap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/sip"
)

// FlushShutdown is the end_detail of legs still open when the daemon stops.
const FlushShutdown = "shutdown"

// LiveSource is a live capture: frames plus the kernel's counters.
type LiveSource interface {
	capture.Source
	Stats() (capture.LiveStats, error)
}

// CallWriter stores finished call records durably.
type CallWriter interface {
	PutCalls(ctx context.Context, cs []sip.Call) error
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
}

// Daemon captures live, tracks calls and stores each finished leg.
type Daemon struct {
	cfg   DaemonConfig
	src   LiveSource
	store CallWriter
	log   *slog.Logger

	mu       sync.Mutex
	p        *Pipeline
	lastPkt  time.Time
	lastWall time.Time

	running atomic.Bool
	started time.Time
	// fault holds the current fault ("" when none) for the status lamp.
	fault atomic.Value

	queue *recordQueue
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
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	d := &Daemon{cfg: cfg, src: src, store: store, log: log, queue: newRecordQueue(cfg.QueueSize), drain: make(chan struct{})}
	d.p = NewPipeline(cfg.Tracker, d.enqueue, log, cfg.Pipeline...)
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

// enqueue is the pipeline's output; it runs under d.mu and never blocks.
func (d *Daemon) enqueue(c sip.Call) {
	if !d.queue.push(c) {
		d.log.Error("record dropped: store queue full", "id", c.ID, "call_id", c.CallID,
			"queued", d.cfg.QueueSize, "dropped_total", d.queue.droppedCount())
	}
}

// QueueStats describes the records between capture and store.
type QueueStats struct {
	// Queued records wait for the store; Dropped were lost because the
	// queue was full or the store still failed at shutdown.
	Queued  int
	Dropped uint64
	// WriteErrors counts failed store writes (each retried).
	WriteErrors uint64
}

// Queue returns the store queue's counters.
func (d *Daemon) Queue() QueueStats {
	return QueueStats{Queued: d.queue.len(), Dropped: d.queue.droppedCount(), WriteErrors: d.writeErrors.Load()}
}

// InputEnded reports whether a finite input (capture files) has been read
// to its end.
func (d *Daemon) InputEnded() bool { return d.eof.Load() }

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
	for {
		f, err := d.src.ReadFrame()
		if err != nil {
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
		d.mu.Lock()
		d.p.Frame(f)
		d.lastPkt = d.p.Now()
		d.lastWall = d.cfg.Now()
		d.mu.Unlock()
	}
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
			d.mu.Lock()
			if !d.lastPkt.IsZero() {
				d.p.Advance(d.lastPkt.Add(d.cfg.Now().Sub(d.lastWall)))
			}
			d.mu.Unlock()
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
	backoff := d.cfg.RetryMin
	for {
		batch := d.queue.peek(maxBatch)
		if len(batch) == 0 {
			if draining {
				return nil
			}
			select {
			case <-d.queue.ready:
			case <-d.drain:
				startDrain()
			}
			continue
		}
		// Not the run context: records must still be written during
		// shutdown.
		err := d.store.PutCalls(context.Background(), batch)
		if err == nil {
			d.queue.done(len(batch))
			d.fault.Store("")
			d.nStore.Add(uint64(len(batch)))
			backoff = d.cfg.RetryMin
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
			d.log.Error("records lost: store still failing at shutdown", "records", n, "err", err)
			return fmt.Errorf("store: %d records not stored at shutdown: %w", n, err)
		}
		if !draining {
			select {
			case <-d.drain:
				startDrain()
			default:
			}
		}
		backoff = min(2*backoff, d.cfg.RetryMax)
	}
}
