package metrics

import "github.com/prometheus/client_golang/prometheus"

// DiskSnapshot is the store's disk guard and record queue as a scrape
// reads them (issue 9, item 1: a full disk shows as a metric, not a
// crash).
type DiskSnapshot struct {
	// StoreFull says the store refuses writes: the free space is below its
	// own floor (StoreFloorBytes). ReserveBytes is the ballast held now.
	StoreFull       bool
	StoreFloorBytes uint64
	ReserveBytes    uint64
	// RefusedWrites counts the writes refused for lack of space.
	RefusedWrites uint64
	// Queued records wait in memory for the store; Dropped were lost past
	// the queue's bound (or still unstored at shutdown); WriteErrors are
	// failed store writes (each retried).
	Queued      int
	Dropped     uint64
	WriteErrors uint64
}

// diskDesc is one metric of a DiskSnapshot.
type diskDesc struct {
	d     *prometheus.Desc
	typ   prometheus.ValueType
	value func(*DiskSnapshot) float64
}

// diskCollector exports a DiskSnapshot read at each scrape.
type diskCollector struct {
	read  func() DiskSnapshot
	descs []diskDesc
}

// NewDiskCollector returns the collector of the store's disk guard and
// record queue; read is called once per scrape. Register it on the
// registry given to New.
func NewDiskCollector(read func() DiskSnapshot) prometheus.Collector {
	mk := func(typ prometheus.ValueType) func(string, string, func(*DiskSnapshot) float64) diskDesc {
		return func(name, help string, v func(*DiskSnapshot) float64) diskDesc {
			return diskDesc{prometheus.NewDesc(prometheus.BuildFQName(namespace, "store", name), help, nil, nil), typ, v}
		}
	}
	gauge, counter := mk(prometheus.GaugeValue), mk(prometheus.CounterValue)
	return &diskCollector{read: read, descs: []diskDesc{
		gauge("disk_full", "1 while the store refuses writes because the free space is below its own floor; records wait in memory.",
			func(s *DiskSnapshot) float64 { return boolValue(s.StoreFull) }),
		gauge("disk_floor_bytes", "Free space below which the store refuses writes.",
			func(s *DiskSnapshot) float64 { return float64(s.StoreFloorBytes) }),
		gauge("disk_reserve_bytes", "Space held by the store's reserve file, released to let the store flush and close on a full disk.",
			func(s *DiskSnapshot) float64 { return float64(s.ReserveBytes) }),
		counter("disk_refused_writes_total", "Store writes refused because the free space was below the store's floor.",
			func(s *DiskSnapshot) float64 { return float64(s.RefusedWrites) }),
		gauge("queue_records", "Finished call records waiting in memory for the store.",
			func(s *DiskSnapshot) float64 { return float64(s.Queued) }),
		counter("dropped_records_total", "Call records lost because the store queue was full or the store still failed at shutdown.",
			func(s *DiskSnapshot) float64 { return float64(s.Dropped) }),
		counter("write_errors_total", "Failed store writes, each retried with backoff.",
			func(s *DiskSnapshot) float64 { return float64(s.WriteErrors) }),
	}}
}

// Describe sends the descriptions of the disk metrics.
func (c *diskCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d.d
	}
}

// Collect reads the snapshot once and sends every disk metric.
func (c *diskCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.read()
	for _, d := range c.descs {
		ch <- constMetric(d.d, d.typ, d.value(&s))
	}
}
