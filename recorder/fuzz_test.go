package recorder

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzStream feeds arbitrary datagrams to a stream as the recorder does:
// the input is a sequence of records (2-byte capture offset in ms, 1-byte
// length, that many bytes of datagram). Nothing may panic, the timeline
// must only grow within the reorder window, and counters must add up.
func FuzzStream(f *testing.F) {
	seed := func(pkts ...pkt) []byte {
		var b []byte
		for _, p := range pkts {
			m := p.marshal(f)
			b = binary.BigEndian.AppendUint16(b, uint16(p.at/time.Millisecond))
			b = append(b, byte(len(m)))
			b = append(b, m...)
		}
		return b
	}
	f.Add(seed(pkt{seq: 1, ts: 0, n: 20}, pkt{seq: 2, ts: 160, n: 20, at: 20 * time.Millisecond}))
	f.Add(seed(pkt{seq: 65535, ts: 1<<32 - 160, n: 8}, pkt{seq: 1, ts: 160, n: 8}, pkt{seq: 0, ts: 0, n: 8}))
	f.Add(seed(pkt{seq: 1, ts: 0, n: 8, pt: 101, raw: []byte{1, 0x8a, 0, 160}}, pkt{seq: 9, ts: 9, pt: 13, n: 1, ssrc: 3}))
	f.Add([]byte{0, 0, 3, 0x80, 0, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		tl := &timeline{}
		table := defaultTable()
		table[101] = kindEvent
		s := newStream(t0, time.Second, 4, tableOf(&table), tl, &dtmf{})
		var p rtp.Packet
		accepted := uint64(0)
		for len(in) >= 3 {
			at := t0.Add(time.Duration(binary.BigEndian.Uint16(in)) * time.Millisecond)
			n := int(in[2])
			in = in[3:]
			if n > len(in) {
				n = len(in)
			}
			b := in[:n]
			in = in[n:]
			if len(b) < 12 || b[0]>>6 != 2 || p.Unmarshal(b) != nil {
				continue
			}
			accepted++
			s.push(at, &p.Header, p.Payload)
		}
		s.drain()
		c := s.c
		if c.Packets+c.Duplicates+c.Late+c.Bad != accepted {
			t.Fatalf("counters %+v do not add up to %d packets", c, accepted)
		}
		var end int64
		for i, g := range tl.got {
			if i > 0 && g.pos < end {
				t.Fatalf("placement %d at %d overlaps the previous end %d", i, g.pos, end)
			}
			end = g.pos + int64(len(g.payload))
		}
		if len(s.dtmf.digits) > maxDigits {
			t.Fatal("too many digits")
		}
	})
}
