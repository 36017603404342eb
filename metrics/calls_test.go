package metrics

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchtap/switchtap/sip"
)

func TestRingBuckets(t *testing.T) {
	sv, _ := sip.RingPreset("sv")
	eu, _ := sip.RingPreset("eu")
	tests := []struct {
		name   string
		policy sip.RingPolicy
		want   string
	}{
		{"us", sip.DefaultRingPolicy(), "6 12 18 24 30 36"},
		{"sv", sv, "5.8 11.6 17.4 23.2 29 34.8"},
		{"eu", eu, "5 10 15 20 25 30"},
		{"two rings, no pause", sip.RingPolicy{MaxRings: 2, On: 1500 * time.Millisecond}, "1.5 3 4.5 6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, b := range ringBuckets(tt.policy) {
				got = append(got, strconv.FormatFloat(b, 'g', -1, 64))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("buckets %s, want %s", g, tt.want)
			}
			// The limit is an edge, so "answered within limit" can be
			// read from the histogram too.
			limit := tt.policy.Limit().Seconds()
			if b := ringBuckets(tt.policy)[tt.policy.MaxRings-1]; math.Abs(b-limit) > 1e-9 {
				t.Errorf("edge %d = %v, want the limit %v", tt.policy.MaxRings, b, limit)
			}
		})
	}
}

// point is one expected series value: a counter's value, or a histogram's
// count (with bucket, its cumulative count at that edge).
type point struct {
	name   string
	labels map[string]string
	le     float64 // histogram bucket edge; 0 means the sample count
	value  float64
}

func lbl(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestObserveCall(t *testing.T) {
	const (
		calls    = "switchtap_calls_total"
		answered = "switchtap_calls_answered_total"
		within   = "switchtap_calls_answered_within_limit_total"
		ring     = "switchtap_calls_ring_time_seconds"
		opCalls  = "switchtap_operator_calls_total"
		opAns    = "switchtap_operator_calls_answered_total"
		opWithin = "switchtap_operator_calls_answered_within_limit_total"
	)
	in := lbl("direction", "inbound")
	inAns := lbl("direction", "inbound", "outcome", "answered")
	inNo := lbl("direction", "inbound", "outcome", "unanswered")
	ana := lbl("operator", "ana")
	busy := leg(sip.DirectionOutbound, "beto", -1, noAnswer, sip.EndBusy)
	busy.RingSeconds, busy.Rings = 0.4, 0
	timeout := leg(sip.DirectionInbound, "ana", time.Second, noAnswer, sip.EndUnknown)

	tests := []struct {
		name string
		call sip.Call
		want []point
	}{
		{
			name: "inbound answered in ring 2 is within limit",
			call: leg(sip.DirectionInbound, "ana", time.Second, 10*time.Second, sip.EndCompleted),
			want: []point{
				{calls, lbl("direction", "inbound", "end_reason", "completed"), 0, 1},
				{answered, in, 0, 1}, {within, in, 0, 1},
				{ring, inAns, 0, 1}, {ring, inAns, 6, 0}, {ring, inAns, 12, 1},
				{ring, inNo, 0, 0},
				{opCalls, ana, 0, 1}, {opAns, ana, 0, 1}, {opWithin, ana, 0, 1},
			},
		},
		{
			name: "answered in ring 5 is late",
			call: leg(sip.DirectionInbound, "ana", time.Second, 25*time.Second, sip.EndCompleted),
			want: []point{
				{answered, in, 0, 1}, {within, in, 0, 0},
				{ring, inAns, 24, 0}, {ring, inAns, 30, 1},
				{opCalls, ana, 0, 1}, {opAns, ana, 0, 1}, {opWithin, ana, 0, 0},
			},
		},
		{
			// An answer exactly on the limit is late (ring 5 starts at
			// 24 s) but lands in the le=24 bucket: the within-limit
			// counter, not the histogram, is the exact figure.
			name: "answered exactly at the limit",
			call: leg(sip.DirectionInbound, "ana", time.Second, 24*time.Second, sip.EndCompleted),
			want: []point{
				{within, in, 0, 0}, {opWithin, ana, 0, 0},
				{ring, inAns, 18, 0}, {ring, inAns, 24, 1},
			},
		},
		{
			name: "abandoned after ringing goes to the unanswered histogram",
			call: leg(sip.DirectionInbound, "beto", time.Second, noAnswer, sip.EndAbandoned),
			want: []point{
				{calls, lbl("direction", "inbound", "end_reason", "abandoned"), 0, 1},
				{answered, in, 0, 0},
				{ring, inAns, 0, 0}, {ring, inNo, 0, 1}, {ring, inNo, 24, 0}, {ring, inNo, 30, 1},
				{opCalls, lbl("operator", "beto"), 0, 1}, {opAns, lbl("operator", "beto"), 0, 0},
			},
		},
		{
			name: "refused before any 18x never rang",
			call: busy,
			want: []point{
				{calls, lbl("direction", "outbound", "end_reason", "busy"), 0, 1},
				{ring, lbl("direction", "outbound", "outcome", "unanswered"), 0, 0},
				// Outbound legs are not the operator's answers.
				{opCalls, lbl("operator", "beto"), 0, 0},
			},
		},
		{
			name: "unknown end has no ring time",
			call: timeout,
			want: []point{
				{calls, lbl("direction", "inbound", "end_reason", "unknown"), 0, 1},
				{ring, inNo, 0, 0},
				{opCalls, ana, 0, 1},
			},
		},
		{
			name: "answered without 18x rings from the INVITE",
			call: leg(sip.DirectionInbound, "ana", -1, 3*time.Second, sip.EndCompleted),
			want: []point{{ring, inAns, 6, 1}, {within, in, 0, 1}},
		},
		{
			name: "unconfigured operator counts by direction only",
			call: leg(sip.DirectionInbound, "zoe", time.Second, 3*time.Second, sip.EndCompleted),
			want: []point{
				{answered, in, 0, 1},
				{opCalls, ana, 0, 0}, {opCalls, lbl("operator", "beto"), 0, 0},
			},
		},
		{
			name: "unknown label values fold into unknown",
			call: leg("sideways", "", time.Second, noAnswer, "vanished"),
			want: []point{
				{calls, lbl("direction", "unknown", "end_reason", "unknown"), 0, 1},
				{ring, lbl("direction", "unknown", "outcome", "unanswered"), 0, 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newTestMetrics(t, testConfig())
			m.ObserveCall(tt.call)
			for _, p := range tt.want {
				got := valueOf(t, reg, p)
				if got != p.value {
					t.Errorf("%s%v le=%v = %v, want %v", p.name, p.labels, p.le, got, p.value)
				}
			}
			// The series set never grows with what a call carries.
			if n := countSeries(t, reg); n != countSeries(t, mustFresh(t)) {
				t.Errorf("series %d after the call, want %d", n, countSeries(t, mustFresh(t)))
			}
		})
	}
}

func mustFresh(t *testing.T) prometheus.Gatherer {
	_, reg := newTestMetrics(t, testConfig())
	return reg
}

func countSeries(t *testing.T, g prometheus.Gatherer) int {
	t.Helper()
	n, err := testutil.GatherAndCount(g)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func valueOf(t *testing.T, g prometheus.Gatherer, p point) float64 {
	t.Helper()
	m := sample(t, g, p.name, p.labels)
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetHistogram() != nil && p.le == 0:
		return float64(m.GetHistogram().GetSampleCount())
	case m.GetHistogram() != nil:
		for _, b := range m.GetHistogram().GetBucket() {
			if b.GetUpperBound() == p.le {
				return float64(b.GetCumulativeCount())
			}
		}
		t.Fatalf("%s%v has no bucket le=%v", p.name, p.labels, p.le)
	}
	t.Fatalf("%s%v is neither counter nor histogram", p.name, p.labels)
	return 0
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*Config)
		err  error
	}{
		{"valid", func(*Config) {}, nil},
		{"no operators", func(c *Config) { c.Operators = nil }, nil},
		{"max rings 0", func(c *Config) { c.Ring.MaxRings = 0 }, ErrConfig},
		{"ring on 0", func(c *Config) { c.Ring.On = 0 }, ErrConfig},
		{"empty operator", func(c *Config) { c.Operators = []string{"ana", ""} }, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.cfg(&cfg)
			_, err := New(prometheus.NewRegistry(), cfg)
			if !errors.Is(err, tt.err) {
				t.Fatalf("New: %v, want %v", err, tt.err)
			}
		})
	}
	t.Run("twice on one registry", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := New(reg, testConfig()); err != nil {
			t.Fatal(err)
		}
		if _, err := New(reg, testConfig()); !errors.Is(err, ErrRegister) {
			t.Fatalf("second New: %v, want ErrRegister", err)
		}
	})
}

func TestBuildInfo(t *testing.T) {
	_, reg := newTestMetrics(t, testConfig())
	want := `# HELP switchtap_build_info A metric with a constant '1' value labeled by version, revision and goversion from which switchtap was built.
# TYPE switchtap_build_info gauge
switchtap_build_info{goversion="go1.26.0",revision="2aeca53",version="v0.3.0"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "switchtap_build_info"); err != nil {
		t.Error(err)
	}
}

// TestRuntimeSeries checks that the Go and process collectors are there
// without the runtime/metrics extras (about 100 more series, libs.md).
func TestRuntimeSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg, testConfig()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var runtimeNames []string
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "go_") || strings.HasPrefix(mf.GetName(), "process_") {
			runtimeNames = append(runtimeNames, mf.GetName())
		}
	}
	n, err := testutil.GatherAndCount(reg, runtimeNames...)
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 || n > 50 {
		t.Errorf("%d go_ and process_ metrics, want the classic set (about 40)", n)
	}
	if family(t, reg, "go_goroutines") == nil || family(t, reg, "go_memstats_heap_inuse_bytes") == nil {
		t.Error("Go collector missing")
	}
	for _, extra := range []string{"go_gc_heap_allocs_by_size_bytes", "go_cpu_classes_gc_total_cpu_seconds_total"} {
		if family(t, reg, extra) != nil {
			t.Errorf("runtime/metrics extra %s is on", extra)
		}
	}
	cfg := testConfig()
	cfg.NoRuntime = true
	_, bare := newTestMetrics(t, cfg)
	if family(t, bare, "go_goroutines") != nil {
		t.Error("NoRuntime still registers the Go collector")
	}
}

// TestObserveCallConcurrent observes and scrapes at once; run with -race.
func TestObserveCallConcurrent(t *testing.T) {
	m, reg := newTestMetrics(t, testConfig())
	m.SetSnapshot(fixtureSnapshot)
	const workers, each = 4, 250
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := leg(sip.DirectionInbound, "ana", time.Second, 10*time.Second, sip.EndCompleted)
			for range each {
				m.ObserveCall(c)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
				return
			}
			m.SetSnapshot(fixtureSnapshot)
		}
	}()
	wg.Wait()
	got := valueOf(t, reg, point{"switchtap_operator_calls_answered_within_limit_total", lbl("operator", "ana"), 0, 0})
	if got != workers*each {
		t.Errorf("within limit = %v, want %d", got, workers*each)
	}
}

func BenchmarkObserveCall(b *testing.B) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg, testConfig(), testGoVersion)
	if err != nil {
		b.Fatal(err)
	}
	c := leg(sip.DirectionInbound, "ana", time.Second, 10*time.Second, sip.EndCompleted)
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveCall(c)
	}
}
