package pcapgen

import (
	"time"

	"github.com/gopacket/gopacket/layers"
)

// DefaultMTU is the IP MTU used unless WithMTU says otherwise.
const DefaultMTU = 1500

// Option configures a Writer.
type Option interface {
	applyWriter(c *writerConfig)
}

// PacketOption configures one packet (or one datagram and its fragments).
type PacketOption interface {
	applyPacket(c *packetConfig)
}

type writerConfig struct {
	linkType layers.LinkType
	mtu      int
}

type packetConfig struct {
	vlans       []uint16
	mtu         int
	fragmentGap time.Duration
}

type linkTypeOption layers.LinkType

func (o linkTypeOption) applyWriter(c *writerConfig) { c.linkType = layers.LinkType(o) }

// WithLinkType sets the link type of the capture: layers.LinkTypeEthernet
// (the default), layers.LinkTypeLinuxSLL or layers.LinkTypeRaw.
func WithLinkType(lt layers.LinkType) Option { return linkTypeOption(lt) }

// MTUOption sets the IP MTU; it is both an Option (for the whole writer)
// and a PacketOption (for one packet).
type MTUOption int

func (o MTUOption) applyWriter(c *writerConfig) { c.mtu = int(o) }
func (o MTUOption) applyPacket(c *packetConfig) { c.mtu = int(o) }

// WithMTU sets the largest IP packet, header included, before UDP datagrams
// are fragmented (default DefaultMTU). It applies to the writer or, passed
// to UDP or RTP, to one datagram.
func WithMTU(n int) MTUOption { return MTUOption(n) }

type vlanOption []uint16

func (o vlanOption) applyPacket(c *packetConfig) { c.vlans = append([]uint16(nil), o...) }

// WithVLAN tags the frame: one id gives an 802.1Q tag (TPID 0x8100), two
// ids give QinQ (IEEE 802.1ad), the first id being the outer (service) tag
// with TPID 0x88a8 and the second the inner 802.1Q tag. Ethernet only.
func WithVLAN(ids ...uint16) PacketOption { return vlanOption(ids) }

type fragmentGapOption time.Duration

func (o fragmentGapOption) applyPacket(c *packetConfig) { c.fragmentGap = time.Duration(o) }

// WithFragmentGap spaces the fragments of a fragmented datagram: fragment i
// is captured at t+i*d. Without it every fragment has time t. Since a
// datagram exists only when its last fragment arrives, its capture time is
// then the time of the LAST fragment, t+(n-1)*d.
func WithFragmentGap(d time.Duration) PacketOption { return fragmentGapOption(d) }
