package metrics

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Alarm panel states (Snapshot.AlarmState) and status lamp states
// (Snapshot.StatusLamp). Each is exported as one series per state, 1 for
// the current one, so a panel can show the state and an alert can match it.
const (
	AlarmIdle    = "idle"
	AlarmWarning = "warning"
	AlarmAlarm   = "alarm"

	LampHealthy = "healthy"
	LampNoSIP   = "no_sip"
	LampFault   = "fault"
)

var (
	alarmStates = []string{AlarmIdle, AlarmWarning, AlarmAlarm}
	lampStates  = []string{LampHealthy, LampNoSIP, LampFault}
)

// Snapshot holds the figures read from the daemon's components at scrape
// time. Counters are totals since the daemon started; the rest are values
// now.
type Snapshot struct {
	// KernelReceived and KernelDropped are the socket's packet counts
	// (PACKET_STATISTICS): seen by the kernel filter, and lost because the
	// ring was full.
	KernelReceived, KernelDropped uint64
	// CaptureLagSeconds and CaptureLagMaxSeconds are how long the last
	// batch of captured frames, and the longest since the start, had
	// waited from the kernel's timestamp to the pipeline (live only): a
	// lag nearing what capture.ring_size holds means kernel drops.
	CaptureLagSeconds, CaptureLagMaxSeconds float64
	// Frames were read from the source; Datagrams were decoded from them
	// (UDP and TCP, after reassembly).
	Frames, Datagrams uint64
	// Undecodable counts rejected frames by reason.
	Undecodable map[string]uint64
	// SIPMessages were parsed; SIPErrors were rejected, by reason.
	SIPMessages uint64
	SIPErrors   map[string]uint64
	// CallsOpen are the legs followed now; CallsDroppedFull are INVITEs not
	// followed because calls.max_open legs were open; CallsTimedOut are legs
	// closed by the setup or idle timeout.
	CallsOpen        int
	CallsDroppedFull uint64
	CallsTimedOut    uint64
	// CallsRinging are the legs ringing now (watched by the alarm).
	CallsRinging int
	// SIPFloodSources are the addresses sending INVITEs above the flood
	// rate now (calls.flood_rate); CallsEvicted are legs that never rang,
	// closed early to make room when calls.max_open legs were open;
	// CallsAggregated are legs that never rang, counted per source and
	// reason instead of stored one record each (issue 9 §2).
	SIPFloodSources int
	CallsEvicted    uint64
	CallsAggregated uint64
	// AlarmState is the alarm panel's state (Alarm… constants); Muted says
	// the buzzer was silenced.
	AlarmState string
	Muted      bool
	// RTP counts over all streams, and the streams followed now.
	RTPPackets, RTPLost, RTPLate, RTPDuplicates uint64
	StreamsOpen                                 int
	// StoreBytes is the store's size on disk; RecordingsBytes and
	// RecordingsFiles those of the recordings.
	StoreBytes      uint64
	RecordingsBytes uint64
	RecordingsFiles uint64
	// RecorderWaits counts the times the pipeline waited for the
	// recorder's goroutine to take a full batch (tap.Stats.RecorderWaits).
	RecorderWaits uint64
	// DiskFreeBytes is the space left on the data disk; DiskFloorReached
	// says it fell to the configured floor.
	DiskFreeBytes    uint64
	DiskFloorReached bool
	// CaptureUp says the capture source is open and reading.
	CaptureUp bool
	// LastSIPSeconds is the time since the last SIP message, on the
	// capture clock.
	LastSIPSeconds float64
	// StatusLamp is the status LED's state (Lamp… constants).
	StatusLamp string
}

// SetSnapshot sets the function the collector calls on each scrape. Until
// it is set the snapshot metrics are absent. f is called from the scrape's
// goroutine: it must be safe for concurrent use and quick.
func (m *Metrics) SetSnapshot(f func() Snapshot) {
	m.snapshot.mu.Lock()
	m.snapshot.get = f
	m.snapshot.mu.Unlock()
}

// desc is one snapshot metric: its description, type and the value it
// takes from a Snapshot.
type desc struct {
	d     *prometheus.Desc
	typ   prometheus.ValueType
	value func(*Snapshot) float64
}

// snapshotCollector turns a Snapshot into constant metrics at scrape time,
// the pattern for values another component owns (node_exporter's
// collectors): nothing is copied between scrapes.
type snapshotCollector struct {
	mu  sync.Mutex
	get func() Snapshot

	scalars     []desc
	undecodable *prometheus.Desc
	sipErrors   *prometheus.Desc
	alarm       *prometheus.Desc
	lamp        *prometheus.Desc

	undecodableReasons []string
	sipErrorReasons    []string
}

func newSnapshotCollector(cfg Config) *snapshotCollector {
	fq := func(sub, name string) string { return prometheus.BuildFQName(namespace, sub, name) }
	counter := func(sub, name, help string, v func(*Snapshot) float64) desc {
		return desc{prometheus.NewDesc(fq(sub, name), help, nil, nil), prometheus.CounterValue, v}
	}
	gauge := func(sub, name, help string, v func(*Snapshot) float64) desc {
		return desc{prometheus.NewDesc(fq(sub, name), help, nil, nil), prometheus.GaugeValue, v}
	}
	return &snapshotCollector{
		scalars: []desc{
			gauge("capture", "up", "1 when the capture source is open and reading.",
				func(s *Snapshot) float64 { return boolValue(s.CaptureUp) }),
			counter("capture", "kernel_received_packets_total", "Packets passed by the kernel filter to the capture socket.",
				func(s *Snapshot) float64 { return float64(s.KernelReceived) }),
			counter("capture", "kernel_dropped_packets_total", "Packets the kernel dropped because the capture ring was full.",
				func(s *Snapshot) float64 { return float64(s.KernelDropped) }),
			counter("capture", "frames_total", "Frames read from the capture source.",
				func(s *Snapshot) float64 { return float64(s.Frames) }),
			counter("capture", "datagrams_total", "UDP and TCP datagrams decoded from the frames, after reassembly.",
				func(s *Snapshot) float64 { return float64(s.Datagrams) }),
			gauge("capture", "lag_seconds", "How long the last batch of captured frames waited, from the kernel's timestamp to the pipeline (live capture).",
				func(s *Snapshot) float64 { return s.CaptureLagSeconds }),
			gauge("capture", "lag_max_seconds", "The longest wait of a batch of captured frames since the start: near the time the capture ring holds, packets are dropped.",
				func(s *Snapshot) float64 { return s.CaptureLagMaxSeconds }),
			gauge("capture", "last_sip_age_seconds", "Time since the last SIP message, on the capture clock.",
				func(s *Snapshot) float64 { return s.LastSIPSeconds }),
			counter("sip", "messages_total", "SIP messages parsed.",
				func(s *Snapshot) float64 { return float64(s.SIPMessages) }),
			gauge("calls", "open", "Call legs followed now.",
				func(s *Snapshot) float64 { return float64(s.CallsOpen) }),
			gauge("calls", "ringing", "Call legs ringing now.",
				func(s *Snapshot) float64 { return float64(s.CallsRinging) }),
			counter("calls", "not_tracked_total", "New call legs not followed because calls.max_open legs were open.",
				func(s *Snapshot) float64 { return float64(s.CallsDroppedFull) }),
			counter("calls", "timed_out_total", "Call legs closed by the setup or idle timeout.",
				func(s *Snapshot) float64 { return float64(s.CallsTimedOut) }),
			gauge("sip", "flood_sources", "Addresses sending INVITEs above the flood rate now (0: no flood).",
				func(s *Snapshot) float64 { return float64(s.SIPFloodSources) }),
			counter("calls", "evicted_total", "Call legs that never rang, closed early to make room when calls.max_open legs were open.",
				func(s *Snapshot) float64 { return float64(s.CallsEvicted) }),
			counter("calls", "aggregated_total", "Call legs that never rang, counted per source and reason instead of stored as records.",
				func(s *Snapshot) float64 { return float64(s.CallsAggregated) }),
			gauge("alarm", "muted", "1 when the alarm buzzer is silenced.",
				func(s *Snapshot) float64 { return boolValue(s.Muted) }),
			counter("rtp", "packets_total", "RTP packets received on the followed streams.",
				func(s *Snapshot) float64 { return float64(s.RTPPackets) }),
			counter("rtp", "lost_packets_total", "RTP packets never received (sequence gaps).",
				func(s *Snapshot) float64 { return float64(s.RTPLost) }),
			counter("rtp", "late_packets_total", "RTP packets received too late to be placed in their stream.",
				func(s *Snapshot) float64 { return float64(s.RTPLate) }),
			counter("rtp", "duplicate_packets_total", "RTP packets received more than once.",
				func(s *Snapshot) float64 { return float64(s.RTPDuplicates) }),
			gauge("rtp", "streams_open", "RTP streams followed now.",
				func(s *Snapshot) float64 { return float64(s.StreamsOpen) }),
			gauge("store", "size_bytes", "Size of the call store on disk.",
				func(s *Snapshot) float64 { return float64(s.StoreBytes) }),
			gauge("recordings", "size_bytes", "Size of the recordings on disk.",
				func(s *Snapshot) float64 { return float64(s.RecordingsBytes) }),
			gauge("recordings", "files", "Number of recording files on disk.",
				func(s *Snapshot) float64 { return float64(s.RecordingsFiles) }),
			counter("recorder", "waits_total", "Times the pipeline waited for the recorder's goroutine to take a full batch: the recorder falling behind the capture.",
				func(s *Snapshot) float64 { return float64(s.RecorderWaits) }),
			gauge("disk", "free_bytes", "Free space on the data disk.",
				func(s *Snapshot) float64 { return float64(s.DiskFreeBytes) }),
			gauge("disk", "floor_reached", "1 when the free space on the data disk has fallen to the configured floor.",
				func(s *Snapshot) float64 { return boolValue(s.DiskFloorReached) }),
		},
		undecodable: prometheus.NewDesc(fq("capture", "undecodable_frames_total"),
			"Frames that could not be decoded, by reason.", []string{"reason"}, nil),
		sipErrors: prometheus.NewDesc(fq("sip", "errors_total"),
			"SIP messages rejected by the parser, by reason.", []string{"reason"}, nil),
		alarm: prometheus.NewDesc(fq("alarm", "state"),
			"Alarm panel state: 1 for the current state (idle, warning, alarm), 0 for the others.", []string{"state"}, nil),
		lamp: prometheus.NewDesc(fq("status", "lamp"),
			"Status lamp state: 1 for the current state (healthy, no_sip, fault), 0 for the others.", []string{"state"}, nil),
		undecodableReasons: slices.Clone(cfg.UndecodableReasons),
		sipErrorReasons:    slices.Clone(cfg.SIPErrorReasons),
	}
}

// Describe sends the descriptions of every snapshot metric.
func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.scalars {
		ch <- d.d
	}
	ch <- c.undecodable
	ch <- c.sipErrors
	ch <- c.alarm
	ch <- c.lamp
}

// Collect reads one snapshot and sends it as constant metrics.
func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	get := c.get
	c.mu.Unlock()
	if get == nil {
		return
	}
	s := get()
	for _, d := range c.scalars {
		ch <- constMetric(d.d, d.typ, d.value(&s))
	}
	byReason(ch, c.undecodable, c.undecodableReasons, s.Undecodable)
	byReason(ch, c.sipErrors, c.sipErrorReasons, s.SIPErrors)
	enum(ch, c.alarm, alarmStates, s.AlarmState)
	enum(ch, c.lamp, lampStates, s.StatusLamp)
}

// byReason sends one counter per reason: the configured reasons (0 when
// absent from counts) and any other reason counts has, in a stable order.
func byReason(ch chan<- prometheus.Metric, d *prometheus.Desc, known []string, counts map[string]uint64) {
	for _, r := range known {
		ch <- constMetric(d, prometheus.CounterValue, float64(counts[r]), r)
	}
	var extra []string
	for r := range counts {
		if !slices.Contains(known, r) {
			extra = append(extra, r)
		}
	}
	slices.Sort(extra)
	for _, r := range extra {
		ch <- constMetric(d, prometheus.CounterValue, float64(counts[r]), r)
	}
}

// enum sends one gauge per state, 1 for the current one. An unknown current
// state sets none, which an alert on "no state is 1" can catch.
func enum(ch chan<- prometheus.Metric, d *prometheus.Desc, states []string, current string) {
	for _, st := range states {
		ch <- constMetric(d, prometheus.GaugeValue, boolValue(st == current), st)
	}
}

// constMetric is prometheus.MustNewConstMetric without the panic: a bad
// metric is reported to the scraper as an error instead.
func constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
