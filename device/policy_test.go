package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// t0 has nanoseconds so that rounding anywhere would show.
var t0 = time.Date(2026, 3, 2, 9, 15, 0, 123456789, time.UTC)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func newCall(id string, dir sip.Direction, op string) *sip.Call {
	return &sip.Call{CallID: id, Direction: dir, Operator: op, InviteAt: t0}
}

func ring(c *sip.Call, at time.Time) sip.Event {
	c.RingingAt = &at
	return sip.Event{Kind: sip.EventRinging, At: at, Call: c}
}

func answer(c *sip.Call, at time.Time) sip.Event {
	c.AnsweredAt = &at
	return sip.Event{Kind: sip.EventAnswered, At: at, Call: c}
}

func end(c *sip.Call, at time.Time, reason sip.EndReason) sip.Event {
	c.EndedAt = &at
	c.EndReason = reason
	return sip.Event{Kind: sip.EventEnded, At: at, Call: c}
}

func usPolicy(t *testing.T) *Policy {
	t.Helper()
	return NewPolicy(PolicyConfig{Ring: sip.DefaultRingPolicy()})
}

// short renders edges for comparison: "call state@offset panel buzzer".
func short(edges []Edge) []string {
	out := make([]string, 0, len(edges))
	for _, e := range edges {
		out = append(out, fmt.Sprintf("%s %s@%s %s %v", e.CallID, e.State, e.At.Sub(t0), e.Panel, e.Buzzer))
	}
	return out
}

func wantEdges(t *testing.T, got []Edge, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if g := short(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("edges:\n got %q\nwant %q", g, want)
	}
}

func TestPolicyThresholdsExact(t *testing.T) {
	sv, err := sip.RingPreset("sv")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		ring        sip.RingPolicy
		warn, alarm time.Duration
	}{
		{"us 2s/4s", sip.DefaultRingPolicy(), 18 * time.Second, 24 * time.Second},
		{"sv 1.2s/4.6s", sv, 17400 * time.Millisecond, 23200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPolicy(PolicyConfig{Ring: tc.ring})
			c := newCall("a", sip.DirectionUnknown, "")
			wantEdges(t, p.Event(ring(c, t0)))
			if d, ok := p.NextDeadline(); !ok || !d.Equal(t0.Add(tc.warn)) {
				t.Fatalf("next deadline %v %v, want %v", d, ok, t0.Add(tc.warn))
			}
			wantEdges(t, p.Advance(t0.Add(tc.warn-time.Nanosecond)))
			e := p.Advance(t0.Add(tc.warn))
			if len(e) != 1 || e[0].At != t0.Add(tc.warn) || e[0].State != EdgeWarning || e[0].Panel != "warning" || e[0].Buzzer {
				t.Fatalf("warning edge %+v, want one warning at exactly %v", e, t0.Add(tc.warn))
			}
			wantEdges(t, p.Advance(t0.Add(tc.alarm-time.Nanosecond)))
			e = p.Advance(t0.Add(tc.alarm))
			if len(e) != 1 || e[0].At != t0.Add(tc.alarm) || e[0].State != EdgeAlarm || e[0].Panel != "alarm" || !e[0].Buzzer {
				t.Fatalf("alarm edge %+v, want one alarm at exactly %v", e, t0.Add(tc.alarm))
			}
			if ps := p.Panel(); ps.Level != LevelAlarm || !ps.Buzzer || ps.Ringing != 1 {
				t.Fatalf("panel %+v", ps)
			}
		})
	}
}

func TestPolicyAdvanceLate(t *testing.T) {
	p := usPolicy(t)
	a, b := newCall("a", sip.DirectionUnknown, ""), newCall("b", sip.DirectionUnknown, "")
	p.Event(ring(a, t0))
	p.Event(ring(b, sec(3)))
	// The clock jumps 30 s: every threshold comes out at its own time, in
	// time order, with the panel as it stood after each.
	wantEdges(t, p.Advance(sec(30)),
		"a warning@18s warning false",
		"b warning@21s warning false",
		"a alarm@24s alarm true",
		"b alarm@27s alarm true")
	wantEdges(t, p.Advance(sec(31)))
	if d, ok := p.NextDeadline(); !ok || !d.Equal(t0.Add(DefaultMaxRinging)) {
		t.Fatalf("next deadline %v %v, want the max-ringing timeout of a", d, ok)
	}
}

func TestPolicyTiesKeepArrivalOrder(t *testing.T) {
	p := usPolicy(t)
	for _, id := range []string{"z", "a", "m"} {
		p.Event(ring(newCall(id, sip.DirectionUnknown, ""), t0))
	}
	wantEdges(t, p.Advance(sec(18)),
		"z warning@18s warning false",
		"a warning@18s warning false",
		"m warning@18s warning false")
}

func TestPolicyNextDeadline(t *testing.T) {
	p := usPolicy(t)
	if _, ok := p.NextDeadline(); ok {
		t.Fatal("deadline with no call")
	}
	c := newCall("a", sip.DirectionUnknown, "")
	p.Event(ring(c, t0))
	for _, step := range []struct {
		advance time.Time
		next    time.Time
	}{
		{sec(1), sec(18)},
		{sec(18), sec(24)},
		{sec(24), t0.Add(DefaultMaxRinging)},
	} {
		p.Advance(step.advance)
		if d, ok := p.NextDeadline(); !ok || !d.Equal(step.next) {
			t.Fatalf("after %v: next %v %v, want %v", step.advance.Sub(t0), d, ok, step.next.Sub(t0))
		}
	}
	p.Event(answer(c, sec(25)))
	if d, ok := p.NextDeadline(); ok {
		t.Fatalf("deadline %v after the only call was answered", d)
	}
}

func TestPolicyClears(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ev     func(c *sip.Call) sip.Event
		reason string
	}{
		{"answered", func(c *sip.Call) sip.Event { return answer(c, sec(26)) }, "answered"},
		{"cancelled", func(c *sip.Call) sip.Event { return end(c, sec(26), sip.EndAbandoned) }, "ended"},
		{"busy", func(c *sip.Call) sip.Event { return end(c, sec(26), sip.EndBusy) }, "ended"},
		{"redirected", func(c *sip.Call) sip.Event {
			c.Transfer = &sip.Transfer{Kind: "redirect", RequestedAt: sec(26)}
			return end(c, sec(26), sip.EndRedirected)
		}, "redirected"},
		{"transferred", func(c *sip.Call) sip.Event {
			c.Transfer = &sip.Transfer{Kind: "blind", RequestedAt: sec(26)}
			return sip.Event{Kind: sip.EventMedia, At: sec(26), Call: c}
		}, "transferred"},
		{"closed without end", func(c *sip.Call) sip.Event {
			return sip.Event{Kind: sip.EventEnded, At: sec(26), Call: c}
		}, "ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := usPolicy(t)
			c := newCall("a", sip.DirectionUnknown, "")
			p.Event(ring(c, t0))
			wantEdges(t, p.Advance(sec(25)), "a warning@18s warning false", "a alarm@24s alarm true")
			e := p.Event(tc.ev(c))
			wantEdges(t, e, "a clear@26s idle false")
			if e[0].Reason != tc.reason {
				t.Errorf("reason %q, want %q", e[0].Reason, tc.reason)
			}
			if ps := p.Panel(); ps.Level != LevelIdle || ps.Buzzer || ps.Ringing != 0 {
				t.Fatalf("panel after clear %+v", ps)
			}
			wantEdges(t, p.Advance(sec(600)))
		})
	}
}

func TestPolicyEventReportsPassedThresholdsFirst(t *testing.T) {
	p := usPolicy(t)
	c := newCall("a", sip.DirectionUnknown, "")
	p.Event(ring(c, t0))
	// No Advance in between: the answer at 18.5 s still shows the warning
	// at 18 s first.
	wantEdges(t, p.Event(answer(c, sec(18.5))), "a warning@18s warning false", "a clear@18.5s idle false")
}

func TestPolicyAnswerAtLimitIsLate(t *testing.T) {
	p := usPolicy(t)
	c := newCall("a", sip.DirectionUnknown, "")
	p.Event(ring(c, t0))
	// sip.RingPolicy.WithinLimit: an answer at exactly the limit is not
	// within it, so the alarm fires before the clear.
	wantEdges(t, p.Event(answer(c, sec(24))),
		"a warning@18s warning false", "a alarm@24s alarm true", "a clear@24s idle false")
}

func TestPolicyQuietAnswerHasNoEdges(t *testing.T) {
	p := usPolicy(t)
	c := newCall("a", sip.DirectionUnknown, "")
	wantEdges(t, p.Event(sip.Event{Kind: sip.EventOffered, At: t0, Call: c}))
	p.Event(ring(c, sec(0.5)))
	wantEdges(t, p.Event(answer(c, sec(17))))
	wantEdges(t, p.Advance(sec(100)))
}

func TestPolicyWorstOfSeveral(t *testing.T) {
	p := usPolicy(t)
	a, b := newCall("a", sip.DirectionUnknown, "Ana"), newCall("b", sip.DirectionUnknown, "Beto")
	p.Event(ring(a, t0))
	p.Event(ring(b, sec(5)))
	wantEdges(t, p.Advance(sec(24)),
		"a warning@18s warning false", "b warning@23s warning false", "a alarm@24s alarm true")
	ps := p.Panel()
	want := PanelState{Level: LevelAlarm, Buzzer: true, Operators: map[string]Level{"Ana": LevelAlarm, "Beto": LevelWarning}, Ringing: 2}
	if !reflect.DeepEqual(ps, want) {
		t.Fatalf("panel %+v, want %+v", ps, want)
	}
	e := p.Event(answer(a, sec(25)))
	wantEdges(t, e, "a clear@25s warning false")
	if e[0].Operator != "Ana" {
		t.Errorf("operator %q", e[0].Operator)
	}
	ps = p.Panel()
	want = PanelState{Level: LevelWarning, Operators: map[string]Level{"Beto": LevelWarning}, Ringing: 1}
	if !reflect.DeepEqual(ps, want) {
		t.Fatalf("panel %+v, want %+v", ps, want)
	}
}

func TestPolicyWatch(t *testing.T) {
	dirs := []sip.Direction{sip.DirectionInbound, sip.DirectionInternal, sip.DirectionOutbound, sip.DirectionUnknown}
	for _, tc := range []struct {
		watch Watch
		want  []string
	}{
		{WatchAll, []string{"inbound", "internal", "outbound", "unknown"}},
		{"", []string{"inbound", "internal", "outbound", "unknown"}},
		{WatchReceptionists, []string{"inbound", "internal"}},
	} {
		t.Run(string(tc.watch), func(t *testing.T) {
			p := NewPolicy(PolicyConfig{Ring: sip.DefaultRingPolicy(), Watch: tc.watch})
			for _, d := range dirs {
				p.Event(ring(newCall(string(d), d, ""), t0))
			}
			var got []string
			for _, e := range p.Advance(sec(18)) {
				got = append(got, e.CallID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("warned %v, want %v", got, tc.want)
			}
		})
	}
	if WatchFor(0) != WatchAll || WatchFor(2) != WatchReceptionists {
		t.Fatal("WatchFor")
	}
}

func TestPolicyMute(t *testing.T) {
	p := usPolicy(t)
	a, b, c := newCall("a", sip.DirectionUnknown, ""), newCall("b", sip.DirectionUnknown, ""), newCall("c", sip.DirectionUnknown, "")
	p.Event(ring(a, t0))
	p.Event(ring(b, sec(10)))
	wantEdges(t, p.Advance(sec(25)), "a warning@18s warning false", "a alarm@24s alarm true")
	// The press at 26 s silences a (in alarm) and b (ringing, not yet in
	// alarm); the red lamp stays.
	wantEdges(t, p.Mute(sec(26)), "a muted@26s alarm false")
	if ps := p.Panel(); ps.Level != LevelAlarm || ps.Buzzer {
		t.Fatalf("panel after mute %+v, want alarm without buzzer", ps)
	}
	// c starts ringing after the press: it is not muted.
	p.Event(ring(c, sec(27)))
	wantEdges(t, p.Advance(sec(60)),
		"b warning@28s alarm false", "b alarm@34s alarm false",
		"c warning@45s alarm false", "c alarm@51s alarm true")
	// A second press silences c; a and b give no edge again.
	wantEdges(t, p.Mute(sec(61)), "c muted@1m1s alarm false")
	// Red stays until the calls end.
	p.Event(end(a, sec(62), sip.EndAbandoned))
	p.Event(end(b, sec(63), sip.EndAbandoned))
	wantEdges(t, p.Event(answer(c, sec(64))), "c clear@1m4s idle false")
}

func TestPolicyMaxRinging(t *testing.T) {
	p := NewPolicy(PolicyConfig{Ring: sip.DefaultRingPolicy(), MaxRinging: time.Minute})
	a, b := newCall("a", sip.DirectionUnknown, ""), newCall("b", sip.DirectionUnknown, "")
	p.Event(ring(a, t0))
	// b's ringing moves the clock to 50 s: a's thresholds come first.
	wantEdges(t, p.Event(ring(b, sec(50))), "a warning@18s warning false", "a alarm@24s alarm true")
	e := p.Advance(sec(70))
	wantEdges(t, e, "a clear@1m0s idle false", "b warning@1m8s warning false")
	if e[0].Reason != "timeout" {
		t.Errorf("reason %q, want timeout", e[2].Reason)
	}
	if ps := p.Panel(); ps.TimedOut != 1 || ps.Ringing != 1 || ps.Level != LevelWarning {
		t.Fatalf("panel %+v, want 1 timed out, 1 ringing at warning", ps)
	}
	// The end of a timed-out call shows nothing and forgets it.
	wantEdges(t, p.Event(end(a, sec(200), sip.EndUnknown)), "b alarm@1m14s alarm true", "b clear@1m50s idle false")
	if ps := p.Panel(); ps.TimedOut != 1 || ps.Ringing != 0 {
		t.Fatalf("panel %+v, want b timed out only", ps)
	}
	if _, ok := p.NextDeadline(); ok {
		t.Fatal("deadline left with only timed-out calls")
	}
	wantEdges(t, p.Event(end(b, sec(201), sip.EndUnknown)))
	if ps := p.Panel(); !reflect.DeepEqual(ps, PanelState{}) {
		t.Fatalf("panel %+v, want empty", ps)
	}
}

func TestPolicyRingingMoved(t *testing.T) {
	p := usPolicy(t)
	c := newCall("a", sip.DirectionUnknown, "")
	p.Event(ring(c, t0)) // a 183
	wantEdges(t, p.Advance(sec(19)), "a warning@18s warning false")
	// The first 180 at 20 s: ring_seconds now counts from it (domain.md
	// §1.2), so the call is no longer past a threshold.
	wantEdges(t, p.Event(ring(c, sec(20))), "a clear@20s idle false")
	wantEdges(t, p.Advance(sec(45)), "a warning@38s warning false", "a alarm@44s alarm true")
}

func TestPolicyIgnoresCallsNotRinging(t *testing.T) {
	p := usPolicy(t)
	c := newCall("a", sip.DirectionUnknown, "")
	at := t0
	c.AnsweredAt = &at
	// A late 180 after the answer, a ringing event without ringing_at, one
	// without a call.
	p.Event(ring(c, t0))
	p.Event(sip.Event{Kind: sip.EventRinging, At: t0, Call: newCall("b", sip.DirectionUnknown, "")})
	p.Event(sip.Event{Kind: sip.EventRinging, At: t0})
	wantEdges(t, p.Advance(sec(100)))
	if ps := p.Panel(); ps.Ringing != 0 {
		t.Fatalf("panel %+v", ps)
	}
}

func TestEdgeJSON(t *testing.T) {
	e := Edge{At: sec(18), CallID: "abc@host", State: EdgeWarning, Panel: "warning", Reason: "rings"}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"at":"2026-03-02T09:15:18.123456789Z","call_id":"abc@host","state":"warning","panel":"warning","buzzer":false}`
	if string(b) != want {
		t.Fatalf("json %s\nwant %s", b, want)
	}
	e.Operator = "Ana"
	b, _ = json.Marshal(e)
	if want := `{"at":"2026-03-02T09:15:18.123456789Z","call_id":"abc@host","state":"warning","panel":"warning","buzzer":false,"operator":"Ana"}`; string(b) != want {
		t.Fatalf("json %s\nwant %s", b, want)
	}
}

func TestPolicyConfigValidate(t *testing.T) {
	us := sip.DefaultRingPolicy()
	for _, tc := range []struct {
		name string
		cfg  PolicyConfig
		ok   bool
	}{
		{"defaults", PolicyConfig{Ring: us}, true},
		{"receptionists", PolicyConfig{Ring: us, Watch: WatchReceptionists, MaxRinging: time.Minute}, true},
		{"bad ring", PolicyConfig{Ring: sip.RingPolicy{}}, false},
		{"bad watch", PolicyConfig{Ring: us, Watch: "some"}, false},
		{"max ringing at the limit", PolicyConfig{Ring: us, MaxRinging: 24 * time.Second}, false},
		{"negative max ringing", PolicyConfig{Ring: us, MaxRinging: -time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func BenchmarkPolicyAdvanceIdle(b *testing.B) {
	p := NewPolicy(PolicyConfig{Ring: sip.DefaultRingPolicy()})
	for i := range 8 {
		p.Event(ring(newCall(fmt.Sprint(i), sip.DirectionUnknown, ""), t0))
	}
	now := sec(1)
	b.ReportAllocs()
	for b.Loop() {
		p.Advance(now)
	}
}

func BenchmarkPolicyCallLifecycle(b *testing.B) {
	p := NewPolicy(PolicyConfig{Ring: sip.DefaultRingPolicy()})
	for i := range 8 {
		p.Event(ring(newCall(fmt.Sprint("bg", i), sip.DirectionUnknown, ""), t0))
	}
	c := newCall("a", sip.DirectionUnknown, "")
	b.ReportAllocs()
	for b.Loop() {
		c.AnsweredAt, c.EndedAt = nil, nil
		p.Event(ring(c, t0))
		p.Event(answer(c, sec(5)))
	}
}
