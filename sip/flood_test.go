package sip

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// floodSrc is the address of the floods in these tests; phone and pbx
// send real calls.
var (
	floodSrc = netip.MustParseAddrPort("198.51.100.66:5060")
	pbx      = netip.MustParseAddrPort("192.0.2.10:5060")
	desk     = netip.MustParseAddrPort("192.0.2.20:5060")
	other    = netip.MustParseAddrPort("192.0.2.30:5060")
)

var reception = []Receptionist{{Name: "ana", Extensions: []string{"201"}, IPs: []netip.Addr{desk.Addr()}}}

// floodRun drives a tracker with messages at microsecond offsets, sent in
// capture-time order, and keeps its records (upserts by ID), aggregates
// and flood events.
type floodRun struct {
	tr     *Tracker
	q      []queued
	calls  map[string]Call
	aggs   []Aggregate
	floods []FloodEvent
}

type queued struct {
	us       int
	m        Message
	src, dst netip.AddrPort
}

func newFloodRun(cfg TrackerConfig) *floodRun {
	r := &floodRun{calls: map[string]Call{}}
	cfg.OnAggregate = func(as []Aggregate) { r.aggs = append(r.aggs, as...) }
	cfg.OnFlood = func(e FloodEvent) { r.floods = append(r.floods, e) }
	r.tr = NewTracker(cfg, func(c Call) { r.calls[c.CallID] = c })
	return r
}

func atUS(us int) time.Time { return t0.Add(time.Duration(us) * time.Microsecond) }

func (r *floodRun) send(us int, m Message, src, dst netip.AddrPort) {
	r.q = append(r.q, queued{us, m, src, dst})
}

// run hands the queued messages to the tracker in time order.
func (r *floodRun) run() {
	slices.SortStableFunc(r.q, func(a, b queued) int { return a.us - b.us })
	for _, e := range r.q {
		r.tr.Handle(&e.m, Packet{Time: atUS(e.us), Src: e.src, Dst: e.dst, Transport: "udp"})
		r.tr.Advance(atUS(e.us))
	}
	r.q = r.q[:0]
}

func (r *floodRun) end(us int) {
	r.run()
	r.tr.Advance(atUS(us))
	r.tr.Flush(atUS(us), "end_of_capture")
}

func (r *floodRun) aggregated() int {
	n := 0
	for _, a := range r.aggs {
		n += a.Legs
	}
	return n
}

func invTo(callID, to string) Message {
	m := inv(callID, 1)
	m.ToUser, m.RequestUser = to, to
	return m
}

// flood sends n INVITEs (and, with code, their final responses) from
// floodSrc to user to at rate per second, starting at us; it returns the
// time after the last.
func (r *floodRun) flood(us, n, rate, code int, to string) int {
	step := 1000000 / rate
	for i := range n {
		id := fmt.Sprintf("flood-%d-%d@198.51.100.66", us, i)
		r.send(us, invTo(id, to), floodSrc, desk)
		if code != 0 {
			r.send(us, resp(id, code, "INVITE", 1), desk, floodSrc)
		}
		us += step
	}
	return us
}

// realCall places an answered call from src to user to at us.
func (r *floodRun) realCall(us int, id, to string, src, dst netip.AddrPort) {
	r.send(us, invTo(id, to), src, dst)
	r.send(us+20000, resp(id, 100, "INVITE", 1), dst, src)
	r.send(us+100000, resp(id, 180, "INVITE", 1), dst, src)
	r.send(us+2000000, resp(id, 200, "INVITE", 1), dst, src)
	r.send(us+2010000, req(id, "ACK", 1, true), src, dst)
}

// TestAggregateQualifies: which legs become aggregates and which stay
// records (issue 9 §2). A leg that never rang from a flood or, with
// receptionists configured, between parties nobody watches that failed on
// its own, is counted; a leg that rang, was answered, was placed by or
// offered to a receptionist at a normal rate, or was given up by its
// caller, is a record.
func TestAggregateQualifies(t *testing.T) {
	tests := []struct {
		name   string
		recept []Receptionist
		src    netip.AddrPort
		to     string
		resps  []int
		cancel bool
		record bool
		reason string
	}{
		{"unanswered to nobody watched", reception, pbx, "999", nil, false, false, EndDetailTimeout},
		{"100 Trying then 503", reception, pbx, "999", []int{100, 503}, false, false, "503"},
		{"486 to nobody watched", reception, pbx, "999", []int{486}, false, false, "486"},
		{"486 after 180 is a record", reception, pbx, "999", []int{100, 180, 486}, false, true, ""},
		{"183 then 480 is a record", reception, pbx, "999", []int{183, 480}, false, true, ""},
		{"answered without 18x is a record", reception, pbx, "999", []int{200}, false, true, ""},
		{"inbound to a receptionist, normal rate", reception, pbx, "201", []int{100, 486}, false, true, ""},
		{"inbound to a receptionist, unanswered", reception, pbx, "201", nil, false, true, ""},
		{"placed by a receptionist", reception, desk, "999", []int{503}, false, true, ""},
		{"caller gave up before 18x", reception, pbx, "999", []int{100}, true, true, ""},
		{"no receptionists configured: 486 is a record", nil, pbx, "999", []int{486}, false, true, ""},
		{"no receptionists configured: timeout is a record", nil, pbx, "999", nil, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFloodRun(TrackerConfig{Receptionists: tt.recept, SetupTimeout: 10 * time.Second})
			const id = "c1@192.0.2.10"
			dst := other
			if tt.to == "201" {
				dst = desk
			}
			r.send(0, invTo(id, tt.to), tt.src, dst)
			for i, code := range tt.resps {
				r.send(1000*(i+1), resp(id, code, "INVITE", 1), dst, tt.src)
			}
			if tt.cancel {
				r.send(9000, req(id, "CANCEL", 1, true), tt.src, dst)
			}
			r.end(60_000_000)
			_, isRecord := r.calls[id]
			if isRecord != tt.record {
				t.Fatalf("record %v, want %v (aggregates %+v)", isRecord, tt.record, r.aggs)
			}
			if tt.record {
				if r.aggregated() != 0 {
					t.Fatalf("also aggregated: %+v", r.aggs)
				}
				return
			}
			if len(r.aggs) != 1 || r.aggs[0].Legs != 1 || r.aggs[0].Reason != tt.reason || r.aggs[0].Source != tt.src.Addr().String() {
				t.Fatalf("aggregates %+v, want 1 leg from %s for %q", r.aggs, tt.src.Addr(), tt.reason)
			}
			if st := r.tr.Stats(); st.Aggregated != 1 || st.LegsEmitted != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestFloodToReceptionist: a flood of INVITE+486 at a receptionist's
// extension is counted, flagged as a flood, and its source named, while a
// 486 to her from a normal source, and her answered calls, stay records.
func TestFloodToReceptionist(t *testing.T) {
	r := newFloodRun(TrackerConfig{Receptionists: reception})
	us := r.flood(0, 4000, 1000, 486, "201")
	r.send(us, invTo("real-busy@192.0.2.10", "201"), pbx, desk)
	r.send(us+1000, resp("real-busy@192.0.2.10", 486, "INVITE", 1), desk, pbx)
	r.realCall(us+2000, "real-ok@192.0.2.10", "201", pbx, desk)
	r.end(us + 120_000_000)
	if len(r.calls) != 2 {
		t.Fatalf("%d records, want the 2 real calls", len(r.calls))
	}
	if c := r.calls["real-busy@192.0.2.10"]; c.EndReason != EndBusy || c.Direction != DirectionInbound {
		t.Fatalf("real busy call %+v", c)
	}
	if r.aggregated() != 4000 {
		t.Fatalf("%d legs aggregated, want 4000: %+v", r.aggregated(), r.aggs)
	}
	for _, a := range r.aggs {
		if !a.Flood || a.Source != floodSrc.Addr().String() || a.Reason != "486" {
			t.Fatalf("aggregate %+v", a)
		}
	}
	if len(r.floods) != 2 || r.floods[0].Source != floodSrc.Addr() || r.floods[0].Ended || !r.floods[1].Ended {
		t.Fatalf("flood events %+v", r.floods)
	}
	if r.floods[1].Invites != 4000 {
		t.Fatalf("flood counted %d INVITEs, want 4000", r.floods[1].Invites)
	}
}

// TestFloodThenRealCalls is the first flood (issue 9 §2): 20,000
// unanswered INVITEs at 2,000/s fill calls.max_open; every real call
// placed during and right after it must be recorded, the flood's legs
// evicted and counted, not stored.
func TestFloodThenRealCalls(t *testing.T) {
	tests := []struct {
		name   string
		recept []Receptionist
	}{
		{"receptionists configured", reception},
		{"no receptionists", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFloodRun(TrackerConfig{Receptionists: tt.recept, MaxCalls: 20000})
			// Real calls every 50 ms during the flood and for 10 s after it.
			const real = 400
			next := 0
			us := 0
			for i := range 20000 {
				for next < real && next*50000 <= us {
					r.realCall(next*50000, fmt.Sprintf("real-%d@192.0.2.10", next), "201", pbx, desk)
					next++
				}
				r.send(us, invTo(fmt.Sprintf("flood-%d@198.51.100.66", i), "201"), floodSrc, desk)
				us += 500
			}
			for ; next < real; next++ {
				r.realCall(next*50000, fmt.Sprintf("real-%d@192.0.2.10", next), "201", pbx, desk)
			}
			r.end(us + 600_000_000)
			for i := range real {
				c, ok := r.calls[fmt.Sprintf("real-%d@192.0.2.10", i)]
				if !ok || c.AnsweredAt == nil {
					t.Fatalf("real call %d lost (%d of %d recorded)", i, len(r.calls), real)
				}
			}
			if len(r.calls) != real {
				t.Fatalf("%d records, want %d real calls", len(r.calls), real)
			}
			st := r.tr.Stats()
			if st.DroppedFull != 0 || r.aggregated() != 20000 || st.Floods != 1 {
				t.Fatalf("dropped %d aggregated %d floods %d", st.DroppedFull, r.aggregated(), st.Floods)
			}
		})
	}
}

// TestEvictionNeverTakesRungLegs: when every open leg rang, a new INVITE
// is dropped and counted; a flood never evicts another source's legs that
// never rang either.
func TestEvictionNeverTakesRungLegs(t *testing.T) {
	r := newFloodRun(TrackerConfig{MaxCalls: 10})
	for i := range 10 {
		id := fmt.Sprintf("ringing-%d", i)
		r.send(i*1000, invTo(id, "999"), pbx, other)
		r.send(i*1000+10, resp(id, 180, "INVITE", 1), other, pbx)
	}
	r.send(20000, invTo("late", "999"), pbx, other)
	r.run()
	if st := r.tr.Stats(); st.DroppedFull != 1 || st.Evicted != 0 || st.Open != 10 {
		t.Fatalf("full of ringing legs: %+v", st)
	}

	// The flood is told apart after ~FloodRate INVITEs, long before the
	// table fills (20,000 by default): from then on only its legs go.
	r = newFloodRun(TrackerConfig{MaxCalls: 200})
	for i := range 5 {
		r.send(i, invTo(fmt.Sprintf("slow-%d", i), "999"), pbx, other)
	}
	r.flood(1000, 1000, 10000, 0, "999")
	r.run()
	st := r.tr.Stats()
	if st.Open != 200 || st.FloodSources != 1 || st.Evicted != 805 {
		t.Fatalf("stats %+v", st)
	}
	for i := range 5 {
		if r.tr.legs[fmt.Sprintf("slow-%d", i)] == nil {
			t.Fatalf("leg slow-%d of a normal source evicted by a flood", i)
		}
	}
}

// TestTombsBounded: the Call-IDs of closed legs are remembered for their
// retransmissions, at most MaxTombs of them, and forgotten after
// tombstoneTTL.
func TestTombsBounded(t *testing.T) {
	r := newFloodRun(TrackerConfig{MaxTombs: 100})
	for i := range 1000 {
		id := fmt.Sprintf("c%d", i)
		r.send(i*1000, invTo(id, "999"), pbx, other)
		r.send(i*1000+1, resp(id, 486, "INVITE", 1), other, pbx)
	}
	r.run()
	r.tr.Advance(atUS(1000*1000 + 10_000_000))
	if n := r.tr.Stats().Tombs; n != 100 {
		t.Fatalf("%d tombs, want the bound 100", n)
	}
	// A retransmitted INVITE of a remembered leg opens nothing.
	r.send(1000*1000+10_000_000, invTo("c999", "999"), pbx, other)
	r.run()
	if st := r.tr.Stats(); st.Open != 0 || st.Late != 1 {
		t.Fatalf("stats %+v", st)
	}
	r.tr.Advance(atUS(1000*1000 + 60_000_000))
	if n := r.tr.Stats().Tombs; n != 0 {
		t.Fatalf("%d tombs after their TTL", n)
	}
}

// TestSourcesAccounting: per-source counts of INVITEs, open legs and
// their fate, most active first.
func TestSourcesAccounting(t *testing.T) {
	r := newFloodRun(TrackerConfig{MaxCalls: 1000, Receptionists: reception})
	r.realCall(0, "real@192.0.2.10", "201", pbx, desk)
	us := r.flood(10, 5000, 1000, 0, "999")
	r.run()
	ss := r.tr.Sources(10, atUS(us))
	if len(ss) != 2 || ss[0].Addr != floodSrc.Addr() || !ss[0].Flooding || ss[0].Invites != 5000 ||
		ss[0].Open != 999 || ss[0].Evicted != 4001 || ss[0].Aggregated != 4001 || ss[0].Unrung != 999 {
		t.Fatalf("sources %+v", ss)
	}
	if ss[1].Addr != pbx.Addr() || ss[1].Flooding || ss[1].Invites != 1 || ss[1].Open != 1 || ss[1].Unrung != 0 {
		t.Fatalf("sources %+v", ss)
	}
}

// TestFloodLeavesLadderRoom: a flood's INVITEs that fill the ladders'
// memory budget give way to a real call's messages, which are all kept.
func TestFloodLeavesLadderRoom(t *testing.T) {
	var got *Call
	tr := NewTracker(TrackerConfig{MaxMessageBytes: 1 << 20}, func(c Call) {
		if c.CallID == "real" {
			got = &c
		}
	})
	raw := make([]byte, 1400) // an INVITE with SDP
	send := func(us int, m Message, src, dst netip.AddrPort) {
		tr.Handle(&m, Packet{Time: atUS(us), Src: src, Dst: dst, Transport: "udp", Raw: raw})
		tr.Advance(atUS(us))
	}
	us := 0
	for i := range 2000 {
		send(us, invTo(fmt.Sprintf("flood-%d", i), "999"), floodSrc, desk)
		us += 500
	}
	if st := tr.Stats(); st.MessagesDropped == 0 {
		t.Fatalf("the flood did not fill the budget: %+v", st)
	}
	send(us, invTo("real", "201"), pbx, desk)
	send(us+10, resp("real", 180, "INVITE", 1), desk, pbx)
	send(us+20, resp("real", 200, "INVITE", 1), desk, pbx)
	send(us+30, req("real", "ACK", 1, true), pbx, desk)
	send(us+40, req("real", "BYE", 2, true), pbx, desk)
	send(us+50, resp("real", 200, "BYE", 2), desk, pbx)
	tr.Flush(atUS(us+60_000_000), "end_of_capture")
	if got == nil || got.MessagesDropped != 0 || len(got.Messages) != 6 {
		t.Fatalf("real call record %+v", got)
	}
	for _, lm := range got.Messages {
		if lm.Truncated {
			t.Fatalf("message cut: %+v", lm)
		}
	}
}

// TestSourceKeptAcrossEviction: a source whose last leg is evicted (or
// closed by a new attempt on its Call-ID) to make room for its own new
// INVITE keeps one accounting entry, and it is forgotten once it has no
// open leg.
func TestSourceKeptAcrossEviction(t *testing.T) {
	r := newFloodRun(TrackerConfig{MaxCalls: 1})
	r.send(0, invTo("a", "999"), pbx, other)
	r.send(1000, invTo("b", "999"), pbx, other) // evicts a
	r.send(2000, resp("b", 503, "INVITE", 1), other, pbx)
	retry := invTo("b", "999")
	retry.CSeq, retry.Branch = 2, "b2"
	r.send(3000, retry, pbx, other) // a new attempt: b's first leg is over
	r.run()
	ss := r.tr.Sources(10, atUS(3000))
	if len(ss) != 1 || ss[0].Open != 1 || ss[0].Invites != 3 || ss[0].Evicted != 1 {
		t.Fatalf("sources %+v", ss)
	}
	r.end(10_000_000)
	if st := r.tr.Stats(); st.Sources != 0 || st.Open != 0 || st.Unrung != 0 {
		t.Fatalf("after flush %+v", st)
	}
}
