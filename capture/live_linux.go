//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"
)

// Live is a live capture on one interface through an AF_PACKET socket,
// with the kernel filter of Filter installed. ReadFrame and Close may be
// called from different goroutines; ReadFrame must not be called
// concurrently with itself.
type Live struct {
	h      *pcapgo.EthernetHandle
	iface  string
	link   layers.LinkType
	closed atomic.Bool
	// buf holds a frame whose stripped VLAN tag had to be put back and did
	// not fit the handle's buffer.
	buf []byte

	mu    sync.Mutex
	stats LiveStats
}

// OpenLive opens a live capture on iface. It fails with ErrNoInterface when
// the interface does not exist and ErrPermission without CAP_NET_RAW.
func OpenLive(iface string, opts ...LiveOption) (*Live, error) {
	c := newLiveConfig(opts)
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoInterface, iface, err)
	}
	// pcapgo flattens its errors to strings: probe the socket ourselves to
	// tell a missing capability apart.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("%w: packet socket on %s: %w (run as root or grant CAP_NET_RAW, e.g. setcap cap_net_raw,cap_net_admin+ep on the binary)", ErrPermission, iface, err)
		}
		return nil, fmt.Errorf("packet socket on %s: %w", iface, err)
	}
	_ = unix.Close(fd)

	h, err := pcapgo.NewEthernetHandle(iface)
	if err != nil {
		return nil, fmt.Errorf("open live capture on %s: %w", iface, err)
	}
	l := &Live{h: h, iface: iface, link: layers.LinkTypeEthernet}
	if len(ifc.HardwareAddr) == 0 && ifc.Flags&net.FlagLoopback == 0 {
		// A tun or other point-to-point device hands over bare IP packets.
		l.link = layers.LinkTypeRaw
	}
	if err := l.setup(c); err != nil {
		_ = h.Close()
		return nil, err
	}
	return l, nil
}

func (l *Live) setup(c liveConfig) error {
	if err := l.h.SetCaptureLength(c.snaplen); err != nil {
		return fmt.Errorf("set capture length on %s: %w", l.iface, err)
	}
	if l.link == layers.LinkTypeEthernet {
		// The filter reads Ethernet offsets; bare IP devices get none.
		f := Filter()
		if len(f) == 0 {
			return fmt.Errorf("kernel filter for %s: empty program", l.iface)
		}
		if err := l.h.SetBPF(f); err != nil {
			return fmt.Errorf("install kernel filter on %s: %w", l.iface, err)
		}
	}
	if c.promiscuous {
		if err := l.h.SetPromiscuous(true); err != nil {
			return fmt.Errorf("promiscuous mode on %s: %w", l.iface, err)
		}
	}
	return nil
}

// ReadFrame blocks until a frame arrives, and returns io.EOF once Close has
// been called. Frame.Data is valid until the next ReadFrame. A VLAN tag the
// kernel stripped (reported in auxdata) is put back into the frame, so the
// decoder sees the frame as it was on the wire.
func (l *Live) ReadFrame() (Frame, error) {
	if l.closed.Load() {
		return Frame{}, io.EOF
	}
	data, ci, err := l.h.ZeroCopyReadPacketData()
	if err != nil {
		if l.closed.Load() {
			return Frame{}, io.EOF
		}
		return Frame{}, fmt.Errorf("read %s: %w", l.iface, err)
	}
	if len(ci.AncillaryData) > 0 && l.link == layers.LinkTypeEthernet {
		if vlan, ok := ci.AncillaryData[0].(int); ok {
			data = l.restoreVLAN(data, uint16(vlan)) //nolint:gosec // G115: pcapgo masks it to 12 bits
			ci.CaptureLength += vlanTagLen
			ci.Length += vlanTagLen
			ci.AncillaryData = nil
		}
	}
	return Frame{Data: data, Info: ci, LinkType: l.link}, nil
}

// restoreVLAN inserts an 802.1Q tag with the given ID after the MAC
// addresses. The kernel does not say which TPID the tag had: 0x8100 is the
// usual one and the decoder treats them all alike.
func (l *Live) restoreVLAN(data []byte, vlan uint16) []byte {
	if len(data) < 12 {
		return data
	}
	n := len(data) + vlanTagLen
	var out []byte
	if cap(data) >= n {
		// The handle's buffer has room: shift in place, no copy of the
		// frame elsewhere.
		out = data[:n]
		copy(out[16:], data[12:len(data)])
	} else {
		if cap(l.buf) < n {
			l.buf = make([]byte, n)
		}
		out = l.buf[:n]
		copy(out[:12], data[:12])
		copy(out[16:], data[12:])
	}
	binary.BigEndian.PutUint16(out[12:14], etherTypeDot1Q)
	binary.BigEndian.PutUint16(out[14:16], vlan)
	return out
}

// Close stops the capture; a ReadFrame blocked in another goroutine returns
// io.EOF.
func (l *Live) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	if err := l.h.Close(); err != nil {
		return fmt.Errorf("close capture on %s: %w", l.iface, err)
	}
	return nil
}

// Stats returns the kernel's cumulative counters. The kernel resets its
// counters on every read, so they are summed here.
func (l *Live) Stats() (LiveStats, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return l.stats, nil
	}
	s, err := l.h.Stats()
	if err != nil {
		return l.stats, fmt.Errorf("capture stats of %s: %w", l.iface, err)
	}
	l.stats.Received += uint64(s.Packets)
	l.stats.Dropped += uint64(s.Drops)
	return l.stats, nil
}
