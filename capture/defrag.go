package capture

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"
)

// fragKey names one datagram under reassembly (RFC 791 2.3, RFC 8200 4.5).
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

// fragEntry is what we know of one pending datagram. The gopacket
// defragmenters expose neither their size nor a way to drop one datagram,
// so this index mirrors them to bound memory: stamp is the time the
// defragmenter itself compares in DiscardOlderThan, age the capture time
// the timeout counts from.
type fragEntry struct {
	stamp time.Time
	age   time.Time
	bytes int
}

// fragTable indexes the datagrams pending in one defragmenter.
type fragTable struct {
	entries map[fragKey]fragEntry
	bytes   int
	discard func(time.Time) int
}

func (t *fragTable) remove(k fragKey) {
	if e, ok := t.entries[k]; ok {
		t.bytes -= e.bytes
		delete(t.entries, k)
	}
}

// evictThrough drops, here and in the defragmenter, every datagram stamped
// at or before stamp, and returns how many were dropped.
func (t *fragTable) evictThrough(stamp time.Time) int {
	t.discard(stamp.Add(time.Nanosecond))
	n := 0
	for k, e := range t.entries {
		if !e.stamp.After(stamp) {
			t.bytes -= e.bytes
			delete(t.entries, k)
			n++
		}
	}
	return n
}

// evictOldest drops the datagram with the oldest stamp (and any stamped
// the same), returning how many were dropped.
func (t *fragTable) evictOldest() int {
	var (
		oldest time.Time
		found  bool
	)
	for _, e := range t.entries {
		if !found || e.stamp.Before(oldest) {
			oldest, found = e.stamp, true
		}
	}
	if !found {
		return 0
	}
	return t.evictThrough(oldest)
}

// expire drops the datagrams whose age is before cutoff.
func (t *fragTable) expire(cutoff time.Time) int {
	var (
		newest time.Time
		found  bool
	)
	for _, e := range t.entries {
		if e.age.Before(cutoff) && (!found || e.stamp.After(newest)) {
			newest, found = e.stamp, true
		}
	}
	if !found {
		return 0
	}
	return t.evictThrough(newest)
}

// defragmenter reassembles IPv4 and IPv6 datagrams with bounded memory.
type defragmenter struct {
	v4           *ip4defrag.IPv4Defragmenter
	v6           *ip6defrag.IPv6Defragmenter
	t4, t6       fragTable
	maxDatagrams int
	maxBytes     int
	timeout      time.Duration
	reassembled  uint64
	dropped      uint64
	// wall reads the clock ip6defrag stamps its lists with (time.Now,
	// which it calls itself): only used to order those stamps.
	wall func() time.Time
}

func newDefragmenter(maxDatagrams, maxBytes int, timeout time.Duration) *defragmenter {
	d := &defragmenter{
		v4:           ip4defrag.NewIPv4Defragmenter(),
		v6:           ip6defrag.NewIPv6Defragmenter(),
		maxDatagrams: maxDatagrams,
		maxBytes:     maxBytes,
		timeout:      timeout,
		wall:         time.Now,
	}
	d.t4 = fragTable{entries: make(map[fragKey]fragEntry), discard: d.v4.DiscardOlderThan}
	d.t6 = fragTable{entries: make(map[fragKey]fragEntry), discard: d.v6.DiscardOlderThan}
	return d
}

// makeRoom evicts the oldest datagrams until one more fragment of n bytes
// for k fits the limits.
func (d *defragmenter) makeRoom(t *fragTable, k fragKey, n int) error {
	if n > d.maxBytes {
		d.dropped++
		return fmt.Errorf("%w: fragment of %d bytes over the %d byte limit", ErrFragment, n, d.maxBytes)
	}
	for {
		_, known := t.entries[k]
		pending := len(d.t4.entries) + len(d.t6.entries)
		if (known || pending < d.maxDatagrams) && d.t4.bytes+d.t6.bytes+n <= d.maxBytes {
			return nil
		}
		// Evict from the table holding the most bytes.
		from := &d.t4
		if d.t6.bytes > d.t4.bytes || len(d.t4.entries) == 0 {
			from = &d.t6
		}
		dropped := from.evictOldest()
		if dropped == 0 {
			return nil
		}
		d.dropped += uint64(dropped) //nolint:gosec // G115: a count
	}
}

// ipv4 takes one IPv4 fragment and returns the whole datagram when this
// fragment completed it, else nil.
func (d *defragmenter) ipv4(ip *layers.IPv4, src, dst netip.Addr, ts time.Time) (*layers.IPv4, error) {
	k := fragKey{src: src, dst: dst, id: uint32(ip.Id), proto: uint8(ip.Protocol)}
	n := len(ip.Payload)
	if err := d.makeRoom(&d.t4, k, n); err != nil {
		return nil, err
	}
	// ip4defrag keeps the layer and its payload, which alias the capture
	// buffer: hand it a copy.
	cp := &layers.IPv4{
		Version: ip.Version, IHL: ip.IHL, TOS: ip.TOS, Length: ip.Length,
		Id: ip.Id, Flags: ip.Flags, FragOffset: ip.FragOffset, TTL: ip.TTL,
		Protocol: ip.Protocol,
		SrcIP:    bytes.Clone(ip.SrcIP), DstIP: bytes.Clone(ip.DstIP),
	}
	cp.Payload = bytes.Clone(ip.Payload)
	out, err := d.v4.DefragIPv4WithTimestamp(cp, ts)
	if err != nil {
		// ip4defrag has flushed the datagram.
		d.t4.remove(k)
		d.dropped++
		return nil, fmt.Errorf("%w: ipv4 %s > %s id %d: %w", ErrFragment, src, dst, ip.Id, err)
	}
	if out != nil {
		d.t4.remove(k)
		d.reassembled++
		return out, nil
	}
	e := d.t4.entries[k]
	e.stamp, e.age = ts, ts // ip4defrag ages a datagram from its last fragment
	e.bytes += n
	d.t4.bytes += n
	d.t4.entries[k] = e
	return nil, nil
}

// ipv6 takes one IPv6 fragment and returns the whole packet when this
// fragment completed it, else nil.
func (d *defragmenter) ipv6(ip *layers.IPv6, fg *layers.IPv6Fragment, src, dst netip.Addr, ts time.Time) *layers.IPv6 {
	k := fragKey{src: src, dst: dst, id: fg.Identification, proto: uint8(layers.IPProtocolIPv6Fragment)}
	n := len(fg.Payload)
	if err := d.makeRoom(&d.t6, k, n); err != nil {
		return nil
	}
	// ip6defrag keeps both layers and the payload: hand it copies.
	cpIP := &layers.IPv6{
		Version: ip.Version, TrafficClass: ip.TrafficClass, FlowLabel: ip.FlowLabel,
		NextHeader: ip.NextHeader, HopLimit: ip.HopLimit,
		SrcIP: bytes.Clone(ip.SrcIP), DstIP: bytes.Clone(ip.DstIP),
	}
	cpFg := &layers.IPv6Fragment{
		NextHeader: fg.NextHeader, FragmentOffset: fg.FragmentOffset,
		MoreFragments: fg.MoreFragments, Identification: fg.Identification,
	}
	cpFg.Payload = bytes.Clone(fg.Payload)
	out := d.v6.DefragIPv6(cpIP, cpFg)
	if out != nil {
		d.t6.remove(k)
		d.reassembled++
		return out
	}
	e, known := d.t6.entries[k]
	if !known {
		// ip6defrag ages a packet from its first fragment, by the wall
		// clock it read just now.
		e.stamp, e.age = d.wall(), ts
	}
	e.bytes += n
	d.t6.bytes += n
	d.t6.entries[k] = e
	return nil
}

// expire drops datagrams whose fragments are older than the timeout.
func (d *defragmenter) expire(now time.Time) {
	cutoff := now.Add(-d.timeout)
	n := d.t4.expire(cutoff) + d.t6.expire(cutoff)
	// Backstop for ip6defrag lists our index lost track of (it drops a
	// packet on overlap without telling): it stamps by the wall clock.
	n += d.t6.evictThrough(d.wall().Add(-d.timeout))
	d.dropped += uint64(n) //nolint:gosec // G115: a count
}

// truncFeedback records whether a layer found itself truncated.
type truncFeedback struct{ truncated bool }

// SetTruncated implements gopacket.DecodeFeedback.
func (f *truncFeedback) SetTruncated() { f.truncated = true }

var _ gopacket.DecodeFeedback = (*truncFeedback)(nil)
