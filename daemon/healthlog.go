package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/tap"
)

const (
	// HealthBucket is the store's KV bucket of the daily health records,
	// each under healthKeyPrefix + "YYYY-MM-DD" as the JSON of a
	// report.HealthDay.
	HealthBucket    = "health"
	healthKeyPrefix = "day/"
	// healthEvery is the heartbeat: how often the counters are added to
	// the day's record and LastSeen moves.
	healthEvery = time.Minute
	// healthGapAfter is how long without a heartbeat makes a capture gap:
	// two beats missed, so one late tick is not a gap.
	healthGapAfter = 2 * time.Minute
)

// healthCounters are the capture's cumulative counters since the process
// started, as the health log reads them.
type healthCounters interface {
	HealthCounters() (packets, sip, kernelDrops, storeErrors, dropped uint64)
}

// healthStore is the store's KV bucket as the health log uses it
// (storage.Bucket).
type healthStore interface {
	Get(ctx context.Context, key []byte) ([]byte, bool, error)
	Batch(ctx context.Context, set [][2][]byte, del [][]byte) error
	Scan(ctx context.Context, prefix []byte, fn func(key, val []byte) error) error
}

// healthLog keeps the tap's own health, one report.HealthDay per local
// day, for the month's report (issue 10 §6, lineamiento 6a): how long the
// daemon ran each day, how often it started, the capture gaps between
// runs, and the deltas of the capture's counters.
//
// Its clock is the wall clock (injected), not the capture's: this is the
// box's health, so a `run --pcap` replay is recorded on the days the box
// replayed it, with the replay's packets and SIP messages, while the
// calls are on the days they were captured.
//
// At start it counts a start on today's record and, when the newest
// record's LastSeen is more than healthGapAfter old, a gap from it to now,
// split at local midnights into each day's share (a day spent down gets a
// record with only its gap). Every healthEvery it adds the time since the
// previous beat to RunningSeconds (split at midnight) and the counters'
// deltas to the day of the beat, and moves LastSeen; a beat later than
// healthGapAfter (the box suspended, the clock stepped forward) is a gap,
// not running time; a clock stepped back adds nothing. At stop it writes
// a last beat.
//
// It only reads counters: capture never waits for it. What it has not
// written yet is kept in memory and written whole with the next beat, so
// a failed write (logged once, counted in Failures and in the day's
// store_errors) loses no delta; a record is only lost with the process.
type healthLog struct {
	kv       healthStore
	counters healthCounters
	loc      *time.Location
	now      func() time.Time
	log      *slog.Logger
	every    time.Duration
	// newTicker makes the heartbeat (tests inject theirs).
	newTicker func(time.Duration) (<-chan time.Time, func())
	// afterBeat, when set, is called after the start and each beat
	// (tests).
	afterBeat func()

	mu sync.Mutex
	// pending are the deltas not yet written, by day.
	pending map[string]*report.HealthDay
	// started is when Run started; findGap says the gap before it is
	// still to be found (the newest record not yet read).
	started time.Time
	findGap bool
	last    time.Time
	prev    [5]uint64
	failing bool

	failures atomic.Uint64
}

// newHealthLog returns the health log over the bucket kv (the store's
// KV(HealthBucket)), reading counters, with days in loc (nil: the default
// time_zone) and now the wall clock.
func newHealthLog(kv healthStore, counters healthCounters, loc *time.Location, now func() time.Time, log *slog.Logger) *healthLog {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if loc == nil {
		// The configuration's default zone (time_zone), embedded.
		var err error
		if loc, err = time.LoadLocation(report.DefaultTimeZone); err != nil {
			loc = time.UTC
		}
	}
	return &healthLog{kv: kv, counters: counters, loc: loc, now: now, log: log, every: healthEvery,
		newTicker: func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		},
		pending: map[string]*report.HealthDay{}}
}

// Failures returns how many writes of the health log failed.
func (h *healthLog) Failures() uint64 { return h.failures.Load() }

// Run keeps the log until ctx is done. It never fails: a store that
// refuses writes is logged and retried with the next beat.
func (h *healthLog) Run(ctx context.Context) error {
	ticks, stop := h.newTicker(h.every)
	defer stop()
	h.start(ctx)
	for {
		select {
		case <-ctx.Done():
			// The last beat is written even though ctx is done.
			h.beat(context.WithoutCancel(ctx))
			return nil
		case <-ticks:
			h.beat(ctx)
		}
	}
}

// start counts the start and takes the counters so far.
func (h *healthLog) start(ctx context.Context) {
	h.mu.Lock()
	now := h.clock()
	h.started, h.last, h.findGap = now, now, true
	h.day(now).Starts++
	h.advance(now)
	h.flush(ctx)
	h.mu.Unlock()
	if h.afterBeat != nil {
		h.afterBeat()
	}
}

// beat adds the time and counters since the previous beat, and writes.
func (h *healthLog) beat(ctx context.Context) {
	h.mu.Lock()
	h.advance(h.clock())
	h.flush(ctx)
	h.mu.Unlock()
	if h.afterBeat != nil {
		h.afterBeat()
	}
}

// clock is the wall clock without its monotonic reading: days, gaps and
// the gap across a restart are all on the wall clock.
func (h *healthLog) clock() time.Time { return h.now().Round(0).UTC() }

// dayOf is the local day of t.
func (h *healthLog) dayOf(t time.Time) string { return t.In(h.loc).Format(time.DateOnly) }

// day returns the pending deltas of t's day, with mu held.
func (h *healthLog) day(t time.Time) *report.HealthDay {
	return h.pendingDay(h.dayOf(t))
}

func (h *healthLog) pendingDay(day string) *report.HealthDay {
	d := h.pending[day]
	if d == nil {
		d = &report.HealthDay{Day: day}
		h.pending[day] = d
	}
	return d
}

// advance adds what happened since h.last up to now, with mu held.
func (h *healthLog) advance(now time.Time) {
	switch el := now.Sub(h.last); {
	case el > healthGapAfter:
		h.gap(h.last, now)
	case el > 0:
		h.split(h.last, now, func(d *report.HealthDay, from, to time.Time) {
			d.RunningSeconds += to.Sub(from).Seconds()
		})
	}
	if now.After(h.last) {
		h.last = now
	}
	var cur [5]uint64
	cur[0], cur[1], cur[2], cur[3], cur[4] = h.counters.HealthCounters()
	var delta [5]uint64
	for i := range cur {
		delta[i] = cur[i] - h.prev[i]
		if cur[i] < h.prev[i] {
			// A counter that went back was restarted: all of it is new.
			delta[i] = cur[i]
		}
	}
	h.prev = cur
	d := h.day(now)
	d.Packets += delta[0]
	d.SIPMessages += delta[1]
	d.KernelDrops += delta[2]
	d.StoreErrors += delta[3]
	d.DroppedRecords += delta[4]
	if now.After(d.LastSeen) {
		d.LastSeen = now
	}
}

// gap records [from, to) as a capture gap, each day its share.
func (h *healthLog) gap(from, to time.Time) {
	h.split(from, to, func(d *report.HealthDay, f, t time.Time) {
		d.Gaps = append(d.Gaps, report.Gap{From: f, To: t, Seconds: t.Sub(f).Seconds()})
	})
}

// split cuts [from, to) at the local midnights and calls fn with each
// day's pending record and piece.
func (h *healthLog) split(from, to time.Time, fn func(d *report.HealthDay, from, to time.Time)) {
	for from.Before(to) {
		l := from.In(h.loc)
		next := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, h.loc).UTC()
		end := to
		if next.Before(end) {
			end = next
		}
		fn(h.day(from), from, end)
		from = end
	}
}

// flush writes the pending deltas, with mu held. The first flush of a run
// first reads the newest record to find the gap since the last run; until
// that read succeeds nothing is written, so it cannot see this run's
// records.
func (h *healthLog) flush(ctx context.Context) {
	err := h.write(ctx)
	if err == nil {
		if h.failing {
			h.failing = false
			h.log.Info("health log written again", "failures", h.failures.Load())
		}
		return
	}
	h.failures.Add(1)
	// The failure is the store's: it is in the day's store errors once
	// the store takes writes again.
	h.day(h.clock()).StoreErrors++
	if !h.failing {
		h.failing = true
		h.log.Error("health log not written; kept in memory and retried every minute", "err", err)
	}
}

func (h *healthLog) write(ctx context.Context) error {
	if h.findGap {
		seen, err := h.lastSeen(ctx)
		if err != nil {
			return err
		}
		if !seen.IsZero() && h.started.Sub(seen) > healthGapAfter {
			h.gap(seen, h.started)
			h.log.Info("capture gap since the last run", "from", seen, "to", h.started,
				"seconds", h.started.Sub(seen).Seconds())
		}
		h.findGap = false
	}
	days := make([]string, 0, len(h.pending))
	for day := range h.pending {
		days = append(days, day)
	}
	slices.Sort(days)
	set := make([][2][]byte, 0, len(days))
	for _, day := range days {
		key := []byte(healthKeyPrefix + day)
		rec, err := h.stored(ctx, key)
		if err != nil {
			return err
		}
		rec.Day = day
		addDay(&rec, h.pending[day])
		if rec.Gaps == nil {
			rec.Gaps = []report.Gap{}
		}
		val, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("health day %s: %w", day, err)
		}
		set = append(set, [2][]byte{key, val})
	}
	if err := h.kv.Batch(ctx, set, nil); err != nil {
		return fmt.Errorf("write health days: %w", err)
	}
	clear(h.pending)
	return nil
}

// stored reads the record under key, zero when there is none. A record
// that does not decode is started over (logged): it is lost already.
func (h *healthLog) stored(ctx context.Context, key []byte) (report.HealthDay, error) {
	var rec report.HealthDay
	val, ok, err := h.kv.Get(ctx, key)
	if err != nil {
		return rec, fmt.Errorf("read health %s: %w", key, err)
	}
	if ok {
		if err := json.Unmarshal(val, &rec); err != nil {
			h.log.Error("health record does not decode; started over", "key", string(key), "err", err)
			rec = report.HealthDay{}
		}
	}
	return rec, nil
}

// lastSeen is the newest LastSeen of any record, zero with none.
func (h *healthLog) lastSeen(ctx context.Context) (time.Time, error) {
	var seen time.Time
	err := h.kv.Scan(ctx, []byte(healthKeyPrefix), func(_, val []byte) error {
		var rec report.HealthDay
		if err := json.Unmarshal(val, &rec); err != nil {
			return nil //nolint:nilerr // a record that does not decode tells no time
		}
		if rec.LastSeen.After(seen) {
			seen = rec.LastSeen
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("read last health beat: %w", err)
	}
	return seen, nil
}

// addDay adds the deltas d to rec.
func addDay(rec, d *report.HealthDay) {
	rec.RunningSeconds += d.RunningSeconds
	rec.Starts += d.Starts
	rec.Packets += d.Packets
	rec.SIPMessages += d.SIPMessages
	rec.KernelDrops += d.KernelDrops
	rec.StoreErrors += d.StoreErrors
	rec.DroppedRecords += d.DroppedRecords
	rec.Gaps = append(rec.Gaps, d.Gaps...)
	if d.LastSeen.After(rec.LastSeen) {
		rec.LastSeen = d.LastSeen
	}
}

// errStopScan ends a scan past the range asked.
var errStopScan = errors.New("past the range")

// HealthDays returns the records of the local days fromDay to toDay
// (both included), with what is not yet written added: the month's report
// reads the health log through it (report.HealthSource).
func (h *healthLog) HealthDays(ctx context.Context, fromDay, toDay string) ([]report.HealthDay, error) {
	for _, d := range []string{fromDay, toDay} {
		if _, err := time.Parse(time.DateOnly, d); err != nil || len(d) != len(time.DateOnly) {
			return nil, fmt.Errorf("health days %q: %w", d, report.ErrBadDay)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	byDay := map[string]*report.HealthDay{}
	last := healthKeyPrefix + toDay
	err := h.kv.Scan(ctx, []byte(healthKeyPrefix), func(key, val []byte) error {
		k := string(key)
		if k > last {
			return errStopScan
		}
		if k < healthKeyPrefix+fromDay {
			return nil
		}
		var rec report.HealthDay
		if err := json.Unmarshal(val, &rec); err != nil {
			return fmt.Errorf("health record %s: %w", k, err)
		}
		rec.Day = k[len(healthKeyPrefix):]
		byDay[rec.Day] = &rec
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return nil, fmt.Errorf("health days %s–%s: %w", fromDay, toDay, err)
	}
	for day, d := range h.pending {
		if day < fromDay || day > toDay {
			continue
		}
		rec := byDay[day]
		if rec == nil {
			rec = &report.HealthDay{Day: day}
			byDay[day] = rec
		}
		addDay(rec, d)
	}
	out := make([]report.HealthDay, 0, len(byDay))
	for _, rec := range byDay {
		if rec.Gaps == nil {
			rec.Gaps = []report.Gap{}
		}
		out = append(out, *rec)
	}
	slices.SortFunc(out, func(a, b report.HealthDay) int { return strings.Compare(a.Day, b.Day) })
	return out, nil
}

// healthTap is the capture daemon as the health log's counters read it
// (tap.Daemon).
type healthTap interface {
	Stats() tap.Stats
	Queue() tap.QueueStats
	KernelStats() (capture.LiveStats, error)
}

// The capture daemon is what the adapter reads.
var _ healthTap = (*tap.Daemon)(nil)

// tapCounters are the health log's counters read from the capture: the
// frames decoded (packets), SIP messages parsed, the kernel's drops, the
// failed store writes of call records, and the calls lost (records
// dropped between capture and store, and INVITEs a full tracker refused).
// The same counters the metrics export (state.snapshot).
type tapCounters struct {
	tap healthTap
	// kernel is the last kernel drop count read: kept when a read fails,
	// so a failed read is not a counter reset.
	kernel uint64
}

// tapHealthCounters returns the health log's counters over the capture
// daemon.
func tapHealthCounters(d healthTap) healthCounters { return &tapCounters{tap: d} }

// HealthCounters reads the counters; it takes the capture's lock as a
// metrics scrape does.
func (c *tapCounters) HealthCounters() (packets, sip, kernelDrops, storeErrors, dropped uint64) {
	st := c.tap.Stats()
	q := c.tap.Queue()
	if k, err := c.tap.KernelStats(); err == nil {
		c.kernel = k.Dropped
	}
	return st.Decoder.Frames, st.SIPMessages, c.kernel, q.WriteErrors, q.Dropped + st.Tracker.DroppedFull
}
