package hep

import "github.com/prometheus/client_golang/prometheus"

// collector exports a Sender's counters.
type collector struct {
	s                                 *Sender
	sent, dropped, errs, queued, conn *prometheus.Desc
}

// NewCollector returns the Prometheus collector of s's counters, to
// register on the daemon's registry.
func NewCollector(s *Sender) prometheus.Collector {
	name := func(n string) string { return prometheus.BuildFQName("switchtap", "hep", n) }
	return &collector{
		s:       s,
		sent:    prometheus.NewDesc(name("packets_sent_total"), "SIP messages mirrored to the HEP collector.", nil, nil),
		dropped: prometheus.NewDesc(name("packets_dropped_total"), "SIP messages not mirrored because the HEP queue was full.", nil, nil),
		errs:    prometheus.NewDesc(name("errors_total"), "SIP messages that could not be encoded or written, and failed connection attempts.", nil, nil),
		queued:  prometheus.NewDesc(name("queue_packets"), "SIP messages waiting for the HEP collector.", nil, nil),
		conn:    prometheus.NewDesc(name("connected"), "1 while the connection (TCP) or socket (UDP) to the HEP collector is up.", nil, nil),
	}
}

// Describe sends the descriptors.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sent, c.dropped, c.errs, c.queued, c.conn} {
		ch <- d
	}
}

// Collect sends the current values.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	conn := 0.0
	if st.Connected {
		conn = 1
	}
	ch <- prometheus.MustNewConstMetric(c.sent, prometheus.CounterValue, float64(st.Sent))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(st.Dropped))
	ch <- prometheus.MustNewConstMetric(c.errs, prometheus.CounterValue, float64(st.Errors))
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(c.conn, prometheus.GaugeValue, conn)
}
