package pcapgen

import "errors"

// Errors returned by the writer and the scenarios.
var (
	// ErrAddress is returned when source and destination are not both valid
	// addresses of the same family.
	ErrAddress = errors.New("pcapgen: invalid address pair")
	// ErrMTU is returned for an MTU too small to carry any payload.
	ErrMTU = errors.New("pcapgen: mtu too small")
	// ErrTooBig is returned for a packet that cannot be sent as asked: a TCP
	// segment larger than the MTU, or a UDP datagram over 65535 bytes.
	ErrTooBig = errors.New("pcapgen: packet too big")
	// ErrVLAN is returned for VLAN tags on a link type other than Ethernet,
	// or for more than two tags.
	ErrVLAN = errors.New("pcapgen: unsupported vlan tagging")
	// ErrLinkType is returned for a link type the writer cannot produce.
	ErrLinkType = errors.New("pcapgen: unsupported link type")
	// ErrTCPState is returned when a TCP connection is used out of order.
	ErrTCPState = errors.New("pcapgen: tcp connection state")
	// ErrScenario is returned for an unknown scenario name.
	ErrScenario = errors.New("pcapgen: unknown scenario")
)
