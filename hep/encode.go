package hep

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
)

// Generic chunk types (vendor 0x0000), as heplify and heplify-server
// number them (docs/domain.md §8).
const (
	chunkFamily   = 0x0001
	chunkProto    = 0x0002
	chunkSrcIP4   = 0x0003
	chunkDstIP4   = 0x0004
	chunkSrcIP6   = 0x0005
	chunkDstIP6   = 0x0006
	chunkSrcPort  = 0x0007
	chunkDstPort  = 0x0008
	chunkTimeSec  = 0x0009
	chunkTimeUsec = 0x000a
	chunkProtoTyp = 0x000b
	chunkAgentID  = 0x000c
	chunkAuthKey  = 0x000e
	chunkPayload  = 0x000f
	chunkCorrID   = 0x0011
	chunkVLAN     = 0x0012
)

// Values of the family (0x0001) and protocol-type (0x000b) chunks.
const (
	familyIPv4 = 0x02
	familyIPv6 = 0x0a
	protoSIP   = 0x01
)

const (
	headerLen = 6 // "HEP3" and the total length
	chunkHdr  = 6 // vendor, type, length
	// MaxSize is the largest HEP3 packet: its length field has 16 bits.
	MaxSize = math.MaxUint16
)

// Encoder writes HEP3 packets for one capture agent. The zero value sends
// agent ID 0 and no password. It is safe for concurrent use.
type Encoder struct {
	// AgentID is the capture agent (node) ID, chunk 0x000c.
	AgentID uint32
	// Password is the authentication key, chunk 0x000e, sent only when
	// not empty (heplify-server checks it when configured to).
	Password string
}

// fields are what a packet's chunks hold, checked.
type fields struct {
	src, dst  netip.Addr
	sec, usec uint32
	size      int
}

func (e *Encoder) check(p *Packet) (fields, error) {
	var f fields
	f.src, f.dst = p.Src.Addr().Unmap().WithZone(""), p.Dst.Addr().Unmap().WithZone("")
	if !f.src.IsValid() || !f.dst.IsValid() || f.src.Is4() != f.dst.Is4() {
		return f, fmt.Errorf("%w: %v to %v", ErrAddress, p.Src, p.Dst)
	}
	if p.Transport != UDP && p.Transport != TCP {
		return f, fmt.Errorf("%w: %d", ErrTransport, p.Transport)
	}
	if !p.Time.IsZero() {
		s := p.Time.Unix()
		if s < 0 || s > math.MaxUint32 {
			return f, fmt.Errorf("%w: %v", ErrTime, p.Time)
		}
		f.sec, f.usec = uint32(s), uint32(p.Time.Nanosecond()/1000) //nolint:gosec // G115: range checked above
	}
	ipLen := 4
	if f.src.Is6() {
		ipLen = 16
	}
	// family, proto, src, dst, ports, seconds, µs, proto type, agent,
	// payload.
	f.size = headerLen + 2*(chunkHdr+1) + 2*(chunkHdr+ipLen) + 2*(chunkHdr+2) +
		2*(chunkHdr+4) + (chunkHdr + 1) + (chunkHdr + 4) + chunkHdr + len(p.Payload)
	if e.Password != "" {
		f.size += chunkHdr + len(e.Password)
	}
	if p.CallID != "" {
		f.size += chunkHdr + len(p.CallID)
	}
	if p.VLAN != 0 {
		f.size += chunkHdr + 2
	}
	if f.size > MaxSize {
		return f, fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, f.size, MaxSize)
	}
	return f, nil
}

// Size returns the length of p's HEP3 packet.
func (e *Encoder) Size(p *Packet) (int, error) {
	f, err := e.check(p)
	return f.size, err
}

// Append appends p's HEP3 packet to b and returns the extended buffer. It
// allocates only when b lacks the room, so a reused buffer costs nothing.
// On error b is returned unchanged.
//
// The chunks go in heplify's order (publish/marshal.go makeHEPChuncks):
// family, protocol, addresses, ports, time, protocol type, agent, then
// the optional authentication key, VLAN, correlation ID, and the payload.
func (e *Encoder) Append(b []byte, p *Packet) ([]byte, error) {
	f, err := e.check(p)
	if err != nil {
		return b, err
	}
	b = slices.Grow(b, f.size)
	b = append(b, 'H', 'E', 'P', '3')
	b = binary.BigEndian.AppendUint16(b, uint16(f.size)) //nolint:gosec // G115: size ≤ MaxSize, checked
	family, srcType, dstType := byte(familyIPv4), uint16(chunkSrcIP4), uint16(chunkDstIP4)
	if f.src.Is6() {
		family, srcType, dstType = familyIPv6, chunkSrcIP6, chunkDstIP6
	}
	b = appendChunk8(b, chunkFamily, family)
	b = appendChunk8(b, chunkProto, byte(p.Transport))
	b = appendChunkHdr(b, srcType, f.src.BitLen()/8)
	b = appendAddr(b, f.src)
	b = appendChunkHdr(b, dstType, f.dst.BitLen()/8)
	b = appendAddr(b, f.dst)
	b = appendChunk16(b, chunkSrcPort, p.Src.Port())
	b = appendChunk16(b, chunkDstPort, p.Dst.Port())
	b = appendChunk32(b, chunkTimeSec, f.sec)
	b = appendChunk32(b, chunkTimeUsec, f.usec)
	b = appendChunk8(b, chunkProtoTyp, protoSIP)
	b = appendChunk32(b, chunkAgentID, e.AgentID)
	if e.Password != "" {
		b = appendChunkHdr(b, chunkAuthKey, len(e.Password))
		b = append(b, e.Password...)
	}
	if p.VLAN != 0 {
		b = appendChunk16(b, chunkVLAN, p.VLAN)
	}
	if p.CallID != "" {
		b = appendChunkHdr(b, chunkCorrID, len(p.CallID))
		b = append(b, p.CallID...)
	}
	b = appendChunkHdr(b, chunkPayload, len(p.Payload))
	return append(b, p.Payload...), nil
}

// appendChunkHdr appends a generic chunk's header for n bytes of value;
// the length counts the header itself. n is bounded by Size's check.
func appendChunkHdr(b []byte, typ uint16, n int) []byte {
	b = append(b, 0, 0, byte(typ>>8), byte(typ))
	return binary.BigEndian.AppendUint16(b, uint16(chunkHdr+n)) //nolint:gosec // G115: packet ≤ MaxSize, checked
}

func appendChunk8(b []byte, typ uint16, v byte) []byte {
	return append(appendChunkHdr(b, typ, 1), v)
}

func appendChunk16(b []byte, typ, v uint16) []byte {
	return binary.BigEndian.AppendUint16(appendChunkHdr(b, typ, 2), v)
}

func appendChunk32(b []byte, typ uint16, v uint32) []byte {
	return binary.BigEndian.AppendUint32(appendChunkHdr(b, typ, 4), v)
}

// appendAddr appends a's 4 or 16 bytes in network order.
func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}
