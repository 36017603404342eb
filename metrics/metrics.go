// Package metrics exports switchtap's Prometheus metrics: counters and a
// ring-time histogram fed by finished call legs, figures read from the
// daemon's components at scrape time, build information, and the Go and
// process collectors, all on a registry that main creates (no globals).
// It also serves them over HTTP.
//
// Names follow the Prometheus conventions: prefix "switchtap_", base units
// (seconds, bytes), "_total" on counters, and labels with bounded values
// only (direction, end reason, configured operator, fixed reasons): never a
// Call-ID, a number or an SSRC.
package metrics

import (
	"fmt"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchtap/switchtap/sip"
)

// namespace prefixes every metric name.
const namespace = "switchtap"

// DefaultAddr is the default listen address of the metrics server. The
// Prometheus exporter range 9100–9999 of the "Default port allocations" list
// is exhausted (every port there belongs to some exporter, new ones are
// allocated above 10000), 10000–20000 and 16384–32768 are the usual RTP
// ranges of PBXs (Asterisk, FreeSWITCH), 5060–5090 are SIP's, and 32768 up
// is Linux's ephemeral range. 7060 is in none of these, in no exporter's
// list and in no entry of /etc/services; it reads as "SIP 5060 + 2000".
const DefaultAddr = ":7060"

// Config says what the metrics need to know about the daemon.
type Config struct {
	// Ring sets the ring-time histogram's bucket edges: one per ring
	// boundary, k·cycle for k = 1 … MaxRings+2.
	Ring sip.RingPolicy
	// Version and Revision label switchtap_build_info.
	Version, Revision string
	// Operators are the configured receptionists' names. Their per-operator
	// series are created at zero; legs naming any other operator are not
	// counted per operator, so a misconfiguration cannot add series.
	Operators []string
	// UndecodableReasons and SIPErrorReasons are the reasons the daemon
	// counts frames and SIP messages under (the keys of
	// Snapshot.Undecodable and Snapshot.SIPErrors). They are exported at
	// zero when absent from a snapshot, so every series exists from the
	// first scrape.
	UndecodableReasons []string
	SIPErrorReasons    []string
	// NoRuntime leaves out the Go and process collectors (tests).
	NoRuntime bool
}

// Metrics holds switchtap's metrics. ObserveCall and SetSnapshot are safe
// for concurrent use, also with scrapes.
type Metrics struct {
	calls    *callMetrics
	snapshot *snapshotCollector
}

// New makes the metrics and registers them on reg: the call metrics, the
// snapshot collector, switchtap_build_info and, unless cfg.NoRuntime, the
// Go collector (its classic metrics only: the runtime/metrics extras would
// triple the series) and the process collector.
func New(reg prometheus.Registerer, cfg Config) (*Metrics, error) {
	return newMetrics(reg, cfg, runtime.Version())
}

// newMetrics is New with the Go version given, so the golden exposition
// does not change with the toolchain.
func newMetrics(reg prometheus.Registerer, cfg Config, goVersion string) (*Metrics, error) {
	if err := cfg.Ring.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	for i, op := range cfg.Operators {
		if op == "" {
			return nil, fmt.Errorf("%w: operator %d has an empty name", ErrConfig, i)
		}
	}
	m := &Metrics{
		calls:    newCallMetrics(cfg),
		snapshot: newSnapshotCollector(cfg),
	}
	cs := append(m.calls.collectors(), m.snapshot, buildInfo(cfg, goVersion))
	if !cfg.NoRuntime {
		cs = append(cs,
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRegister, err)
		}
	}
	return m, nil
}

// buildInfo is the constant switchtap_build_info{version,revision,goversion} 1,
// the usual way to expose a build as a series one can join on.
func buildInfo(cfg Config, goVersion string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: prometheus.BuildFQName(namespace, "", "build_info"),
		Help: "A metric with a constant '1' value labeled by version, revision and goversion from which switchtap was built.",
		ConstLabels: prometheus.Labels{
			"version":   cfg.Version,
			"revision":  cfg.Revision,
			"goversion": goVersion,
		},
	})
	g.Set(1)
	return g
}
