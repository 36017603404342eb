package hep

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// decoded is a HEP3 packet read back by decode, a strict reader written
// for the tests only: the daemon never reads HEP.
type decoded struct {
	Family, Proto, ProtoType byte
	Src, Dst                 netip.Addr
	SrcPort, DstPort         uint16
	Sec, Usec, AgentID       uint32
	Password, CallID         string
	HasPassword, HasCallID   bool
	VLAN                     uint16
	Payload                  []byte
	// Order lists the chunk types as they came.
	Order []uint16
}

var errDecode = errors.New("bad hep3 packet")

// fixedLen is the value length of each fixed-size chunk.
var fixedLen = map[uint16]int{
	chunkFamily: 1, chunkProto: 1, chunkSrcIP4: 4, chunkDstIP4: 4, chunkSrcIP6: 16, chunkDstIP6: 16,
	chunkSrcPort: 2, chunkDstPort: 2, chunkTimeSec: 4, chunkTimeUsec: 4, chunkProtoTyp: 1,
	chunkAgentID: 4, chunkVLAN: 2,
}

// decode reads b as one HEP3 packet, as heplify's parser checks it and
// stricter: the total length is the datagram's, chunks have length ≥ 6
// and stay inside, vendor 0, fixed sizes, no chunk twice, and the set a
// SIP message needs is there with one family.
func decode(b []byte) (decoded, error) {
	var d decoded
	if len(b) < headerLen || string(b[:4]) != "HEP3" {
		return d, fmt.Errorf("%w: no HEP3 header", errDecode)
	}
	if n := int(binary.BigEndian.Uint16(b[4:6])); n != len(b) {
		return d, fmt.Errorf("%w: length %d, datagram %d", errDecode, n, len(b))
	}
	seen := map[uint16]bool{}
	for off := headerLen; off < len(b); {
		if len(b)-off < chunkHdr {
			return d, fmt.Errorf("%w: truncated chunk header at %d", errDecode, off)
		}
		vendor, typ := binary.BigEndian.Uint16(b[off:]), binary.BigEndian.Uint16(b[off+2:])
		n := int(binary.BigEndian.Uint16(b[off+4:]))
		if n < chunkHdr || off+n > len(b) {
			return d, fmt.Errorf("%w: chunk %#x length %d at %d", errDecode, typ, n, off)
		}
		if vendor != 0 {
			return d, fmt.Errorf("%w: vendor %#x", errDecode, vendor)
		}
		if seen[typ] {
			return d, fmt.Errorf("%w: chunk %#x twice", errDecode, typ)
		}
		seen[typ] = true
		v := b[off+chunkHdr : off+n]
		if want, ok := fixedLen[typ]; ok && len(v) != want {
			return d, fmt.Errorf("%w: chunk %#x has %d bytes, want %d", errDecode, typ, len(v), want)
		}
		d.Order = append(d.Order, typ)
		switch typ {
		case chunkFamily:
			d.Family = v[0]
		case chunkProto:
			d.Proto = v[0]
		case chunkSrcIP4, chunkSrcIP6:
			d.Src, _ = netip.AddrFromSlice(v)
		case chunkDstIP4, chunkDstIP6:
			d.Dst, _ = netip.AddrFromSlice(v)
		case chunkSrcPort:
			d.SrcPort = binary.BigEndian.Uint16(v)
		case chunkDstPort:
			d.DstPort = binary.BigEndian.Uint16(v)
		case chunkTimeSec:
			d.Sec = binary.BigEndian.Uint32(v)
		case chunkTimeUsec:
			d.Usec = binary.BigEndian.Uint32(v)
		case chunkProtoTyp:
			d.ProtoType = v[0]
		case chunkAgentID:
			d.AgentID = binary.BigEndian.Uint32(v)
		case chunkAuthKey:
			d.Password, d.HasPassword = string(v), true
		case chunkCorrID:
			d.CallID, d.HasCallID = string(v), true
		case chunkVLAN:
			d.VLAN = binary.BigEndian.Uint16(v)
		case chunkPayload:
			d.Payload = slices.Clone(v)
		default:
			return d, fmt.Errorf("%w: unexpected chunk %#x", errDecode, typ)
		}
		off += n
	}
	for _, typ := range []uint16{chunkFamily, chunkProto, chunkSrcPort, chunkDstPort, chunkTimeSec,
		chunkTimeUsec, chunkProtoTyp, chunkAgentID, chunkPayload} {
		if !seen[typ] {
			return d, fmt.Errorf("%w: chunk %#x missing", errDecode, typ)
		}
	}
	v4 := seen[chunkSrcIP4] && seen[chunkDstIP4] && !seen[chunkSrcIP6] && !seen[chunkDstIP6] && d.Family == familyIPv4
	v6 := seen[chunkSrcIP6] && seen[chunkDstIP6] && !seen[chunkSrcIP4] && !seen[chunkDstIP4] && d.Family == familyIPv6
	if !v4 && !v6 {
		return d, fmt.Errorf("%w: addresses do not match family %#x", errDecode, d.Family)
	}
	return d, nil
}

// packet returns the Packet d says was encoded, and the encoder.
func (d decoded) packet() (Packet, Encoder) {
	p := Packet{
		Src:       netip.AddrPortFrom(d.Src, d.SrcPort),
		Dst:       netip.AddrPortFrom(d.Dst, d.DstPort),
		Transport: Transport(d.Proto),
		VLAN:      d.VLAN,
		CallID:    d.CallID,
		Payload:   d.Payload,
	}
	if d.Sec != 0 || d.Usec != 0 {
		p.Time = time.Unix(int64(d.Sec), int64(d.Usec)*1000)
	}
	return p, Encoder{AgentID: d.AgentID, Password: d.Password}
}

// canonicalOrder is the chunk order Append writes for d's chunks.
func (d decoded) canonicalOrder() []uint16 {
	src, dst := uint16(chunkSrcIP4), uint16(chunkDstIP4)
	if d.Family == familyIPv6 {
		src, dst = chunkSrcIP6, chunkDstIP6
	}
	o := []uint16{chunkFamily, chunkProto, src, dst, chunkSrcPort, chunkDstPort, chunkTimeSec,
		chunkTimeUsec, chunkProtoTyp, chunkAgentID}
	if d.Password != "" {
		o = append(o, chunkAuthKey)
	}
	if d.VLAN != 0 {
		o = append(o, chunkVLAN)
	}
	if d.CallID != "" {
		o = append(o, chunkCorrID)
	}
	return append(o, chunkPayload)
}
