package sip

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

// legMsg is one captured message of an answered call's setup.
type legMsg struct {
	raw      []byte
	src, dst netip.AddrPort
}

// answeredSetups builds the setup of n answered calls as a phone and a PBX
// send them (pcapgen's dialogs: INVITE with SDP, 100, 180, 200 with SDP,
// ACK); the INVITE and the 200 are padded to at least pad bytes (0:
// pcapgen's own sizes; real PBXs send INVITEs of 1–1.5 KB).
func answeredSetups(n, pad int) [][]legMsg {
	var opts []pcapgen.MsgOption
	if pad > 0 {
		opts = append(opts, pcapgen.WithMinSize(pad))
	}
	out := make([][]legMsg, n)
	for i := range out {
		caller := pcapgen.Party{
			User: fmt.Sprintf("7%07d", i), Name: "Front Desk",
			Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i%200)}), 5060),
		}
		callee := pcapgen.Party{
			User: fmt.Sprintf("1%03d", i%1000),
			Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i%100)}), 5060),
		}
		d := &pcapgen.Dialog{
			CallID: fmt.Sprintf("%016x-load-%d@pcapgen.example", uint64(i)*0x9e3779b97f4a7c15, i),
			Caller: caller, Callee: callee,
			FromTag: fmt.Sprintf("%08x", i*7919), ToTag: fmt.Sprintf("%08x", i*104729),
		}
		inv := d.Invite(opts...)
		out[i] = []legMsg{
			{inv.Bytes, caller.Addr, callee.Addr},
			{d.Response(100, "Trying", inv), callee.Addr, caller.Addr},
			{d.Response(180, "Ringing", inv), callee.Addr, caller.Addr},
			{d.Response(200, "OK", inv, opts...), callee.Addr, caller.Addr},
			{d.Ack(inv, 200), caller.Addr, callee.Addr},
		}
	}
	return out
}

// heapAfterGC returns the heap in use (spans holding objects) and the
// bytes of live objects after a full collection.
func heapAfterGC() (inuse, live uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.HeapAlloc
}

// openLegs parses and applies the setups to a new tracker, as the
// pipeline does (each packet's bytes in a buffer of their own, reused for
// the next packet as a capture ring would), and returns it with every
// leg answered and open.
func openLegs(p *Parser, setups [][]legMsg, start time.Time) (*Tracker, error) {
	tr := NewTracker(TrackerConfig{MaxCalls: len(setups) + 1}, func(Call) {})
	buf := make([]byte, 0, 1600)
	now := start
	for step := range setups[0] {
		for i := range setups {
			mm := setups[i][step]
			now = now.Add(100 * time.Microsecond)
			buf = append(buf[:0], mm.raw...)
			m, err := p.Parse(buf)
			if err != nil {
				return nil, fmt.Errorf("leg %d message %d: %w", i, step, err)
			}
			tr.Handle(m, Packet{Time: now, Src: mm.src, Dst: mm.dst, Transport: "udp", Raw: buf})
			tr.Advance(now)
		}
	}
	return tr, nil
}

// BenchmarkTrackerLegMemory opens 1,000 answered legs (the setup of
// answeredSetups, parsed and applied message by message) and reports what
// the tracker holds per open leg: the heap in use after GC, delta over the
// tracker's life, divided by the legs (heap-B/leg; it counts the free
// slots of spans the leg's objects share with the parser's garbage), the
// same for the live objects alone (live-B/leg), and the ladder bytes it
// charges against MaxMessageBytes (charged-B/leg). ns/op and B/op cover
// the 5,000 messages; ns/msg is per message.
func BenchmarkTrackerLegMemory(b *testing.B) {
	const n = 1000
	for _, pad := range []int{0, 1200} {
		b.Run(fmt.Sprintf("pad=%d", pad), func(b *testing.B) {
			setups := answeredSetups(n, pad)
			p := NewParser()
			var perLeg, live, charged float64
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				before, beforeLive := heapAfterGC()
				b.StartTimer()
				tr, err := openLegs(p, setups, t0)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				after, afterLive := heapAfterGC()
				if st := tr.Stats(); st.Open != n || st.MessagesDropped != 0 {
					b.Fatalf("open %d dropped %d, want %d and 0", st.Open, st.MessagesDropped, n)
				}
				perLeg = (float64(after) - float64(before)) / n
				live = (float64(afterLive) - float64(beforeLive)) / n
				charged = float64(tr.Stats().MessageBytes) / n
				runtime.KeepAlive(tr)
				b.StartTimer()
			}
			b.ReportMetric(perLeg, "heap-B/leg")
			b.ReportMetric(live, "live-B/leg")
			b.ReportMetric(charged, "charged-B/leg")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*len(setups[0])), "ns/msg")
		})
	}
}
