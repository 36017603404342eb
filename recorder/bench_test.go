package recorder

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// BenchmarkRecordPacket measures one matched RTP packet through the whole
// recorder: lookup, parse, stream, mixer and file writes.
func BenchmarkRecordPacket(b *testing.B) {
	r, err := New(Config{Dir: filepath.Join(b.TempDir(), "rec")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	pk := pkt{ssrc: 1, fill: 3}
	buf := pk.marshal(b)
	d := datagram(callerAddr, calleeAddr, t0, buf)
	back := datagram(calleeAddr, callerAddr, t0, append([]byte(nil), buf...))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// Both directions, 20 ms apart, as a live call.
		dd := d
		if i&1 == 1 {
			dd = back
		}
		n := uint32(i / 2)
		dd.Time = t0.Add(time.Duration(n) * 20 * time.Millisecond)
		p := dd.Payload
		p[2], p[3] = byte(n>>8), byte(n)
		ts := n * 160
		p[4], p[5], p[6], p[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		if !r.Packet(dd) {
			b.Fatal("not matched")
		}
	}
	b.StopTimer()
	r.End(callID, t0.Add(time.Duration(b.N/2)*20*time.Millisecond))
}

// BenchmarkUnmatchedPacket measures the fast path for datagrams of no call.
func BenchmarkUnmatchedPacket(b *testing.B) {
	r, err := New(Config{Dir: filepath.Join(b.TempDir(), "rec")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	d := datagram(callerAddr, netip.MustParseAddrPort("192.0.2.50:9999"), t0, pkt{fill: 1}.marshal(b))
	b.ReportAllocs()
	for b.Loop() {
		r.Packet(d)
	}
}

// BenchmarkStreamMemory reports the heap bytes of one open leg with both
// directions streaming (mixer buffers, reorder windows, file buffers).
func BenchmarkStreamMemory(b *testing.B) {
	const legs = 50
	// One measurement, whatever b.N: the figure is the metric, not the time.
	for range 1 {
		r, err := New(Config{Dir: filepath.Join(b.TempDir(), "rec")}, nil)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range legs {
			id := fmt.Sprintf("leg-%d", i)
			ca := netip.AddrPortFrom(callerAddr.Addr(), uint16(20000+2*i))
			ce := netip.AddrPortFrom(calleeAddr.Addr(), uint16(30000+2*i))
			r.Media(id, t0, true, false, sdpBody(ca, "RTP/AVP", "0", ""))
			r.Media(id, t0, false, false, sdpBody(ce, "RTP/AVP", "0", ""))
			r.Answered(id, id, t0)
			// Reorder: the windows hold packets and own their buffers.
			for _, seq := range []uint16{1, 3, 2, 4} {
				r.Packet(datagram(ca, ce, t0, pkt{seq: seq, ts: uint32(seq) * 160, fill: 1}.marshal(b)))
				r.Packet(datagram(ce, ca, t0, pkt{seq: seq, ts: uint32(seq) * 160, fill: 1}.marshal(b)))
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/legs, "B/leg")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/legs/2, "B/stream")
		_ = r.Close()
	}
	for range b.N {
	}
}
