package tap

import (
	"context"
	"errors"
	"fmt"
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
	// QueueSize bounds the records waiting to be stored; when full,
	// capture waits rather than lose a record.
	QueueSize int
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

	queue  chan sip.Call
	stored sync.WaitGroup
	storeM sync.Mutex
	nStore uint64
}

// NewDaemon returns a daemon reading src and writing to store.
func NewDaemon(cfg DaemonConfig, src LiveSource, store CallWriter, log *slog.Logger) *Daemon {
	if cfg.Tick <= 0 {
		// The alarm's thresholds are met within one tick of their capture
		// time on a quiet line.
		cfg.Tick = 10 * time.Millisecond
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Daemon{cfg: cfg, src: src, store: store, log: log, queue: make(chan sip.Call, cfg.QueueSize)}
	d.p = NewPipeline(cfg.Tracker, func(c sip.Call) { d.queue <- c }, log, cfg.Pipeline...)
	return d
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

// Stored returns how many records have been written to the store.
func (d *Daemon) Stored() uint64 {
	d.storeM.Lock()
	defer d.storeM.Unlock()
	return d.nStore
}

// Run captures until ctx is done or the capture fails. On the way out it
// closes the capture, emits the legs still open (end_reason unknown,
// end_detail "shutdown") and waits until every record is stored.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	writeErr := make(chan error, 1)
	d.stored.Add(1)
	go func() {
		defer d.stored.Done()
		writeErr <- d.write()
	}()

	var wg sync.WaitGroup
	readErr := make(chan error, 1)
	wg.Add(2)
	d.running.Store(true)
	d.mu.Lock()
	d.started = d.cfg.Now()
	d.mu.Unlock()
	go func() {
		defer wg.Done()
		defer cancel()
		defer d.running.Store(false)
		readErr <- d.read(ctx)
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
	close(d.queue)
	d.stored.Wait()

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

// write stores queued records in batches until the queue is closed. A
// failed write is retried: a record once taken is never dropped while the
// daemon runs.
func (d *Daemon) write() error {
	const maxBatch = 256
	batch := make([]sip.Call, 0, maxBatch)
	for c := range d.queue {
		batch = append(batch[:0], c)
	drain:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-d.queue:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		if err := d.put(batch); err != nil {
			return err
		}
	}
	return nil
}

func (d *Daemon) put(batch []sip.Call) error {
	var err error
	for attempt := 0; attempt < 30; attempt++ {
		// Not the run context: records must still be written during
		// shutdown.
		if err = d.store.PutCalls(context.Background(), batch); err == nil {
			d.fault.Store("")
			d.storeM.Lock()
			d.nStore += uint64(len(batch))
			d.storeM.Unlock()
			for _, c := range batch {
				d.log.Info("call stored", "id", c.ID, "call_id", c.CallID, "end_reason", c.EndReason)
			}
			return nil
		}
		d.log.Error("store write failed, retrying", "records", len(batch), "err", err)
		d.fault.Store("store: " + err.Error())
		time.Sleep(time.Second)
	}
	return fmt.Errorf("store %d records: %w", len(batch), err)
}
