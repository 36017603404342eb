package capture

// LiveStats are the kernel's cumulative counters of a live capture.
type LiveStats struct {
	// Received is the number of packets the filter accepted.
	Received uint64
	// Dropped is the number of accepted packets lost because the socket
	// buffer was full.
	Dropped uint64
}

// defaultSnaplen is the most bytes kept of a frame: libpcap's maximum, so
// that jumbo frames and the merged frames of segmentation offload fit.
const defaultSnaplen = 262144

// LiveOption configures a live capture.
type LiveOption func(*liveConfig)

type liveConfig struct {
	snaplen     int
	promiscuous bool
	ringBytes   int
}

// defaultRingBytes is the kernel ring shared with the capture: 16 MiB holds
// about 0.8 s of 20,000 RTP packets/s, so a burst or a slow moment of the
// reader does not drop packets, and stays small for a 512 MB board.
const defaultRingBytes = 16 << 20

// WithRingBytes sets the size of the kernel capture ring (rounded down to
// whole 128 KiB blocks, at least 8).
func WithRingBytes(n int) LiveOption {
	return func(c *liveConfig) { c.ringBytes = n }
}

// WithSnaplen sets how many bytes of each frame are kept (default 262144).
func WithSnaplen(n int) LiveOption {
	return func(c *liveConfig) { c.snaplen = n }
}

// WithPromiscuous turns promiscuous mode on or off (default on: a mirror
// port delivers frames addressed to other hosts).
func WithPromiscuous(on bool) LiveOption {
	return func(c *liveConfig) { c.promiscuous = on }
}

func newLiveConfig(opts []LiveOption) liveConfig {
	c := liveConfig{snaplen: defaultSnaplen, promiscuous: true, ringBytes: defaultRingBytes}
	for _, o := range opts {
		o(&c)
	}
	return c
}
