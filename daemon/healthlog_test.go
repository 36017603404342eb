package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

// hlClock is a wall clock the test moves.
type hlClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *hlClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *hlClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// hlCounters are the capture's counters, set by the test.
type hlCounters struct {
	mu sync.Mutex
	v  [5]uint64
}

func (c *hlCounters) HealthCounters() (packets, sip, kernelDrops, storeErrors, dropped uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v[0], c.v[1], c.v[2], c.v[3], c.v[4]
}

// add adds n to every counter.
func (c *hlCounters) add(n uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.v {
		c.v[i] += n * uint64(i+1)
	}
}

// hlKV is a bucket in memory whose reads and writes fail while told to.
type hlKV struct {
	mu        sync.Mutex
	m         map[string][]byte
	failWrite bool
	failRead  bool
	writes    int
}

var errHLStore = errors.New("store refuses")

func (s *hlKV) Get(_ context.Context, key []byte) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failRead {
		return nil, false, errHLStore
	}
	v, ok := s.m[string(key)]
	return v, ok, nil
}

func (s *hlKV) Batch(_ context.Context, set [][2][]byte, _ [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWrite {
		return errHLStore
	}
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	for _, kv := range set {
		s.m[string(kv[0])] = kv[1]
	}
	s.writes++
	return nil
}

func (s *hlKV) Scan(_ context.Context, prefix []byte, fn func(key, val []byte) error) error {
	s.mu.Lock()
	if s.failRead {
		s.mu.Unlock()
		return errHLStore
	}
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		if len(k) >= len(prefix) && k[:len(prefix)] == string(prefix) {
			keys = append(keys, k)
		}
	}
	vals := make(map[string][]byte, len(keys))
	for _, k := range keys {
		vals[k] = s.m[k]
	}
	s.mu.Unlock()
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn([]byte(k), vals[k]); err != nil {
			return err
		}
	}
	return nil
}

func (s *hlKV) set(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWrite = fail
}

func hlSV(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// hlAt is a local time of loc.
func hlAt(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation(time.DateTime, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// hlRig is one run of the health log with its clock and counters.
type hlRig struct {
	h     *healthLog
	clock *hlClock
	cnt   *hlCounters
}

func hlNew(kv healthStore, loc *time.Location, at time.Time) *hlRig {
	r := &hlRig{clock: &hlClock{t: at}, cnt: &hlCounters{}}
	r.h = newHealthLog(kv, r.cnt, loc, r.clock.now, nil)
	return r
}

// beatAt moves the clock to at and beats.
func (r *hlRig) beatAt(at time.Time) {
	r.clock.set(at)
	r.h.beat(context.Background())
}

func hlDays(t testing.TB, h *healthLog, from, to string) []report.HealthDay {
	t.Helper()
	days, err := h.HealthDays(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	return days
}

func hlGap(from, to time.Time) report.Gap {
	return report.Gap{From: from.UTC(), To: to.UTC(), Seconds: to.Sub(from).Seconds()}
}

// hlCheckDay compares a record with want, times by instant.
func hlCheckDay(t *testing.T, got, want report.HealthDay) {
	t.Helper()
	gaps := func(gs []report.Gap) []report.Gap {
		out := make([]report.Gap, 0, len(gs))
		for _, g := range gs {
			out = append(out, report.Gap{From: g.From.UTC(), To: g.To.UTC(), Seconds: g.Seconds})
		}
		return out
	}
	g, w := got, want
	g.Gaps, w.Gaps = gaps(got.Gaps), gaps(want.Gaps)
	g.LastSeen, w.LastSeen = got.LastSeen.UTC(), want.LastSeen.UTC()
	if !reflect.DeepEqual(g, w) {
		t.Errorf("day %s:\n got %+v\nwant %+v", want.Day, g, w)
	}
}

func hlOpenStore(t *testing.T) *storage.Store {
	t.Helper()
	st, err := storage.Open(t.TempDir(), storage.WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestHealthLogAcrossMidnight runs one day's end and the next's start on
// the real store: the running time is split at local midnight, the
// counters go to the day of each beat, and a new process reads the same
// records back.
func TestHealthLogAcrossMidnight(t *testing.T) {
	loc := hlSV(t)
	st := hlOpenStore(t)
	kv := st.KV(HealthBucket)
	t0 := hlAt(t, loc, "2026-03-01 23:58:30")
	r := hlNew(kv, loc, t0)
	r.cnt.add(1) // counted before the health log started: still the run's
	r.h.start(context.Background())
	r.cnt.add(10)
	r.beatAt(t0.Add(time.Minute)) // 23:59:30
	r.cnt.add(100)
	r.beatAt(t0.Add(2 * time.Minute)) // 00:00:30: 30 s each side
	r.cnt.add(1000)
	r.beatAt(t0.Add(2*time.Minute + 30*time.Second)) // 00:01:00, the stop

	want := []report.HealthDay{
		{Day: "2026-03-01", RunningSeconds: 90, Starts: 1, Packets: 11, SIPMessages: 22, KernelDrops: 33,
			StoreErrors: 44, DroppedRecords: 55, Gaps: []report.Gap{}, LastSeen: t0.Add(time.Minute)},
		{Day: "2026-03-02", RunningSeconds: 60, Packets: 1100, SIPMessages: 2200, KernelDrops: 3300,
			StoreErrors: 4400, DroppedRecords: 5500, Gaps: []report.Gap{}, LastSeen: t0.Add(150 * time.Second)},
	}
	for _, h := range []*healthLog{r.h, newHealthLog(kv, &hlCounters{}, loc, nil, nil)} {
		got := hlDays(t, h, "2026-02-01", "2026-03-31")
		if len(got) != len(want) {
			t.Fatalf("%d days, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			hlCheckDay(t, got[i], want[i])
		}
	}
	// The stored JSON is the contract's.
	val, ok, err := kv.Get(context.Background(), []byte("day/2026-03-02"))
	if err != nil || !ok {
		t.Fatalf("day/2026-03-02: %v %v", ok, err)
	}
	var m map[string]any
	if err := json.Unmarshal(val, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"day", "running_seconds", "starts", "packets", "sip_messages", "kernel_drops",
		"store_errors", "dropped_records", "gaps", "last_seen"} {
		if _, ok := m[k]; !ok {
			t.Errorf("stored record lacks %q: %s", k, val)
		}
	}
	if r.h.Failures() != 0 {
		t.Errorf("failures %d", r.h.Failures())
	}
}

// TestHealthLogRestart stops the daemon, starts it again 10 minutes later
// (a gap) and then again after a minute (no gap), on the real store, and
// reads the month's health from the records.
func TestHealthLogRestart(t *testing.T) {
	loc := hlSV(t)
	kv := hlOpenStore(t).KV(HealthBucket)
	t0 := hlAt(t, loc, "2026-03-05 10:00:00")
	run := func(start time.Time, beats int) {
		r := hlNew(kv, loc, start)
		ctx, cancel := context.WithCancel(context.Background())
		ticks := make(chan time.Time)
		beat := make(chan struct{})
		r.h.newTicker = func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }
		r.h.afterBeat = func() { beat <- struct{}{} }
		done := make(chan error, 1)
		go func() { done <- r.h.Run(ctx) }()
		<-beat // the start
		for i := 1; i <= beats; i++ {
			r.clock.set(start.Add(time.Duration(i) * time.Minute))
			r.cnt.add(1)
			ticks <- time.Time{}
			<-beat
		}
		// Stop half a minute after the last beat: the last beat is
		// written at the stop.
		r.clock.set(start.Add(time.Duration(beats)*time.Minute + 30*time.Second))
		r.cnt.add(1)
		cancel()
		<-beat
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	run(t0, 2)                                    // 10:00 – 10:02:30
	run(t0.Add(12*time.Minute+30*time.Second), 1) // 10:12:30 – 10:14:00, after 10 min down
	run(t0.Add(15*time.Minute), 1)                // 10:15 – 10:16:30, after 1 min down: no gap

	h := newHealthLog(kv, &hlCounters{}, loc, nil, nil)
	days := hlDays(t, h, "2026-03-05", "2026-03-05")
	if len(days) != 1 {
		t.Fatalf("days %+v", days)
	}
	hlCheckDay(t, days[0], report.HealthDay{Day: "2026-03-05", RunningSeconds: 150 + 90 + 90, Starts: 3,
		Packets: 3 + 2 + 2, SIPMessages: 14, KernelDrops: 21, StoreErrors: 28, DroppedRecords: 35,
		Gaps:     []report.Gap{hlGap(t0.Add(150*time.Second), t0.Add(750*time.Second))},
		LastSeen: t0.Add(16*time.Minute + 30*time.Second)})

	// The month's report reads them: two restarts after the box's first
	// start, one gap of 10 minutes.
	p, err := report.Health(context.Background(), h, "2026-03", loc, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p.Restarts != 2 || len(p.CaptureGaps) != 1 || p.GapSeconds != 600 || p.Days != 5 || p.DaysRecorded != 1 {
		t.Errorf("health: %+v", p)
	}
}

// TestHealthLogDownForDays starts after days down: the gap is split into
// each day's share, the days in between get a record with only their
// gap, and the month's report joins the shares back into one gap.
func TestHealthLogDownForDays(t *testing.T) {
	loc := hlSV(t)
	kv := &hlKV{}
	stop := hlAt(t, loc, "2026-03-01 22:00:00")
	r := hlNew(kv, loc, stop.Add(-time.Minute))
	r.h.start(context.Background())
	r.beatAt(stop)
	start := hlAt(t, loc, "2026-03-04 06:00:00")
	r = hlNew(kv, loc, start)
	r.h.start(context.Background())

	mid := func(day string) time.Time { return hlAt(t, loc, day+" 00:00:00") }
	days := hlDays(t, r.h, "2026-03-01", "2026-03-31")
	want := []report.HealthDay{
		{Day: "2026-03-01", RunningSeconds: 60, Starts: 1, Gaps: []report.Gap{hlGap(stop, mid("2026-03-02"))}, LastSeen: stop},
		{Day: "2026-03-02", Gaps: []report.Gap{hlGap(mid("2026-03-02"), mid("2026-03-03"))}},
		{Day: "2026-03-03", Gaps: []report.Gap{hlGap(mid("2026-03-03"), mid("2026-03-04"))}},
		{Day: "2026-03-04", Starts: 1, Gaps: []report.Gap{hlGap(mid("2026-03-04"), start)}, LastSeen: start},
	}
	if len(days) != len(want) {
		t.Fatalf("days %+v", days)
	}
	for i := range want {
		hlCheckDay(t, days[i], want[i])
	}
	p, err := report.Health(context.Background(), r.h, "2026-03", loc, start)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.CaptureGaps) != 1 || !p.CaptureGaps[0].From.Equal(stop) || !p.CaptureGaps[0].To.Equal(start) ||
		p.GapSeconds != start.Sub(stop).Seconds() {
		t.Errorf("gaps %+v, %v s", p.CaptureGaps, p.GapSeconds)
	}
	if !reflect.DeepEqual(p.DaysNotRunning, []string{"2026-03-02", "2026-03-03", "2026-03-04"}) || p.Restarts != 1 {
		t.Errorf("not running %v, restarts %d", p.DaysNotRunning, p.Restarts)
	}
}

// TestHealthLogFailingStore refuses the writes of two beats: each is
// counted, and the next beat writes the deltas of all three.
func TestHealthLogFailingStore(t *testing.T) {
	loc := hlSV(t)
	kv := &hlKV{}
	t0 := hlAt(t, loc, "2026-03-05 10:00:00")
	r := hlNew(kv, loc, t0)
	r.h.start(context.Background())
	kv.set(true)
	for i := 1; i <= 2; i++ {
		r.cnt.add(1)
		r.beatAt(t0.Add(time.Duration(i) * time.Minute))
	}
	if r.h.Failures() != 2 || kv.writes != 1 {
		t.Fatalf("failures %d, writes %d", r.h.Failures(), kv.writes)
	}
	// What is not written yet is in the report all the same.
	want := report.HealthDay{Day: "2026-03-05", RunningSeconds: 120, Starts: 1, Packets: 2, SIPMessages: 4,
		KernelDrops: 6, StoreErrors: 8 + 2, DroppedRecords: 10, Gaps: []report.Gap{}, LastSeen: t0.Add(2 * time.Minute)}
	hlCheckDay(t, hlDays(t, r.h, "2026-03-05", "2026-03-05")[0], want)

	kv.set(false)
	r.cnt.add(1)
	r.beatAt(t0.Add(3 * time.Minute))
	want.RunningSeconds, want.Packets, want.SIPMessages, want.KernelDrops, want.StoreErrors, want.DroppedRecords =
		180, 3, 6, 9, 12+2, 15
	want.LastSeen = t0.Add(3 * time.Minute)
	fresh := newHealthLog(kv, &hlCounters{}, loc, nil, nil)
	hlCheckDay(t, hlDays(t, fresh, "2026-03-05", "2026-03-05")[0], want)
	if len(r.h.pending) != 0 {
		t.Errorf("pending after a good write: %v", r.h.pending)
	}
}

// TestHealthLogUnreadableAtStart cannot read the last run's beat at
// start: nothing is written until it can, and the gap is still found.
func TestHealthLogUnreadableAtStart(t *testing.T) {
	loc := hlSV(t)
	kv := &hlKV{}
	t0 := hlAt(t, loc, "2026-03-05 10:00:00")
	r := hlNew(kv, loc, t0)
	r.h.start(context.Background())
	r.beatAt(t0.Add(time.Minute))

	later := t0.Add(time.Hour)
	kv.mu.Lock()
	kv.failRead = true
	kv.mu.Unlock()
	r = hlNew(kv, loc, later)
	r.h.start(context.Background())
	r.beatAt(later.Add(time.Minute))
	if r.h.Failures() != 2 {
		t.Errorf("failures %d, want 2", r.h.Failures())
	}
	kv.mu.Lock()
	kv.failRead = false
	kv.mu.Unlock()
	r.beatAt(later.Add(2 * time.Minute))
	got := hlDays(t, r.h, "2026-03-05", "2026-03-05")
	hlCheckDay(t, got[0], report.HealthDay{Day: "2026-03-05", RunningSeconds: 60 + 120, Starts: 2, StoreErrors: 2,
		Gaps: []report.Gap{hlGap(t0.Add(time.Minute), later)}, LastSeen: later.Add(2 * time.Minute)})
}

// TestHealthLogClock: a beat far too late is a gap, not running time; a
// clock stepped back adds nothing; counters that go back restarted.
func TestHealthLogClock(t *testing.T) {
	loc := hlSV(t)
	kv := &hlKV{}
	t0 := hlAt(t, loc, "2026-03-05 10:00:00")
	r := hlNew(kv, loc, t0)
	r.h.start(context.Background())
	r.beatAt(t0.Add(time.Minute))
	r.beatAt(t0.Add(11 * time.Minute)) // suspended 10 minutes
	r.beatAt(t0.Add(10 * time.Minute)) // stepped back
	r.beatAt(t0.Add(12 * time.Minute)) // one minute after the newest
	r.cnt.add(5)
	r.beatAt(t0.Add(13 * time.Minute))
	r.cnt.mu.Lock()
	r.cnt.v = [5]uint64{2, 2, 2, 2, 2}
	r.cnt.mu.Unlock()
	r.beatAt(t0.Add(14 * time.Minute))
	got := hlDays(t, r.h, "2026-03-05", "2026-03-05")
	hlCheckDay(t, got[0], report.HealthDay{Day: "2026-03-05", RunningSeconds: 60 + 60 + 60 + 60, Starts: 1,
		Packets: 7, SIPMessages: 12, KernelDrops: 17, StoreErrors: 22, DroppedRecords: 27,
		Gaps: []report.Gap{hlGap(t0.Add(time.Minute), t0.Add(11*time.Minute))}, LastSeen: t0.Add(14 * time.Minute)})
}

func TestHealthLogHealthDays(t *testing.T) {
	loc := hlSV(t)
	st := hlOpenStore(t)
	kv := st.KV(HealthBucket)
	// Records of several days, and a key of another kind in the bucket.
	for _, day := range []string{"2026-02-28", "2026-03-01", "2026-03-15", "2026-03-31", "2026-04-01"} {
		val, _ := json.Marshal(report.HealthDay{Day: day, RunningSeconds: 1})
		if err := kv.Set(context.Background(), []byte(healthKeyPrefix+day), val); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv.Set(context.Background(), []byte("other"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	h := newHealthLog(kv, &hlCounters{}, loc, nil, nil)
	tests := []struct {
		from, to string
		want     []string
		err      error
	}{
		{"2026-03-01", "2026-03-31", []string{"2026-03-01", "2026-03-15", "2026-03-31"}, nil},
		{"2026-03-15", "2026-03-15", []string{"2026-03-15"}, nil},
		{"2026-03-02", "2026-03-14", []string{}, nil},
		{"2026-03-31", "2026-03-01", []string{}, nil},
		{"0001-01-01", "2026-02-28", []string{"2026-02-28"}, nil},
		{"2026-03-01", "2026-3-31", nil, report.ErrBadDay},
		{"", "2026-03-31", nil, report.ErrBadDay},
	}
	for _, tt := range tests {
		days, err := h.HealthDays(context.Background(), tt.from, tt.to)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s–%s: err %v, want %v", tt.from, tt.to, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		got := []string{}
		for _, d := range days {
			got = append(got, d.Day)
			if d.Gaps == nil {
				t.Errorf("%s: gaps nil", d.Day)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s–%s: %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
	// A store that cannot be read is an error.
	bad := newHealthLog(&hlKV{failRead: true}, &hlCounters{}, loc, nil, nil)
	if _, err := bad.HealthDays(context.Background(), "2026-03-01", "2026-03-31"); !errors.Is(err, errHLStore) {
		t.Errorf("unreadable store: %v", err)
	}
}

// TestHealthLogRace beats while the report reads (go test -race).
func TestHealthLogRace(t *testing.T) {
	loc := hlSV(t)
	r := hlNew(&hlKV{}, loc, hlAt(t, loc, "2026-03-05 10:00:00"))
	ctx, cancel := context.WithCancel(context.Background())
	ticks := make(chan time.Time)
	r.h.newTicker = func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }
	started := make(chan struct{}, 1)
	r.h.afterBeat = func() {
		select {
		case started <- struct{}{}:
		default:
		}
	}
	done := make(chan error, 1)
	go func() { done <- r.h.Run(ctx) }()
	<-started
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 50 {
			if _, err := r.h.HealthDays(ctx, "2026-03-01", "2026-03-31"); err != nil && ctx.Err() == nil {
				t.Error(err)
			}
		}
	})
	for i := range 50 {
		r.clock.set(r.clock.now().Add(time.Minute))
		r.cnt.add(uint64(i))
		ticks <- time.Time{}
	}
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := hlDays(t, r.h, "2026-03-05", "2026-03-05"); len(d) != 1 || d[0].RunningSeconds != 50*60 {
		t.Errorf("days %+v", d)
	}
}

// hlTap is the capture daemon's counters, set by the test.
type hlTap struct {
	stats     tap.Stats
	queue     tap.QueueStats
	kernel    capture.LiveStats
	kernelErr error
}

func (f *hlTap) Stats() tap.Stats                        { return f.stats }
func (f *hlTap) Queue() tap.QueueStats                   { return f.queue }
func (f *hlTap) KernelStats() (capture.LiveStats, error) { return f.kernel, f.kernelErr }

func TestTapHealthCounters(t *testing.T) {
	f := &hlTap{
		stats: tap.Stats{Decoder: capture.DecoderStats{Frames: 100}, SIPMessages: 40,
			Tracker: sip.TrackerStats{DroppedFull: 3}},
		queue:  tap.QueueStats{Dropped: 2, WriteErrors: 5},
		kernel: capture.LiveStats{Received: 120, Dropped: 7},
	}
	c := tapHealthCounters(f)
	got := func() [5]uint64 {
		var v [5]uint64
		v[0], v[1], v[2], v[3], v[4] = c.HealthCounters()
		return v
	}
	if v := got(); v != [5]uint64{100, 40, 7, 5, 5} {
		t.Errorf("counters %v", v)
	}
	// A failed kernel read keeps the last drops, not a reset to 0.
	f.kernel, f.kernelErr = capture.LiveStats{}, errors.New("socket closed")
	if v := got(); v[2] != 7 {
		t.Errorf("kernel drops after a failed read: %d", v[2])
	}
}
