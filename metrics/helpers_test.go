package metrics

import (
	"bytes"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/switchtap/switchtap/sip"
)

// testGoVersion stands in for runtime.Version in golden output.
const testGoVersion = "go1.26.0"

var t0 = time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{
		Ring:               sip.DefaultRingPolicy(),
		Version:            "v0.3.0",
		Revision:           "2aeca53",
		Operators:          []string{"ana", "beto"},
		UndecodableReasons: []string{"malformed", "truncated", "unsupported_link"},
		SIPErrorReasons:    []string{"malformed", "missing_header", "not_sip", "other"},
	}
}

// newTestMetrics builds metrics on a fresh registry with the Go version
// fixed.
func newTestMetrics(t testing.TB, cfg Config) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg, cfg, testGoVersion)
	if err != nil {
		t.Fatalf("newMetrics: %v", err)
	}
	return m, reg
}

func at(d time.Duration) *time.Time {
	v := t0.Add(d)
	return &v
}

// leg builds a finished leg the way the tracker would: ring time from the
// first 180 (else the INVITE) to the answer, or to the end.
func leg(dir sip.Direction, op string, ring time.Duration, answeredAfter time.Duration, end sip.EndReason) sip.Call {
	p := sip.DefaultRingPolicy()
	c := sip.Call{
		CallID:    "must-never-be-a-label@192.0.2.10",
		Direction: dir,
		Operator:  op,
		InviteAt:  t0,
		EndReason: end,
	}
	if ring >= 0 {
		c.RingingAt = at(ring)
		c.RingSource = "180"
	} else {
		c.RingSource = "invite"
		ring = 0
	}
	rang := answeredAfter
	if answeredAfter >= 0 {
		c.AnsweredAt = at(ring + answeredAfter)
		c.WithinLimit = p.WithinLimit(answeredAfter)
		c.EndedAt = at(ring + answeredAfter + time.Minute)
	} else {
		rang = 30 * time.Second
		c.EndedAt = at(ring + rang)
	}
	c.RingSeconds = rang.Seconds()
	if c.RingingAt != nil {
		c.Rings = p.Rings(rang)
	}
	return c
}

// noAnswer marks a leg never answered.
const noAnswer = -1

// fixtureCalls are the legs of the golden exposition.
func fixtureCalls() []sip.Call {
	busy := leg(sip.DirectionOutbound, "beto", -1, noAnswer, sip.EndBusy)
	busy.RingSeconds, busy.Rings = 0.4, 0
	weird := leg("", "", time.Second, noAnswer, "weird")
	timeout := leg(sip.DirectionInbound, "ana", time.Second, noAnswer, sip.EndUnknown)
	timeout.EndDetail = "timeout"
	return []sip.Call{
		leg(sip.DirectionInbound, "ana", time.Second, 10*time.Second, sip.EndCompleted),
		leg(sip.DirectionInbound, "ana", time.Second, 25*time.Second, sip.EndCompleted),
		leg(sip.DirectionInbound, "beto", 500*time.Millisecond, noAnswer, sip.EndAbandoned),
		busy,
		leg(sip.DirectionInternal, "ana", time.Second, 24*time.Second, sip.EndCompleted),
		leg(sip.DirectionInbound, "zoe", -1, 3*time.Second, sip.EndCompleted),
		weird,
		timeout,
	}
}

func fixtureSnapshot() Snapshot {
	return Snapshot{
		KernelReceived:    123456,
		KernelDropped:     7,
		Frames:            123450,
		Datagrams:         123000,
		Undecodable:       map[string]uint64{"truncated": 3, "vlan_depth": 1},
		SIPMessages:       4321,
		SIPErrors:         map[string]uint64{"not_sip": 12, "malformed": 2},
		CallsOpen:         5,
		CallsDroppedFull:  0,
		CallsTimedOut:     1,
		CallsRinging:      2,
		SIPFloodSources:   1,
		CallsEvicted:      40,
		CallsAggregated:   19000,
		AlarmState:        AlarmWarning,
		Muted:             true,
		RTPPackets:        987654,
		RTPLost:           21,
		RTPLate:           4,
		RTPDuplicates:     2,
		StreamsOpen:       6,
		StoreBytes:        12 << 20,
		RecordingsBytes:   3 << 30,
		RecordingsFiles:   812,
		DiskFreeBytes:     20 << 30,
		DiskFloorReached:  false,
		CaptureUp:         true,
		LastSIPSeconds:    1.25,
		CaptureLagSeconds: 0.004, CaptureLagMaxSeconds: 0.31,
		StatusLamp: LampHealthy,
	}
}

// exposition gathers g and writes the families whose names start with
// prefix in the text format, in name order.
func exposition(t testing.TB, g prometheus.Gatherer, prefix string) []byte {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	sort.Slice(mfs, func(i, j int) bool { return mfs[i].GetName() < mfs[j].GetName() })
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), prefix) {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			t.Fatalf("encode %s: %v", mf.GetName(), err)
		}
	}
	return buf.Bytes()
}

// family returns the gathered family called name, or nil.
func family(t testing.TB, g prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// sample returns the metric of family name whose labels are exactly
// labels, failing the test when there is none.
func sample(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mf := family(t, g, name)
	if mf == nil {
		t.Fatalf("no family %s", name)
	}
next:
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, lp := range m.GetLabel() {
			if v, ok := labels[lp.GetName()]; !ok || v != lp.GetValue() {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no %s%v", name, labels)
	return nil
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
