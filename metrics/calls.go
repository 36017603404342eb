package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchtap/switchtap/sip"
)

// Label values of the ring-time histogram's outcome label.
const (
	outcomeAnswered   = "answered"
	outcomeUnanswered = "unanswered"
)

// directions and endReasons are every value the call labels can take, so
// their series are made at zero and a record with anything else is counted
// as "unknown" instead of adding a series.
var (
	directions = []sip.Direction{
		sip.DirectionInbound, sip.DirectionOutbound, sip.DirectionInternal, sip.DirectionUnknown,
	}
	endReasons = []sip.EndReason{
		sip.EndCompleted, sip.EndAbandoned, sip.EndBusy, sip.EndRejected,
		sip.EndRedirected, sip.EndFailed, sip.EndUnknown,
	}
)

// callMetrics are the metrics fed by finished legs. The children are looked
// up once in newCallMetrics and only read afterwards, so ObserveCall needs
// no lock (the counters themselves are atomic).
type callMetrics struct {
	calls            *prometheus.CounterVec
	answered         *prometheus.CounterVec
	withinLimit      *prometheus.CounterVec
	ringTime         *prometheus.HistogramVec
	operatorCalls    *prometheus.CounterVec
	operatorAnswered *prometheus.CounterVec
	operatorWithin   *prometheus.CounterVec

	byDirection map[sip.Direction]*directionSeries
	byOperator  map[string]*operatorSeries
}

// directionSeries are the children of one direction.
type directionSeries struct {
	ended       map[sip.EndReason]prometheus.Counter
	answered    prometheus.Counter
	withinLimit prometheus.Counter
	ringAnswer  prometheus.Observer
	ringNoAns   prometheus.Observer
}

// operatorSeries are the children of one configured operator.
type operatorSeries struct {
	calls, answered, withinLimit prometheus.Counter
}

func newCallMetrics(cfg Config) *callMetrics {
	m := &callMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prometheus.BuildFQName(namespace, "calls", "total"),
			Help: "Call legs finished, by direction and end reason.",
		}, []string{"direction", "end_reason"}),
		answered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prometheus.BuildFQName(namespace, "calls", "answered_total"),
			Help: "Call legs finished that had been answered, by direction.",
		}, []string{"direction"}),
		withinLimit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prometheus.BuildFQName(namespace, "calls", "answered_within_limit_total"),
			Help: "Call legs finished that had been answered before ring max_rings+1 would start, by direction.",
		}, []string{"direction"}),
		ringTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    prometheus.BuildFQName(namespace, "calls", "ring_time_seconds"),
			Help:    "Ring time of finished legs (first 180, else INVITE, to the answer; or to the end for legs that rang and were never answered), by direction and outcome. Bucket edges are ring boundaries.",
			Buckets: ringBuckets(cfg.Ring),
		}, []string{"direction", "outcome"}),
		operatorCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prometheus.BuildFQName(namespace, "operator", "calls_total"),
			Help: "Inbound call legs finished that were offered to a configured operator.",
		}, []string{"operator"}),
		operatorAnswered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prometheus.BuildFQName(namespace, "operator", "calls_answered_total"),
			Help: "Inbound call legs finished that a configured operator had answered.",
		}, []string{"operator"}),
		operatorWithin: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prometheus.BuildFQName(namespace, "operator", "calls_answered_within_limit_total"),
			Help: "Inbound call legs finished that a configured operator had answered before ring max_rings+1 would start.",
		}, []string{"operator"}),
		byDirection: make(map[sip.Direction]*directionSeries, len(directions)),
		byOperator:  make(map[string]*operatorSeries, len(cfg.Operators)),
	}
	for _, d := range directions {
		s := &directionSeries{
			ended:       make(map[sip.EndReason]prometheus.Counter, len(endReasons)),
			answered:    m.answered.WithLabelValues(string(d)),
			withinLimit: m.withinLimit.WithLabelValues(string(d)),
			ringAnswer:  m.ringTime.WithLabelValues(string(d), outcomeAnswered),
			ringNoAns:   m.ringTime.WithLabelValues(string(d), outcomeUnanswered),
		}
		for _, r := range endReasons {
			s.ended[r] = m.calls.WithLabelValues(string(d), string(r))
		}
		m.byDirection[d] = s
	}
	for _, op := range cfg.Operators {
		m.byOperator[op] = &operatorSeries{
			calls:       m.operatorCalls.WithLabelValues(op),
			answered:    m.operatorAnswered.WithLabelValues(op),
			withinLimit: m.operatorWithin.WithLabelValues(op),
		}
	}
	return m
}

// ringBuckets returns the histogram edges k·cycle for k = 1 … MaxRings+2:
// bucket le=k·cycle holds the legs answered during rings 1 … k, so the
// limit (MaxRings·cycle) is an edge and two rings past it are visible.
// The edges come from whole durations so 4 × 5.8 s prints as 23.2.
func ringBuckets(p sip.RingPolicy) []float64 {
	b := make([]float64, 0, p.MaxRings+2)
	for k := 1; k <= p.MaxRings+2; k++ {
		b = append(b, (time.Duration(k) * p.Cycle()).Seconds())
	}
	return b
}

func (m *callMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.calls, m.answered, m.withinLimit, m.ringTime,
		m.operatorCalls, m.operatorAnswered, m.operatorWithin,
	}
}

// ObserveCall counts one finished leg from its final record. Call it once
// per leg: a record re-emitted because trailing messages changed it must not
// be observed again. The answered and within-limit figures are the record's
// own (answered_at set, within_limit), so the metrics agree with the store.
//
// The ring-time histogram takes every answered leg, and the unanswered legs
// that rang (ringing_at set) and whose end was seen: a leg refused before
// any 18x never rang, and one whose end is unknown (timeout, shutdown) has
// no true ring time.
func (m *Metrics) ObserveCall(c sip.Call) {
	cm := m.calls
	s, ok := cm.byDirection[c.Direction]
	if !ok {
		s = cm.byDirection[sip.DirectionUnknown]
	}
	reason := c.EndReason
	ended, ok := s.ended[reason]
	if !ok {
		reason = sip.EndUnknown
		ended = s.ended[reason]
	}
	ended.Inc()

	answered := c.AnsweredAt != nil
	within := answered && c.WithinLimit
	switch {
	case answered:
		s.answered.Inc()
		if within {
			s.withinLimit.Inc()
		}
		s.ringAnswer.Observe(c.RingSeconds)
	case c.RingingAt != nil && reason != sip.EndUnknown:
		s.ringNoAns.Observe(c.RingSeconds)
	}

	if c.Direction != sip.DirectionInbound {
		return
	}
	op, ok := cm.byOperator[c.Operator]
	if !ok {
		return
	}
	op.calls.Inc()
	if answered {
		op.answered.Inc()
	}
	if within {
		op.withinLimit.Inc()
	}
}
