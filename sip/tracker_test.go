package sip

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 14, 0, 0, 123456789, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func pkt(ms int) Packet {
	return Packet{
		Time: at(ms), Transport: "udp",
		Src: netip.MustParseAddrPort("192.0.2.10:5060"), Dst: netip.MustParseAddrPort("192.0.2.20:5060"),
	}
}

type step struct {
	ms int
	m  Message
}

func inv(callID string, cseq uint32) Message {
	return Message{IsRequest: true, Method: "INVITE", CallID: callID, CSeq: cseq, FromUser: "5551234", ToUser: "201", RequestUser: "201", FromTag: "ft", Branch: fmt.Sprintf("b%d", cseq)}
}

func resp(callID string, code int, method string, cseq uint32) Message {
	return Message{StatusCode: code, Method: method, CallID: callID, CSeq: cseq, FromTag: "ft", ToTag: "tt", Branch: fmt.Sprintf("b%d", cseq)}
}

func req(callID, method string, cseq uint32, fromCaller bool) Message {
	m := Message{IsRequest: true, Method: method, CallID: callID, CSeq: cseq, FromTag: "ft", ToTag: "tt", Branch: method + fmt.Sprint(cseq)}
	if !fromCaller {
		m.FromTag, m.ToTag = "tt", "ft"
	}
	return m
}

func runSteps(t *testing.T, cfg TrackerConfig, steps []step, end int) []Call {
	t.Helper()
	var out []Call
	// Records are upserts by ID: keep the latest version of each.
	tr := NewTracker(cfg, func(c Call) {
		for i := range out {
			if out[i].ID == c.ID {
				out[i] = c
				return
			}
		}
		out = append(out, c)
	})
	for _, s := range steps {
		m := s.m
		tr.Handle(&m, pkt(s.ms))
		tr.Advance(at(s.ms))
	}
	tr.Advance(at(end))
	tr.Flush(at(end), "end_of_capture")
	return out
}

func tp(ms int) *time.Time { v := at(ms); return &v }

func eqTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func TestTrackerStates(t *testing.T) {
	const id = "c1@192.0.2.10"
	tests := []struct {
		name     string
		steps    []step
		reason   EndReason
		ringing  *time.Time
		answered *time.Time
		ended    *time.Time
		by       string
		rings    int
		within   bool
	}{
		{
			name: "answered on ring 4, caller hangs up",
			steps: []step{{0, inv(id, 1)}, {10, resp(id, 100, "INVITE", 1)}, {50, resp(id, 180, "INVITE", 1)},
				{50 + 23999, resp(id, 200, "INVITE", 1)}, {60000, req(id, "BYE", 2, true)}},
			reason: EndCompleted, ringing: tp(50), answered: tp(50 + 23999), ended: tp(60000), by: "caller", rings: 4, within: true,
		},
		{
			name: "answered as ring 5 starts",
			steps: []step{{0, inv(id, 1)}, {50, resp(id, 180, "INVITE", 1)},
				{50 + 24000, resp(id, 200, "INVITE", 1)}, {60000, req(id, "BYE", 2, false)}},
			reason: EndCompleted, ringing: tp(50), answered: tp(24050), ended: tp(60000), by: "callee", rings: 5, within: false,
		},
		{
			name: "183 stands in until the 180",
			steps: []step{{0, inv(id, 1)}, {20, resp(id, 183, "INVITE", 1)}, {900, resp(id, 180, "INVITE", 1)},
				{5000, resp(id, 200, "INVITE", 1)}, {8000, req(id, "BYE", 2, true)}},
			reason: EndCompleted, ringing: tp(900), answered: tp(5000), ended: tp(8000), by: "caller", rings: 1, within: true,
		},
		{
			name:   "abandoned by CANCEL, 487 after",
			steps:  []step{{0, inv(id, 1)}, {50, resp(id, 180, "INVITE", 1)}, {30000, req(id, "CANCEL", 1, true)}, {30010, resp(id, 487, "INVITE", 1)}},
			reason: EndAbandoned, ringing: tp(50), ended: tp(30000), by: "caller", rings: 5,
		},
		{
			name:   "200 crossing a CANCEL wins",
			steps:  []step{{0, inv(id, 1)}, {50, resp(id, 180, "INVITE", 1)}, {3000, req(id, "CANCEL", 1, true)}, {3001, resp(id, 200, "INVITE", 1)}, {4000, req(id, "BYE", 2, true)}},
			reason: EndCompleted, ringing: tp(50), answered: tp(3001), ended: tp(4000), by: "caller", rings: 1, within: true,
		},
		{
			name:   "busy without ringing",
			steps:  []step{{0, inv(id, 1)}, {40, resp(id, 486, "INVITE", 1)}},
			reason: EndBusy, ended: tp(40), rings: 0,
		},
		{
			name:   "declined after ringing",
			steps:  []step{{0, inv(id, 1)}, {40, resp(id, 180, "INVITE", 1)}, {7000, resp(id, 603, "INVITE", 1)}},
			reason: EndRejected, ringing: tp(40), ended: tp(7000), rings: 2,
		},
		{
			name:   "server error",
			steps:  []step{{0, inv(id, 1)}, {40, resp(id, 503, "INVITE", 1)}},
			reason: EndFailed, ended: tp(40),
		},
		{
			name: "auth challenge then answered",
			steps: []step{{0, inv(id, 1)}, {5, resp(id, 407, "INVITE", 1)}, {40000, inv(id, 2)},
				{40100, resp(id, 180, "INVITE", 2)}, {45000, resp(id, 200, "INVITE", 2)}, {50000, req(id, "BYE", 3, true)}},
			reason: EndCompleted, ringing: tp(40100), answered: tp(45000), ended: tp(50000), by: "caller", rings: 1, within: true,
		},
		{
			name:   "re-INVITE is not a new call and its 200 is not the answer",
			steps:  []step{{0, inv(id, 1)}, {50, resp(id, 180, "INVITE", 1)}, {2000, resp(id, 200, "INVITE", 1)}, {9000, req(id, "INVITE", 2, false)}, {9010, resp(id, 200, "INVITE", 2)}, {12000, req(id, "BYE", 3, true)}},
			reason: EndCompleted, ringing: tp(50), answered: tp(2000), ended: tp(12000), by: "caller", rings: 1, within: true,
		},
		{
			name:   "retransmitted 180 and 200 keep the first copy's time",
			steps:  []step{{0, inv(id, 1)}, {500, inv(id, 1)}, {50, resp(id, 180, "INVITE", 1)}, {550, resp(id, 180, "INVITE", 1)}, {3000, resp(id, 200, "INVITE", 1)}, {3500, resp(id, 200, "INVITE", 1)}, {5000, req(id, "BYE", 2, true)}},
			reason: EndCompleted, ringing: tp(50), answered: tp(3000), ended: tp(5000), by: "caller", rings: 1, within: true,
		},
		{
			name:   "never ends: flushed as unknown",
			steps:  []step{{0, inv(id, 1)}, {50, resp(id, 180, "INVITE", 1)}, {2000, resp(id, 200, "INVITE", 1)}},
			reason: EndUnknown, ringing: tp(50), answered: tp(2000), rings: 1, within: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := runSteps(t, TrackerConfig{}, tc.steps, 70000)
			if len(calls) != 1 {
				t.Fatalf("want 1 call, got %d: %+v", len(calls), calls)
			}
			c := calls[0]
			if c.EndReason != tc.reason || c.HangupBy != tc.by {
				t.Errorf("end %s by %q, want %s by %q", c.EndReason, c.HangupBy, tc.reason, tc.by)
			}
			if !c.InviteAt.Equal(at(0)) {
				t.Errorf("invite_at %s", c.InviteAt)
			}
			if !eqTime(c.RingingAt, tc.ringing) || !eqTime(c.AnsweredAt, tc.answered) || !eqTime(c.EndedAt, tc.ended) {
				t.Errorf("times ringing %v answered %v ended %v; want %v %v %v", c.RingingAt, c.AnsweredAt, c.EndedAt, tc.ringing, tc.answered, tc.ended)
			}
			if c.Rings != tc.rings || c.WithinLimit != tc.within {
				t.Errorf("rings %d within %v, want %d %v (ring_seconds %v)", c.Rings, c.WithinLimit, tc.rings, tc.within, c.RingSeconds)
			}
		})
	}
}

func TestTrackerTimeouts(t *testing.T) {
	cfg := TrackerConfig{SetupTimeout: time.Minute, IdleTimeout: 10 * time.Minute}
	var out []Call
	tr := NewTracker(cfg, func(c Call) { out = append(out, c) })
	ringing, answered := inv("r", 1), inv("a", 1)
	tr.Handle(&ringing, pkt(0))
	tr.Handle(&answered, pkt(0))
	ok := resp("a", 200, "INVITE", 1)
	tr.Handle(&ok, pkt(1000))
	tr.Advance(at(59999))
	if len(out) != 0 {
		t.Fatalf("closed too early: %+v", out)
	}
	tr.Advance(at(60000))
	if len(out) != 1 || out[0].CallID != "r" || out[0].EndDetail != "timeout" || out[0].EndReason != EndUnknown {
		t.Fatalf("setup timeout: %+v", out)
	}
	tr.Advance(at(1000 + 600000))
	if len(out) != 2 || out[1].CallID != "a" || out[1].EndDetail != "timeout" {
		t.Fatalf("idle timeout: %+v", out)
	}
	if st := tr.Stats(); st.Open != 0 || st.TimedOut != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTrackerFloodBounded: INVITEs that never complete cannot grow the
// tracker beyond MaxCalls legs; the excess is counted, as legs evicted (a
// flood's oldest unrung legs make room) or INVITEs dropped.
func TestTrackerFloodBounded(t *testing.T) {
	tr := NewTracker(TrackerConfig{MaxCalls: 1000}, func(Call) {})
	for i := range 50000 {
		m := inv(fmt.Sprintf("flood-%d", i), 1)
		tr.Handle(&m, pkt(i))
		tr.Advance(at(i))
	}
	st := tr.Stats()
	if st.Open > 1000 {
		t.Fatalf("%d legs open, limit 1000", st.Open)
	}
	if got := st.DroppedFull + st.Evicted; got != 50000-1000 {
		t.Fatalf("dropped %d + evicted %d = %d, want %d", st.DroppedFull, st.Evicted, got, 50000-1000)
	}
}

func TestTrackerDirection(t *testing.T) {
	cfg := TrackerConfig{Receptionists: []Receptionist{
		{Name: "Ana", Extensions: []string{"201"}},
		{Name: "Beto", IPs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}},
	}}
	tests := []struct {
		from, to string
		src      string
		dir      Direction
		op       string
	}{
		{"5551234", "201", "198.51.100.1", DirectionInbound, "Ana"},
		{"201", "5551234", "198.51.100.1", DirectionOutbound, "Ana"},
		{"300", "201", "192.0.2.10", DirectionInternal, "Ana"},
		{"5551234", "999", "198.51.100.1", DirectionUnknown, ""},
		{"300", "5551234", "192.0.2.10", DirectionOutbound, "Beto"},
	}
	for _, tc := range tests {
		var out []Call
		tr := NewTracker(cfg, func(c Call) { out = append(out, c) })
		m := inv("d", 1)
		m.FromUser, m.ToUser, m.RequestUser = tc.from, tc.to, tc.to
		p := pkt(0)
		p.Src = netip.AddrPortFrom(netip.MustParseAddr(tc.src), 5060)
		p.Dst = netip.MustParseAddrPort("198.51.100.99:5060")
		tr.Handle(&m, p)
		tr.Flush(at(1), "x")
		if out[0].Direction != tc.dir || out[0].Operator != tc.op {
			t.Errorf("%s→%s from %s: %s %q, want %s %q", tc.from, tc.to, tc.src, out[0].Direction, out[0].Operator, tc.dir, tc.op)
		}
	}
}

// TestTrackerEmitsAtEnd: a finished leg is emitted the moment it ends (so
// the daemon stores it at once), and again when it is closed only if a
// later message changed it or lengthened its ladder (the 200 to the BYE),
// so the store keeps the whole ladder.
func TestTrackerEmitsAtEnd(t *testing.T) {
	var out []Call
	tr := NewTracker(TrackerConfig{}, func(c Call) { out = append(out, c) })
	for _, s := range []step{{0, inv("e", 1)}, {50, resp("e", 180, "INVITE", 1)}, {2000, resp("e", 200, "INVITE", 1)}, {9000, req("e", "BYE", 2, true)}} {
		m := s.m
		tr.Handle(&m, pkt(s.ms))
	}
	if len(out) != 1 || out[0].EndReason != EndCompleted {
		t.Fatalf("not emitted at the BYE: %+v", out)
	}
	tr.Advance(at(20000))
	if len(out) != 1 {
		t.Fatalf("re-emitted an unchanged record: %d emits", len(out))
	}
	out = nil
	for _, s := range []step{{0, inv("f", 1)}, {50, resp("f", 180, "INVITE", 1)}, {2000, resp("f", 200, "INVITE", 1)}, {9000, req("f", "BYE", 2, true)}} {
		m := s.m
		tr.Handle(&m, pkt(s.ms))
	}
	ok := resp("f", 200, "BYE", 2)
	tr.Handle(&ok, pkt(9010))
	tr.Advance(at(40000))
	if len(out) != 2 || len(out[1].Messages) != len(out[0].Messages)+1 {
		t.Fatalf("the 200 to the BYE did not reach a second emit: %d emits", len(out))
	}
	first, last := out[0], out[1]
	first.Messages, last.Messages = nil, nil
	if !reflect.DeepEqual(first, last) {
		t.Fatalf("the second emit changed the record:\n%+v\n%+v", first, last)
	}

	out = nil
	steps := []step{{0, inv("x", 1)}, {50, resp("x", 180, "INVITE", 1)}, {2000, resp("x", 200, "INVITE", 1)},
		{5000, Message{IsRequest: true, Method: "REFER", CallID: "x", CSeq: 2, FromTag: "tt", ToTag: "ft", ReferToUser: "2002", Branch: "r"}},
		{5010, resp("x", 202, "REFER", 2)}, {5100, req("x", "BYE", 3, false)}}
	for _, s := range steps {
		m := s.m
		tr.Handle(&m, pkt(s.ms))
	}
	if len(out) != 1 || out[0].Transfer == nil || out[0].Transfer.CompletedAt != nil {
		t.Fatalf("want one early record with a pending transfer: %+v", out)
	}
	notify := Message{IsRequest: true, Method: "NOTIFY", CallID: "x", CSeq: 4, FromTag: "ft", ToTag: "tt", Event: "refer", SipfragStatus: 200, Branch: "n"}
	tr.Handle(&notify, pkt(5200))
	tr.Advance(at(60000))
	if len(out) != 2 || out[1].ID != out[0].ID || out[1].Transfer.Result != "200" || !out[1].Transfer.CompletedAt.Equal(at(5200)) {
		t.Fatalf("want the record re-emitted with the transfer result: %+v", out)
	}
	if out[0].Transfer.Result != "" {
		t.Fatal("the early record was modified after it was emitted")
	}
}

func TestTrackerOnClosedOncePerLeg(t *testing.T) {
	closed := map[string]int{}
	cfg := TrackerConfig{OnClosed: func(c Call) { closed[c.CallID]++ }}
	steps := []step{{0, inv("a", 1)}, {10, resp("a", 486, "INVITE", 1)}, {20, inv("b", 1)}, {30, resp("b", 200, "INVITE", 1)}, {40, req("b", "BYE", 2, true)}, {50, inv("c", 1)}}
	runSteps(t, cfg, steps, 100000)
	if closed["a"] != 1 || closed["b"] != 1 || closed["c"] != 1 || len(closed) != 3 {
		t.Fatalf("closed %v", closed)
	}
}

func TestTrackerTransferLinks(t *testing.T) {
	refer := func(id string, ms int, target, referredBy string) step {
		return step{ms, Message{IsRequest: true, Method: "REFER", CallID: id, CSeq: 2, FromUser: "201", FromTag: "tt", ToTag: "ft", ReferToUser: target, ReferredByUser: referredBy, Branch: "r" + id}}
	}
	newLeg := func(id string, ms int, to, referredBy string) step {
		m := inv(id, 1)
		m.ToUser, m.RequestUser, m.ReferredByUser = to, to, referredBy
		return step{ms, m}
	}
	answered := []step{{0, inv("A", 1)}, {10, resp("A", 180, "INVITE", 1)}, {2000, resp("A", 200, "INVITE", 1)}}
	tests := []struct {
		name  string
		steps []step
		want  string
	}{
		{"by Refer-To user", []step{refer("A", 5000, "2002", ""), newLeg("B", 5100, "2002", "")}, "B"},
		{"by Referred-By with a rewritten target", []step{refer("A", 5000, "2002", "201"), newLeg("B", 5100, "8002", "201")}, "B"},
		{"the first matching INVITE is linked", []step{refer("A", 5000, "2002", "201"), newLeg("X", 5050, "2002", ""), newLeg("B", 5100, "2002", "201")}, "X"},
		{"not after the window", []step{refer("A", 5000, "2002", ""), newLeg("B", 5000+30001, "2002", "")}, ""},
		{"not an unrelated INVITE", []step{refer("A", 5000, "2002", ""), newLeg("B", 5100, "2003", "")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := runSteps(t, TrackerConfig{}, append(append([]step{}, answered...), tc.steps...), 90000)
			for _, c := range calls {
				if c.CallID != "A" {
					continue
				}
				if c.Transfer == nil || c.Transfer.TargetCallID != tc.want {
					t.Fatalf("transfer %+v, want target_call_id %q", c.Transfer, tc.want)
				}
				return
			}
			t.Fatal("no record for A")
		})
	}
}

// TestTrackerForkedEarlyDialogs: a proxy forks the INVITE (same Call-ID);
// each branch rings with its own To-tag, the second answers, the proxy
// CANCELs the first. One leg: ringing at the first 180, answered by the
// 200, not abandoned.
func TestTrackerForkedEarlyDialogs(t *testing.T) {
	r1 := resp("F", 180, "INVITE", 1)
	r1.ToTag = "fork1"
	r2 := resp("F", 180, "INVITE", 1)
	r2.ToTag, r2.Branch = "fork2", "b1x"
	ok := resp("F", 200, "INVITE", 1)
	ok.ToTag, ok.Branch = "fork2", "b1x"
	cancel := req("F", "CANCEL", 1, true)
	term := resp("F", 487, "INVITE", 1)
	term.ToTag = "fork1"
	calls := runSteps(t, TrackerConfig{}, []step{{0, inv("F", 1)}, {30, r1}, {40, r2}, {7000, ok}, {7001, cancel}, {7010, term}, {9000, req("F", "BYE", 2, true)}}, 20000)
	if len(calls) != 1 {
		t.Fatalf("%d records", len(calls))
	}
	c := calls[0]
	if c.EndReason != EndCompleted || !c.RingingAt.Equal(at(30)) || !c.AnsweredAt.Equal(at(7000)) {
		t.Fatalf("forked call %+v", c)
	}
}

func TestTrackerEvents(t *testing.T) {
	var got []string
	cfg := TrackerConfig{OnEvent: func(e Event) {
		s := fmt.Sprintf("%s@%d", e.Kind, e.At.Sub(t0).Milliseconds())
		if e.Kind == EventMedia {
			s += fmt.Sprintf(" caller=%v early=%v %s", e.FromCaller, e.Early, e.SDP)
		}
		got = append(got, s)
	}}
	withSDP := func(m Message, body string) Message {
		m.ContentType, m.Body = "application/sdp", []byte(body)
		return m
	}
	steps := []step{
		{0, withSDP(inv("ev", 1), "offer")},
		{10, resp("ev", 183, "INVITE", 1)},
		{20, withSDP(resp("ev", 183, "INVITE", 1), "early")},
		{900, resp("ev", 180, "INVITE", 1)},
		{3000, withSDP(resp("ev", 200, "INVITE", 1), "answer")},
		{9000, withSDP(req("ev", "INVITE", 2, false), "hold")},
		{12000, req("ev", "BYE", 3, true)},
	}
	steps[2].m.Branch = "other-183" // a second 183, not a retransmission
	runSteps(t, cfg, steps, 30000)
	want := []string{
		"offered@0", "media@0 caller=true early=false offer",
		"ringing@10", "media@20 caller=false early=true early",
		"ringing@900",
		"media@3000 caller=false early=false answer", "answered@3000",
		"media@9000 caller=false early=false hold",
		"ended@12000",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events\n got %q\nwant %q", got, want)
	}
}
