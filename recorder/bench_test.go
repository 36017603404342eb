package recorder

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
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
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	// Far faster than real time, the writer may not keep up: the leg is
	// then cut (and the figure is not the recording's cost).
	b.ReportMetric(float64(r.Stats().Cut), "cut")
}

// BenchmarkRecordPacketLegs is BenchmarkRecordPacket with 1,000 legs
// recorded at once, their packets interleaved as on the wire (every leg's
// two directions within each 20 ms): the state a packet needs is then no
// longer in the cache, as in the capacity probe, so the figure counts the
// memory fetches of a packet (issue 12). Speech analysis and the writer
// included; ns/op is per packet. The files go to memory (/dev/shm) where
// there is one: the figure is the recorder's, not the file system's (the
// CI machine's makes files slowly after many were deleted).
func BenchmarkRecordPacketLegs(b *testing.B) {
	const legs = 1000
	dir := b.TempDir()
	if d, err := os.MkdirTemp("/dev/shm", "switchtap-bench-"); err == nil {
		dir = d
		b.Cleanup(func() { _ = os.RemoveAll(d) })
	}
	r, err := New(Config{Dir: filepath.Join(dir, "rec"), WaitForDisk: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	type direction struct {
		d   *capture.Datagram
		buf []byte
	}
	dirs := make([]direction, 0, 2*legs)
	for i := range legs {
		ca, ce := answerLeg(r, i)
		for k, ends := range [2][2]netip.AddrPort{{ca, ce}, {ce, ca}} {
			buf := pkt{ssrc: uint32(2*i + k + 1), fill: byte(i)}.marshal(b)
			dirs = append(dirs, direction{datagram(ends[0], ends[1], t0, buf), buf})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		x := dirs[i%len(dirs)]
		n := uint32(i / len(dirs))
		x.d.Time = t0.Add(time.Duration(n)*20*time.Millisecond + time.Duration(i%len(dirs))*10*time.Microsecond)
		p := x.buf
		p[2], p[3] = byte(n>>8), byte(n)
		ts := n * 160
		p[4], p[5], p[6], p[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		if !r.Packet(x.d) {
			b.Fatal("not matched")
		}
	}
	b.StopTimer()
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(r.Stats().Cut), "cut")
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
	_ = r.Close()
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

// BenchmarkLegMemory reports the heap in use per recording leg (issue 12:
// 54 KB a leg; the goal is 20 KB) with 1,000 answered legs open, each with
// 1 to 2 s of G.711 both ways behind it (so that the legs stand at every
// point between two writes: mixer, streams, pending chunk), and for 1,000
// answered legs that got no audio.
func BenchmarkLegMemory(b *testing.B) {
	const legs = 1000
	for _, audio := range []bool{true, false} {
		name := "audio"
		if !audio {
			name = "silent"
		}
		b.Run(name, func(b *testing.B) {
			for range 1 {
				r, err := New(Config{Dir: filepath.Join(b.TempDir(), "rec")}, nil)
				if err != nil {
					b.Fatal(err)
				}
				payload := make([]byte, 160)
				bufs := make([][]byte, 2)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for i := range legs {
					ca, ce := answerLeg(r, i)
					if !audio {
						continue
					}
					for k := range 50 + i%50 {
						at := t0.Add(time.Duration(k) * 20 * time.Millisecond)
						for dir := range 2 {
							src, dst := ca, ce
							if dir == 1 {
								src, dst = ce, ca
							}
							for j := range payload {
								payload[j] = byte(k + j + dir)
							}
							h := pkt{seq: uint16(k), ts: uint32(k) * 160, ssrc: uint32(dir + 1), raw: payload}
							bufs[dir] = h.marshal(b)
							r.Packet(datagram(src, dst, at, bufs[dir]))
						}
					}
				}
				// What the legs hold, not what they handed off: the
				// writer's queue drained, and two collections, so that the
				// blocks it gave back to the pool are freed (a sync.Pool
				// keeps them over one collection). With one collection
				// after a fixed 50 ms the figure moved by 8 KB a leg with
				// the disk's speed.
				for deadline := time.Now().Add(10 * time.Second); !r.wr.idle() && time.Now().Before(deadline); {
					time.Sleep(5 * time.Millisecond)
				}
				runtime.GC()
				runtime.GC()
				runtime.ReadMemStats(&after)
				inuse := float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / legs
				alloc := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / legs
				_ = r.Close()
				// b.Loop resets the timer, and with it the metrics: they
				// are reported after it.
				for b.Loop() {
				}
				b.ReportMetric(inuse, "B/leg")
				b.ReportMetric(alloc, "alloc-B/leg")
			}
		})
	}
}

// answerLeg answers leg i of many (G.711 with events both ways, each leg
// on ports of its own) and returns its caller's and callee's addresses.
func answerLeg(r *Recorder, i int) (caller, callee netip.AddrPort) {
	id := fmt.Sprintf("leg-%d", i)
	caller = netip.AddrPortFrom(callerAddr.Addr(), uint16(20000+2*i)) //nolint:gosec // G115: i < 1,000.
	callee = netip.AddrPortFrom(calleeAddr.Addr(), uint16(30000+2*i)) //nolint:gosec // G115: i < 1,000.
	r.Media(id, t0, true, false, sdpBody(caller, "RTP/AVP", "0 101", g711Attrs))
	r.Media(id, t0, false, false, sdpBody(callee, "RTP/AVP", "0 101", g711Attrs))
	r.Answered(id, id, t0)
	return caller, callee
}

// BenchmarkWriteAligned writes 1,000 one-minute G.711 files (a header and
// 60 chunks of 16 KiB each) to the real disk, the first chunk short by the
// header (every later write on a chunk boundary, as the recorder writes)
// and full (every write 58 bytes past one): the kernel's zeroing of the
// block a write ends inside shows in ns/op, which is the writes' CPU time
// (buffered writes into the page cache, no sync).
func BenchmarkWriteAligned(b *testing.B) {
	const files, chunks = 1000, 60
	for _, tc := range []struct {
		name  string
		short int
	}{{"aligned", formatULaw.wav().headerBytes()}, {"unaligned", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			var c chunk
			for i := range c.blocks {
				c.blocks[i] = new(block)
			}
			var gather []byte
			b.SetBytes(files * chunks * chunkBytes)
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				b.StartTimer()
				for i := range files {
					w, err := createWAVWith(openPart, filepath.Join(dir, strconv.Itoa(i)), formatULaw, &gather)
					if err != nil {
						b.Fatal(err)
					}
					for k := range chunks {
						c.n = chunkBytes
						if k == 0 {
							c.n -= tc.short
						}
						if err := w.write(&c, false); err != nil {
							b.Fatal(err)
						}
					}
					if err := w.finish(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				_ = os.RemoveAll(dir)
				b.StartTimer()
			}
		})
	}
}
