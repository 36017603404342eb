package sip

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

var (
	callerAP = netip.MustParseAddrPort("192.0.2.10:5060")
	calleeAP = netip.MustParseAddrPort("192.0.2.20:5060")
)

// lstep is one message of a ladder test, sent by the caller or the callee,
// with its raw text ("" makes one up).
type lstep struct {
	ms         int
	m          Message
	fromCaller bool
	raw        string
}

// rawText makes up the text of m, padded to at least size bytes.
func rawText(m Message, size int) string {
	start := fmt.Sprintf("%s sip:201@192.0.2.20 SIP/2.0", m.Method)
	if !m.IsRequest {
		start = fmt.Sprintf("SIP/2.0 %d %s", m.StatusCode, m.Reason)
	}
	s := fmt.Sprintf("%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n", start, m.CallID, m.CSeq, m.Method)
	if len(s)+9 < size {
		s = strings.Replace(s, "Content-Length", "X-Pad: "+strings.Repeat("p", size-len(s)-9)+"\r\nContent-Length", 1)
	}
	return s
}

func (s lstep) packet() Packet {
	p := Packet{Time: at(s.ms), Transport: "udp", Src: callerAP, Dst: calleeAP}
	if !s.fromCaller {
		p.Src, p.Dst = calleeAP, callerAP
	}
	raw := s.raw
	if raw == "" {
		raw = rawText(s.m, 0)
	}
	p.Raw = []byte(raw)
	return p
}

// ladderRun feeds the steps to a tracker and returns the latest record of
// each leg (records are upserts), the final records given to OnClosed, and
// the tracker.
func ladderRun(t *testing.T, cfg TrackerConfig, steps []lstep, end int) (latest, closed map[string]Call, tr *Tracker) {
	t.Helper()
	latest, closed = map[string]Call{}, map[string]Call{}
	cfg.OnClosed = func(c Call) { closed[c.CallID] = c }
	tr = NewTracker(cfg, func(c Call) { latest[c.CallID] = c })
	for _, s := range steps {
		m := s.m
		p := s.packet()
		tr.Handle(&m, p)
		// The tracker must have copied what it kept.
		clear(p.Raw)
		tr.Advance(at(s.ms))
	}
	tr.Advance(at(end))
	tr.Flush(at(end), "end_of_capture")
	return latest, closed, tr
}

// want is the message the tracker should keep for step s.
func (s lstep) want(retrans bool) LegMessage {
	p := s.packet()
	w := LegMessage{
		At: p.Time, Src: p.Src.String(), Dst: p.Dst.String(), Transport: "udp",
		CSeq: s.m.CSeq, CSeqMethod: s.m.Method, FromCaller: s.fromCaller, Retransmission: retrans,
		Raw: string(p.Raw), Size: len(p.Raw),
	}
	if s.m.IsRequest {
		w.Method = s.m.Method
	} else {
		w.Status, w.Reason = s.m.StatusCode, s.m.Reason
	}
	return w
}

func withReason(m Message, reason string) Message { m.Reason = reason; return m }

func TestTrackerLadder(t *testing.T) {
	const id = "lad@192.0.2.10"
	invite := lstep{0, inv(id, 1), true, ""}
	trying := lstep{8, withReason(resp(id, 100, "INVITE", 1), "Trying"), false, ""}
	ringing := lstep{50, withReason(resp(id, 180, "INVITE", 1), "Ringing"), false, ""}
	ok := lstep{9050, withReason(resp(id, 200, "INVITE", 1), "OK"), false, ""}
	ack := lstep{9060, req(id, "ACK", 1, true), true, ""}
	byeCallee := lstep{60000, req(id, "BYE", 2, false), false, ""}
	byeOK := lstep{60004, withReason(resp(id, 200, "BYE", 2), "OK"), true, ""}
	byeOK.m.FromTag, byeOK.m.ToTag = "tt", "ft" // echoes the callee's BYE
	retrans := func(s lstep, ms int) lstep { s.ms = ms; return s }

	// The 407-challenged INVITE, and its retry with credentials.
	challenge := lstep{5, withReason(resp(id, 407, "INVITE", 1), "Proxy Authentication Required"), false, ""}
	ack407 := lstep{6, Message{IsRequest: true, Method: "ACK", CallID: id, CSeq: 1, FromTag: "ft", ToTag: "tt", Branch: "b1"}, true, ""}
	invite2 := lstep{40, inv(id, 2), true, ""}
	ringing2 := lstep{90, withReason(resp(id, 180, "INVITE", 2), "Ringing"), false, ""}
	ok2 := lstep{3000, withReason(resp(id, 200, "INVITE", 2), "OK"), false, ""}
	bye3 := lstep{5000, req(id, "BYE", 3, true), true, ""}

	type kept struct {
		step    lstep
		retrans bool
	}
	tests := []struct {
		name  string
		steps []lstep
		want  []kept
	}{
		{
			name:  "answered, callee hangs up: every message in capture order",
			steps: []lstep{invite, trying, ringing, ok, ack, byeCallee, byeOK},
			want:  []kept{{invite, false}, {trying, false}, {ringing, false}, {ok, false}, {ack, false}, {byeCallee, false}, {byeOK, false}},
		},
		{
			name:  "retransmissions kept and marked, at their own capture time",
			steps: []lstep{invite, retrans(invite, 500), ringing, retrans(ringing, 550), ok, retrans(ok, 9550), ack, byeCallee, byeOK},
			want: []kept{{invite, false}, {retrans(invite, 500), true}, {ringing, false}, {retrans(ringing, 550), true},
				{ok, false}, {retrans(ok, 9550), true}, {ack, false}, {byeCallee, false}, {byeOK, false}},
		},
		{
			name:  "407 then the INVITE again with credentials: one leg, one ladder",
			steps: []lstep{invite, challenge, ack407, invite2, ringing2, ok2, bye3},
			want:  []kept{{invite, false}, {challenge, false}, {ack407, false}, {invite2, false}, {ringing2, false}, {ok2, false}, {bye3, false}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			latest, closed, tr := ladderRun(t, TrackerConfig{}, tc.steps, 120000)
			if len(closed) != 1 {
				t.Fatalf("%d legs, want 1", len(closed))
			}
			want := make([]LegMessage, len(tc.want))
			for i, k := range tc.want {
				want[i] = k.step.want(k.retrans)
			}
			got := closed[id].Messages
			if len(got) != len(want) {
				t.Fatalf("%d messages, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("message %d\n got %+v\nwant %+v", i, got[i], want[i])
				}
				if !got[i].At.Equal(want[i].At) || got[i].At.Nanosecond() != want[i].At.Nanosecond() {
					t.Errorf("message %d at %s, want %s", i, got[i].At, want[i].At)
				}
			}
			if c := closed[id]; c.MessagesDropped != 0 {
				t.Errorf("messages_dropped %d", c.MessagesDropped)
			}
			// The latest emitted record has the ladder as of its emit: at
			// least up to the message that ended the leg.
			if n := len(latest[id].Messages); n < len(want)-1 {
				t.Errorf("emitted record carries %d messages, want ≥ %d", n, len(want)-1)
			}
			if st := tr.Stats(); st.MessageBytes != 0 || st.MessagesDropped != 0 {
				t.Errorf("after flush: %+v", st)
			}
		})
	}
}

func TestTrackerLadderBounds(t *testing.T) {
	const id = "bounds@192.0.2.10"
	answered := []lstep{{0, inv(id, 1), true, ""}, {10, resp(id, 180, "INVITE", 1), false, ""}, {2000, resp(id, 200, "INVITE", 1), false, ""}}
	// info returns n in-dialog INFO requests (distinct CSeqs), each raw
	// text size bytes.
	info := func(n, size int) []lstep {
		var out []lstep
		for i := range n {
			m := req(id, "INFO", uint32(10+i), true)
			out = append(out, lstep{3000 + i, m, true, rawText(m, size)})
		}
		return out
	}
	big := strings.Repeat("x", MaxLegMessageRaw-3) + "ñé" // the cut falls inside "é"
	tests := []struct {
		name       string
		cfg        TrackerConfig
		steps      []lstep
		kept       int
		dropped    int
		rawTotal   int // bytes of raw text kept, -1: do not check
		truncated  []int
		statsDrops uint64
	}{
		{
			name:     "one message longer than MaxLegMessageRaw is cut on a rune boundary",
			steps:    append(append([]lstep{}, answered...), lstep{3000, req(id, "INFO", 10, true), true, big}),
			kept:     4,
			rawTotal: -1, truncated: []int{3},
		},
		{
			name:    "beyond MaxLegMessages messages are counted, not kept",
			steps:   append(append([]lstep{}, answered...), info(MaxLegMessages+5-3, 200)...),
			kept:    MaxLegMessages,
			dropped: 5, rawTotal: -1, statsDrops: 5,
		},
		{
			name:  "past MaxLegMessageBytes the raw text is cut, the arrows kept",
			steps: append(append([]lstep{}, answered...), info(10, 3000)...),
			kept:  13, rawTotal: MaxLegMessageBytes,
			// 3 small + 5×3000 = 15,000+; the 6th INFO gets the rest, later ones nothing.
			truncated: []int{8, 9, 10, 11, 12},
		},
		{
			name: "the tracker-wide budget drops what does not fit",
			// Room for the entries of four messages (capacities 2 and 4)
			// and 1000 bytes of raw text.
			cfg:   TrackerConfig{MaxMessageBytes: 4*legMessageSize + 4*legMessageStrings + 1000},
			steps: append(append([]lstep{}, answered...), info(3, 2000)...),
			// The three small messages fit whole; what is left of the
			// 1000 bytes goes to the first INFO, cut; the rest is dropped.
			kept: 4, dropped: 2, rawTotal: -1, truncated: []int{3}, statsDrops: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, closed, tr := ladderRun(t, tc.cfg, tc.steps, 120000)
			c := closed[id]
			if len(c.Messages) != tc.kept || c.MessagesDropped != tc.dropped {
				t.Fatalf("kept %d dropped %d, want %d and %d", len(c.Messages), c.MessagesDropped, tc.kept, tc.dropped)
			}
			raw := 0
			var truncated []int
			for i, m := range c.Messages {
				raw += len(m.Raw)
				if len(m.Raw) > MaxLegMessageRaw {
					t.Errorf("message %d keeps %d bytes", i, len(m.Raw))
				}
				if !utf8.ValidString(m.Raw) {
					t.Errorf("message %d cut inside a rune", i)
				}
				src := tc.steps[i].raw
				if src == "" {
					src = rawText(tc.steps[i].m, 0)
				}
				if !strings.HasPrefix(src, m.Raw) || m.Size != len(src) || m.Truncated != (len(m.Raw) < len(src)) {
					t.Errorf("message %d: raw %d of %d bytes (size %d), truncated %v", i, len(m.Raw), len(src), m.Size, m.Truncated)
				}
				if m.Truncated {
					truncated = append(truncated, i)
				}
			}
			if raw > MaxLegMessageBytes || (tc.rawTotal >= 0 && raw != tc.rawTotal) {
				t.Errorf("%d bytes of raw text kept, want %d (at most %d)", raw, tc.rawTotal, MaxLegMessageBytes)
			}
			if tc.truncated != nil && fmt.Sprint(truncated) != fmt.Sprint(tc.truncated) {
				t.Errorf("truncated %v, want %v", truncated, tc.truncated)
			}
			if st := tr.Stats(); st.MessagesDropped != tc.statsDrops || st.MessageBytes != 0 {
				t.Errorf("stats %+v, want %d dropped and 0 bytes after flush", st, tc.statsDrops)
			}
			j, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(j), `"messages"`) || strings.Contains(string(j), `"raw"`) {
				t.Errorf("the record's JSON carries the messages: %s", j)
			}
			if wantField := tc.dropped > 0; strings.Contains(string(j), `"messages_dropped":`) != wantField {
				t.Errorf("messages_dropped in the JSON: %v, want %v", !wantField, wantField)
			}
		})
	}
}

// TestTrackerLadderFromCaller: the sender of each message, by its From
// tag, for requests and responses either way, and by address for a peer
// that sends no tags (RFC 2543).
func TestTrackerLadderFromCaller(t *testing.T) {
	const id = "fc@192.0.2.10"
	reinvite := req(id, "INVITE", 1, false) // the callee's re-INVITE (its own CSeq space)
	reinviteOK := resp(id, 200, "INVITE", 1)
	reinviteOK.FromTag, reinviteOK.ToTag, reinviteOK.Branch = "tt", "ft", "re"
	reinvite.Branch = "re"
	refer := req(id, "REFER", 2, false)
	referOK := resp(id, 202, "REFER", 2)
	referOK.FromTag, referOK.ToTag = "tt", "ft"
	notify := req(id, "NOTIFY", 2, true)
	notify.Event, notify.SipfragStatus = "refer", 200
	untagged := func(m Message) Message { m.FromTag, m.ToTag = "", ""; return m }
	tests := []struct {
		name  string
		steps []lstep
	}{
		{"tagged", []lstep{
			{0, inv(id, 1), true, ""}, {10, resp(id, 180, "INVITE", 1), false, ""}, {20, resp(id, 200, "INVITE", 1), false, ""},
			{30, req(id, "ACK", 1, true), true, ""}, {40, reinvite, false, ""}, {50, reinviteOK, true, ""},
			{60, refer, false, ""}, {70, referOK, true, ""}, {80, notify, true, ""}, {90, req(id, "BYE", 3, false), false, ""},
		}},
		{"no tags: by address", []lstep{
			{0, untagged(inv(id, 1)), true, ""}, {10, untagged(resp(id, 180, "INVITE", 1)), false, ""},
			{20, untagged(resp(id, 200, "INVITE", 1)), false, ""}, {30, untagged(req(id, "ACK", 1, true)), true, ""},
			{40, untagged(reinvite), false, ""}, {50, untagged(reinviteOK), true, ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, closed, _ := ladderRun(t, TrackerConfig{}, tc.steps, 120000)
			msgs := closed[id].Messages
			if len(msgs) != len(tc.steps) {
				t.Fatalf("%d messages, want %d", len(msgs), len(tc.steps))
			}
			for i, s := range tc.steps {
				if msgs[i].FromCaller != s.fromCaller {
					t.Errorf("message %d (%s %d): from_caller %v, want %v", i, s.m.Method, s.m.StatusCode, msgs[i].FromCaller, s.fromCaller)
				}
			}
		})
	}
}

// TestTrackerLadderTransfer: a blind transfer's two legs keep their own
// messages: the REFER and NOTIFY on the transferred leg, the new INVITE on
// the new one.
func TestTrackerLadderTransfer(t *testing.T) {
	refer := Message{IsRequest: true, Method: "REFER", CallID: "A", CSeq: 2, FromUser: "201", FromTag: "tt", ToTag: "ft", ReferToUser: "2002", Branch: "rA"}
	referOK := resp("A", 202, "REFER", 2)
	referOK.FromTag, referOK.ToTag = "tt", "ft"
	notify := Message{IsRequest: true, Method: "NOTIFY", CallID: "A", CSeq: 2, FromTag: "ft", ToTag: "tt", Event: "refer", SipfragStatus: 200, Branch: "nA"}
	newInv := inv("B", 1)
	newInv.ToUser, newInv.RequestUser, newInv.ReferredByUser = "2002", "2002", "201"
	steps := []lstep{
		{0, inv("A", 1), true, ""}, {10, resp("A", 180, "INVITE", 1), false, ""}, {2000, resp("A", 200, "INVITE", 1), false, ""},
		{5000, refer, false, ""}, {5010, referOK, true, ""},
		{5100, newInv, true, ""}, {5110, resp("B", 180, "INVITE", 1), false, ""},
		{5200, notify, true, ""}, {5300, req("A", "BYE", 3, false), false, ""},
		{9000, resp("B", 200, "INVITE", 1), false, ""}, {20000, req("B", "BYE", 2, true), true, ""},
	}
	_, closed, _ := ladderRun(t, TrackerConfig{}, steps, 120000)
	for _, leg := range []string{"A", "B"} {
		c := closed[leg]
		var got, want []string
		for _, m := range c.Messages {
			got = append(got, fmt.Sprintf("%s%d/%d@%d", m.Method, m.Status, m.CSeq, m.At.Sub(t0).Milliseconds()))
		}
		for _, s := range steps {
			if s.m.CallID == leg {
				want = append(want, fmt.Sprintf("%s%d/%d@%d", map[bool]string{true: s.m.Method}[s.m.IsRequest], s.m.StatusCode, s.m.CSeq, s.ms))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("leg %s\n got %v\nwant %v", leg, got, want)
		}
	}
	if closed["A"].Transfer == nil || closed["A"].Transfer.TargetCallID != "B" {
		t.Fatalf("transfer not linked: %+v", closed["A"].Transfer)
	}
}

// TestTrackerLadderAfterEnd: messages applied after the leg ended are kept;
// a record re-emitted because they changed it carries them, and one that
// they do not change is not emitted again for them (a finished call is
// stored once, DESIGN.md); the final record (OnClosed) has them all. A
// record handed out is never changed by later messages.
func TestTrackerLadderAfterEnd(t *testing.T) {
	var out []Call
	var final Call
	tr := NewTracker(TrackerConfig{OnClosed: func(c Call) { final = c }}, func(c Call) { out = append(out, c) })
	steps := []lstep{
		{0, inv("x", 1), true, ""}, {50, resp("x", 180, "INVITE", 1), false, ""},
		{3000, req("x", "CANCEL", 1, true), true, ""},
		{3010, resp("x", 487, "INVITE", 1), false, ""}, // ends nothing more: no re-emit
		{3020, req("x", "ACK", 1, true), true, ""},
		{3500, req("x", "BYE", 2, true), true, ""}, // sets bye_at: re-emitted
	}
	for _, s := range steps {
		m := s.m
		tr.Handle(&m, s.packet())
	}
	if len(out) != 1 || len(out[0].Messages) != 3 {
		t.Fatalf("want one record at the CANCEL with 3 messages, got %d records", len(out))
	}
	first := out[0]
	firstMsgs := append([]LegMessage(nil), first.Messages...)
	first.Messages[0].Raw = "changed by a consumer"
	tr.Advance(at(60000))
	if len(out) != 2 {
		t.Fatalf("%d records, want the one at the CANCEL and the one with bye_at", len(out))
	}
	if len(out[0].Messages) != 3 || !reflect.DeepEqual(out[0].Messages[1:], firstMsgs[1:]) {
		t.Error("the record emitted at the CANCEL changed after it was handed out")
	}
	if got := out[1].Messages; len(got) != len(steps) || got[len(got)-1].Method != "BYE" {
		t.Fatalf("re-emitted record has %d messages, want %d ending with the BYE", len(got), len(steps))
	}
	if out[1].Messages[0].Raw == "changed by a consumer" {
		t.Error("a consumer's change to an emitted record reached the tracker's ladder")
	}
	if len(final.Messages) != len(steps) {
		t.Errorf("final record has %d messages, want %d", len(final.Messages), len(steps))
	}

	// An answered call: the 200 to the BYE changes nothing but the ladder,
	// which is emitted once more at the close so the store has it whole.
	out = nil
	for _, s := range []lstep{{0, inv("y", 1), true, ""}, {50, resp("y", 200, "INVITE", 1), false, ""}, {900, req("y", "BYE", 2, true), true, ""}} {
		m := s.m
		tr.Handle(&m, s.packet())
	}
	ok := resp("y", 200, "BYE", 2)
	tr.Handle(&ok, lstep{910, ok, false, ""}.packet())
	tr.Advance(at(100000))
	if len(out) != 2 || len(out[0].Messages) != 3 || len(out[1].Messages) != 4 {
		t.Fatalf("want the record with the 3 messages up to the BYE, then with all 4; got %d records", len(out))
	}
	if len(final.Messages) != 4 || final.Messages[3].Status != 200 {
		t.Errorf("final record has %d messages, want 4 ending with the 200", len(final.Messages))
	}
}

// TestTrackerLadderNoLeg: messages the tracker applies to no leg (an
// orphan in-dialog request, a late retransmission) are kept nowhere.
func TestTrackerLadderNoLeg(t *testing.T) {
	steps := []lstep{
		{0, req("orphan", "BYE", 5, true), true, ""},
		{10, inv("z", 1), true, ""}, {20, resp("z", 486, "INVITE", 1), false, ""},
		{7000, inv("w", 1), true, ""}, // the clock passes z's linger: z is closed
		{8000, inv("z", 1), true, ""}, // a copy of z's INVITE after it closed: late
	}
	_, closed, tr := ladderRun(t, TrackerConfig{}, steps, 9000)
	if len(closed) != 2 || len(closed["z"].Messages) != 2 || len(closed["w"].Messages) != 1 {
		t.Fatalf("legs %+v", closed)
	}
	if st := tr.Stats(); st.Orphans != 1 || st.Late != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLegMessageCost: the size charged per entry is the struct's.
func TestLegMessageCost(t *testing.T) {
	if n := int(unsafe.Sizeof(LegMessage{})); n > legMessageSize {
		t.Fatalf("LegMessage is %d bytes, charged as %d", n, legMessageSize)
	}
}

// TestTrackerLadderFloodMemory: 5,000 open legs each sent 64 in-dialog
// messages of 1 KB (what would be ~150 MB of ladders) hold no more than
// MaxMessageBytes, as charged and as measured on the heap.
func TestTrackerLadderFloodMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("floods 320,000 messages")
	}
	const legs, perLeg = 5000, MaxLegMessages
	cfg := TrackerConfig{MaxMessageBytes: 8 << 20}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := NewTracker(cfg, func(Call) {})
	raw := []byte(rawText(req("f", "INFO", 2, true), 1000))
	for i := range legs {
		id := fmt.Sprintf("flood-%d", i)
		m := inv(id, 1)
		p := pkt(0)
		p.Raw = raw
		tr.Handle(&m, p)
		for j := 1; j < perLeg; j++ {
			m := req(id, "INFO", uint32(j+1), true)
			tr.Handle(&m, p)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := tr.Stats()
	if st.Open != legs || st.MessageBytes > cfg.MaxMessageBytes || st.MessagesDropped == 0 {
		t.Fatalf("stats %+v", st)
	}
	// The legs themselves (record, retransmission keys) take ~2.5 KB each
	// without any ladder.
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if limit := int64(cfg.MaxMessageBytes) + legs*4<<10; grown > limit {
		t.Fatalf("heap grew by %d MB for %d legs, limit %d MB", grown>>20, legs, limit>>20)
	}
	t.Logf("heap +%d MB, %d MB charged, %d messages dropped", grown>>20, st.MessageBytes>>20, st.MessagesDropped)
	runtime.KeepAlive(tr)
}
