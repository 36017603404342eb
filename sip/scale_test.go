package sip

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// floodCost replays n INVITEs at 2,000/s from one source (each answered
// by code, 0 for none) into a tracker that can hold them all, then closes
// them, and returns the wall time per INVITE.
func floodCost(ids []string, code int) time.Duration {
	n := len(ids)
	tr := NewTracker(TrackerConfig{MaxCalls: 200000}, func(Call) {})
	start := time.Now()
	for i, id := range ids {
		at := t0.Add(time.Duration(i) * 500 * time.Microsecond)
		m := invTo(id, "201")
		tr.Handle(&m, Packet{Time: at, Src: floodSrc, Dst: desk, Transport: "udp"})
		tr.Advance(at)
		if code != 0 {
			r := resp(id, code, "INVITE", 1)
			tr.Handle(&r, Packet{Time: at, Src: desk, Dst: floodSrc, Transport: "udp"})
			tr.Advance(at)
		}
	}
	end := t0.Add(time.Duration(n)*500*time.Microsecond + time.Hour)
	tr.Advance(end)
	tr.Flush(end, "end_of_capture")
	return time.Since(start) / time.Duration(n)
}

// flatRounds is how many times each size is measured, the sizes taking
// turns so that a busy machine (make test runs packages in parallel)
// slows them alike; the best of each is compared.
const flatRounds = 5

// maxGrowth is the growth of the cost per INVITE allowed from the
// smallest to the largest replay: caches and map growth, not the ×24 of
// the quadratic walk (160 µs per INVITE at 10k, 3.9 ms at 80k).
const maxGrowth = 4

// TestFloodCostFlat: the replays of issue 9 §2 (10k/20k/40k/80k
// unanswered INVITEs with max_open 200k took 1.6 s / 6.4 s / 48 s / 311 s;
// 40k INVITE+486 pairs 184 s): the cost per INVITE must not grow with the
// number of open legs.
func TestFloodCostFlat(t *testing.T) {
	tests := []struct {
		name string
		code int
		ns   []int
	}{
		{"unanswered", 0, []int{10000, 20000, 40000, 80000}},
		{"INVITE+486", 486, []int{10000, 40000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := make([]string, tt.ns[len(tt.ns)-1])
			for i := range ids {
				ids[i] = fmt.Sprintf("flood-%d@198.51.100.66", i)
			}
			best := make([]time.Duration, len(tt.ns))
			for range flatRounds {
				for i, n := range tt.ns {
					c := floodCost(ids[:n], tt.code)
					if best[i] == 0 || c < best[i] {
						best[i] = c
					}
				}
			}
			for i, n := range tt.ns {
				t.Logf("%d INVITEs: %v per INVITE, %v in all", n, best[i], best[i]*time.Duration(n))
				if best[i] > maxGrowth*best[0] {
					t.Errorf("%d INVITEs: %v per INVITE, more than %d× the %v at %d", n, best[i], maxGrowth, best[0], tt.ns[0])
				}
			}
		})
	}
}

// BenchmarkTrackerOpenLegs measures the messages of one answered call
// (INVITE, 100, 180, 200, ACK, BYE, 200, each followed by Advance) with 1k,
// 10k and 100k other legs open, never answered, from many sources: the
// cost per message must be flat (issue 9 §2).
func BenchmarkTrackerOpenLegs(b *testing.B) {
	for _, open := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("open=%d", open), func(b *testing.B) {
			tr := NewTracker(TrackerConfig{MaxCalls: open + 10000, SetupTimeout: 24 * time.Hour}, func(Call) {})
			for i := range open {
				src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), 5060)
				m := invTo(fmt.Sprintf("idle-%d", i), "999")
				at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
				tr.Handle(&m, Packet{Time: at, Src: src, Dst: other, Transport: "udp"})
			}
			now := t0.Add(time.Duration(open) * 10 * time.Millisecond)
			ids := make([]string, 0, 1<<16)
			for i := range cap(ids) {
				ids = append(ids, fmt.Sprintf("call-%d@192.0.2.10", i))
			}
			calls := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				id := ids[calls%len(ids)]
				calls++
				steps := [...]struct {
					m        Message
					src, dst netip.AddrPort
				}{
					{invTo(id, "201"), pbx, desk},
					{resp(id, 100, "INVITE", 1), desk, pbx},
					{resp(id, 180, "INVITE", 1), desk, pbx},
					{resp(id, 200, "INVITE", 1), desk, pbx},
					{req(id, "ACK", 1, true), pbx, desk},
					{req(id, "BYE", 2, true), pbx, desk},
					{resp(id, 200, "BYE", 2), desk, pbx},
				}
				for i := range steps {
					now = now.Add(time.Millisecond)
					tr.Handle(&steps[i].m, Packet{Time: now, Src: steps[i].src, Dst: steps[i].dst, Transport: "udp"})
					tr.Advance(now)
				}
				// Past the linger and the tombs' TTL of calls long gone.
				now = now.Add(5 * time.Millisecond)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(calls*7), "ns/message")
		})
	}
}
