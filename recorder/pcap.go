package recorder

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/switchtap/switchtap/capture"
)

// pcapSnaplen is the snapshot length stated in the file header.
const pcapSnaplen = 65535

// pcapWriter keeps the RTP of a leg that cannot be written as WAV
// (encrypted, unknown codec) as a pcap of raw IP frames (LINKTYPE_RAW), so
// it opens in Wireshark. Frames are rebuilt from the datagram: the original
// link layer is not kept by the decoder.
type pcapWriter struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	w    *pcapgo.Writer
	sb   gopacket.SerializeBuffer
	n    uint64
}

// createPcap creates path+".part" (mode 0600) with the pcap file header.
func createPcap(path string) (*pcapWriter, error) {
	f, err := os.OpenFile(path+partSuffix, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create pcap: %w", err)
	}
	p := &pcapWriter{path: path, f: f, bw: bufio.NewWriterSize(f, 16<<10), sb: gopacket.NewSerializeBuffer()}
	p.w = pcapgo.NewWriterNanos(p.bw)
	if err := p.w.WriteFileHeader(pcapSnaplen, layers.LinkTypeRaw); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write pcap header: %w", err)
	}
	return p, nil
}

// write appends one datagram as an IPv4 or IPv6 + UDP frame.
func (p *pcapWriter) write(d *capture.Datagram) error {
	udp := &layers.UDP{SrcPort: layers.UDPPort(d.Src.Port()), DstPort: layers.UDPPort(d.Dst.Port())}
	var ip gopacket.SerializableLayer
	src, dst := d.Src.Addr().Unmap(), d.Dst.Addr().Unmap()
	if src.Is4() && dst.Is4() {
		v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
			SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		_ = udp.SetNetworkLayerForChecksum(v4)
		ip = v4
	} else {
		a, b := d.Src.Addr().As16(), d.Dst.Addr().As16()
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
			SrcIP: net.IP(a[:]), DstIP: net.IP(b[:])}
		_ = udp.SetNetworkLayerForChecksum(v6)
		ip = v6
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(p.sb, opts, ip, udp, gopacket.Payload(d.Payload)); err != nil {
		return fmt.Errorf("build frame: %w", err)
	}
	b := p.sb.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: d.Time, CaptureLength: len(b), Length: len(b)}
	if err := p.w.WritePacket(ci, b); err != nil {
		return fmt.Errorf("write pcap: %w", err)
	}
	p.n += uint64(len(b)) + 16
	return nil
}

// finish flushes and closes the file, still ".part": the committer makes
// it durable and puts it in place (commit.go).
func (p *pcapWriter) finish() error {
	err := p.bw.Flush()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("finish pcap %s: %w", p.path, err)
	}
	return nil
}

// repairPcap cuts a pcap left open by a crash after its last whole record.
func repairPcap(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	defer f.Close()
	var hdr [24]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return fmt.Errorf("%w: %s: header: %v", ErrBadPcap, path, err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch binary.LittleEndian.Uint32(hdr[:4]) {
	case 0xa1b2c3d4, 0xa1b23c4d:
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return fmt.Errorf("%w: %s: magic %x", ErrBadPcap, path, hdr[:4])
	}
	r := bufio.NewReader(f)
	good := int64(24)
	for {
		var rec [16]byte
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			break
		}
		n := int64(order.Uint32(rec[8:12]))
		if n > pcapSnaplen {
			break
		}
		if _, err := r.Discard(int(n)); err != nil {
			break
		}
		good += 16 + n
	}
	if err := f.Truncate(good); err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	return nil
}
