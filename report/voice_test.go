package report

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// TestDistOf pins the percentile definition: nearest rank, the value of
// rank ⌈p/100 × n⌉ (1-based) of the sorted values, never interpolated.
func TestDistOf(t *testing.T) {
	seq := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[n-1-i] = float64(i + 1) // descending: distOf sorts
		}
		return v
	}
	tests := []struct {
		name          string
		in            []float64
		n             int
		p10, p50, p90 *float64
	}{
		{name: "empty", in: nil, n: 0},
		{name: "one", in: []float64{7}, n: 1, p10: vfp(7), p50: vfp(7), p90: vfp(7)},
		{name: "two", in: []float64{5, 1}, n: 2, p10: vfp(1), p50: vfp(1), p90: vfp(5)},
		// n = 10: ranks 1, 5, 9.
		{name: "1..10", in: seq(10), n: 10, p10: vfp(1), p50: vfp(5), p90: vfp(9)},
		// n = 11: ⌈1.1⌉ = 2, ⌈5.5⌉ = 6, ⌈9.9⌉ = 10.
		{name: "1..11", in: seq(11), n: 11, p10: vfp(2), p50: vfp(6), p90: vfp(10)},
		// n = 20: ranks 2, 10, 18.
		{name: "1..20", in: seq(20), n: 20, p10: vfp(2), p50: vfp(10), p90: vfp(18)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := distOf(tt.in)
			want := Dist{N: tt.n, P10: tt.p10, P50: tt.p50, P90: tt.p90}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("distOf = %s, want %s", distString(got), distString(want))
			}
		})
	}
}

func distString(d Dist) string {
	f := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("{n %d p10 %s p50 %s p90 %s}", d.N, f(d.P10), f(d.P50), f(d.P90))
}

// vc describes one record of a voice test.
type vc struct {
	id, op   string
	dir      sip.Direction
	at       string // local "2006-01-02 15:04:05"
	answered bool
	greet    *float64
	speech   bool // with a speech analysis (greet may still be nil)
	analysed float64
	talkA    float64
	talkB    float64
	silence  float64
	overtalk float64
	q        *sip.Quality
	from     string // transferred_from
	xfer     *sip.Transfer
}

func vcCalls(t *testing.T, loc *time.Location, specs []vc) []sip.Call {
	t.Helper()
	var calls []sip.Call
	for _, s := range specs {
		at, err := time.ParseInLocation(time.DateTime, s.at, loc)
		if err != nil {
			t.Fatal(err)
		}
		dir := s.dir
		if dir == "" {
			dir = sip.DirectionInbound
		}
		c := sip.Call{ID: "r-" + s.id, CallID: s.id, Direction: dir, Operator: s.op, InviteAt: at.UTC(),
			TransferredFrom: s.from, Transfer: s.xfer, Quality: s.q}
		if s.answered {
			ans := at.Add(4 * time.Second)
			c.AnsweredAt = &ans
		}
		if s.speech || s.greet != nil {
			c.Speech = &sip.Speech{GreetingLatencySeconds: s.greet, AnalysedSeconds: s.analysed,
				TalkSeconds:    sip.SideSeconds{Caller: s.talkA, Callee: s.talkB},
				SilenceSeconds: s.silence, OvertalkSeconds: s.overtalk}
		}
		calls = append(calls, c)
	}
	return calls
}

func mosQ(caller, callee *sip.StreamQuality) *sip.Quality {
	return &sip.Quality{Caller: caller, Callee: callee}
}

func mos(v float64) *sip.StreamQuality { return &sip.StreamQuality{MOS: v} }

// TestVoiceGreeting: known latencies give known percentiles, per
// receptionist and overall, over exactly the answered inbound calls of
// the month with a speech analysis.
func TestVoiceGreeting(t *testing.T) {
	loc := hlLoc(t)
	var specs []vc
	// Ana: ten greetings; sorted 0.5 0.8 1.2 1.9 2.2 2.5 3.0 3.4 4.1 6.0.
	for i, g := range []float64{0.8, 1.2, 2.5, 3.0, 3.4, 4.1, 0.5, 1.9, 2.2, 6.0} {
		specs = append(specs, vc{id: fmt.Sprintf("a%d", i), op: "Ana", at: "2026-03-10 09:00:00", answered: true, greet: vfp(g)})
	}
	specs = append(specs,
		// José: 1.0 and 5.0, and a call where he never spoke.
		vc{id: "j1", op: "José", at: "2026-03-11 09:00:00", answered: true, greet: vfp(1.0)},
		vc{id: "j2", op: "José", at: "2026-03-31 23:59:59", answered: true, greet: vfp(5.0)},
		vc{id: "j3", op: "José", at: "2026-03-12 09:00:00", answered: true, speech: true},
		// A latency that rounds to the limit is not above it.
		vc{id: "j4", op: "José", at: "2026-03-12 10:00:00", answered: true, greet: vfp(3.0004)},
		// Left out: not answered; outbound; no speech analysis; outside
		// the month; a leg a transfer created; a leg a transfer names.
		vc{id: "x1", op: "Ana", at: "2026-03-10 10:00:00", greet: vfp(9)},
		vc{id: "x2", op: "Ana", dir: sip.DirectionOutbound, at: "2026-03-10 10:00:00", answered: true, greet: vfp(9)},
		vc{id: "x3", op: "Ana", at: "2026-03-10 10:00:00", answered: true},
		vc{id: "x4", op: "Ana", at: "2026-04-01 00:00:00", answered: true, greet: vfp(9)},
		vc{id: "x5", op: "Ana", at: "2026-02-28 23:59:59", answered: true, greet: vfp(9)},
		vc{id: "x6", op: "Ana", at: "2026-03-10 10:00:00", answered: true, greet: vfp(9), from: "a1"},
		vc{id: "x7", op: "Ana", at: "2026-03-10 10:00:00", answered: true, greet: vfp(9)},
		vc{id: "xr", op: "José", at: "2026-03-10 09:59:00", answered: true, greet: vfp(1.0),
			xfer: &sip.Transfer{Kind: "blind", TargetCallID: "x7"}},
		// No operator: in the overall block only.
		vc{id: "n1", at: "2026-03-13 09:00:00", answered: true, greet: vfp(2.0)},
	)
	calls := &figCalls{calls: vcCalls(t, loc, specs)}
	got, err := Voice(context.Background(), calls, "2026-03", FiguresOptions{Location: loc, Receptionists: []string{"Ana", "Rosa"}})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		calls, noGreet, over int
		overPct              *float64
		g                    Dist
	}
	cases := map[string]want{
		"Ana": {calls: 10, over: 3, overPct: vfp(30), g: Dist{N: 10, P10: vfp(0.5), P50: vfp(2.2), P90: vfp(4.1)}},
		// 1.0 1.0 3.0 5.0: ranks 1, 2, 4.
		"José": {calls: 5, noGreet: 1, over: 1, overPct: vfp(25), g: Dist{N: 4, P10: vfp(1), P50: vfp(1), P90: vfp(5)}},
		"Rosa": {},
		// 0.5 0.8 1.0 1.0 1.2 1.9 2.0 2.2 2.5 3.0 3.0 3.4 4.1 5.0 6.0
		// (n = 15): ranks ⌈1.5⌉ = 2, ⌈7.5⌉ = 8, ⌈13.5⌉ = 14.
		"": {calls: 16, noGreet: 1, over: 4, overPct: vfp(26.67), g: Dist{N: 15, P10: vfp(0.8), P50: vfp(2.2), P90: vfp(5)}},
	}
	if len(got.ByOperator) != 3 {
		t.Errorf("by_operator has %d blocks, want Ana, José, Rosa", len(got.ByOperator))
	}
	for op, w := range cases {
		b := &got.All
		if op != "" {
			b = got.ByOperator[op]
		}
		if b == nil {
			t.Errorf("%q: no block", op)
			continue
		}
		if b.Calls != w.calls || b.NoGreeting != w.noGreet || b.GreetingOverLimit != w.over ||
			!reflect.DeepEqual(b.GreetingOverLimitPct, w.overPct) || !reflect.DeepEqual(b.Greeting, w.g) {
			t.Errorf("%q: calls %d no_greeting %d over %d (%v) greeting %s, want %d %d %d (%v) %s", op,
				b.Calls, b.NoGreeting, b.GreetingOverLimit, ptrVal(b.GreetingOverLimitPct), distString(b.Greeting),
				w.calls, w.noGreet, w.over, ptrVal(w.overPct), distString(w.g))
		}
	}
	if got.GreetingLimitSeconds != 3 {
		t.Errorf("greeting_limit_seconds %v, want the default 3", got.GreetingLimitSeconds)
	}

	// A configured limit of 2 s: Ana's 2.2, 2.5 and 3.0 join the late ones.
	got, err = Voice(context.Background(), calls, "2026-03", FiguresOptions{Location: loc, GreetingLimit: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if b := got.ByOperator["Ana"]; b.GreetingOverLimit != 6 || got.GreetingLimitSeconds != 2 {
		t.Errorf("limit 2 s: Ana over %d (limit %v), want 6", b.GreetingOverLimit, got.GreetingLimitSeconds)
	}
}

func ptrVal(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestVoiceSharesAndMOS: each call's shares of its analysed audio, and
// the MOS per direction with the directions that have no estimate left
// out.
func TestVoiceSharesAndMOS(t *testing.T) {
	loc := hlLoc(t)
	at := "2026-03-10 09:00:00"
	specs := []vc{
		{id: "1", op: "Ana", at: at, answered: true, greet: vfp(1), analysed: 10, talkA: 3, talkB: 5, silence: 1, overtalk: 0.5,
			q: mosQ(mos(4.41), mos(4.2))},
		{id: "2", op: "Ana", at: at, answered: true, greet: vfp(1), analysed: 10, talkA: 4, talkB: 4, silence: 2, overtalk: 1,
			q: mosQ(mos(3.2), mos(0))}, // callee: no estimate (not G.711)
		{id: "3", op: "Ana", at: at, answered: true, greet: vfp(1), analysed: 20, talkA: 2, talkB: 8, silence: 8, overtalk: 0,
			q: mosQ(mos(4.0), nil)},
		// No audio analysed: in no share.
		{id: "4", op: "Ana", at: at, answered: true, speech: true},
		// 1/3 of the audio: 33.33 %.
		{id: "5", op: "Ana", at: at, answered: true, speech: true, analysed: 3, talkA: 1, talkB: 1, silence: 1, overtalk: 1},
	}
	got, err := Voice(context.Background(), &figCalls{calls: vcCalls(t, loc, specs)}, "2026-03", FiguresOptions{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	b := got.ByOperator["Ana"]
	cases := []struct {
		name      string
		got, want Dist
	}{
		// Shares 30 40 10 33.33 → 10 30 33.33 40: ranks 1, 2, 4.
		{"talk_caller_pct", b.TalkCaller, Dist{N: 4, P10: vfp(10), P50: vfp(30), P90: vfp(40)}},
		// 50 40 40 33.33 → 33.33 40 40 50.
		{"talk_receptionist_pct", b.TalkReceptionist, Dist{N: 4, P10: vfp(33.33), P50: vfp(40), P90: vfp(50)}},
		// 10 20 40 33.33 → 10 20 33.33 40.
		{"silence_pct", b.Silence, Dist{N: 4, P10: vfp(10), P50: vfp(20), P90: vfp(40)}},
		// 5 10 0 33.33 → 0 5 10 33.33.
		{"overtalk_pct", b.Overtalk, Dist{N: 4, P10: vfp(0), P50: vfp(5), P90: vfp(33.33)}},
		// 4.41 3.2 4.0 → 3.2 4.0 4.41: ranks 1, 2, 3.
		{"mos_caller", b.MOSCaller, Dist{N: 3, P10: vfp(3.2), P50: vfp(4), P90: vfp(4.41)}},
		{"mos_receptionist", b.MOSReceptionist, Dist{N: 1, P10: vfp(4.2), P50: vfp(4.2), P90: vfp(4.2)}},
	}
	for _, c := range cases {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %s, want %s", c.name, distString(c.got), distString(c.want))
		}
	}
	if !reflect.DeepEqual(got.All.Silence, b.Silence) || got.All.Calls != 5 {
		t.Errorf("all: calls %d silence %s, want Ana's", got.All.Calls, distString(got.All.Silence))
	}
}

func TestVoiceErrors(t *testing.T) {
	loc := hlLoc(t)
	boom := errors.New("boom")
	if _, err := Voice(context.Background(), &figCalls{err: boom}, "2026-03", FiguresOptions{Location: loc}); !errors.Is(err, boom) {
		t.Errorf("store error: %v", err)
	}
	if _, err := Voice(context.Background(), &figCalls{}, "2026-3", FiguresOptions{Location: loc}); !errors.Is(err, ErrBadMonth) {
		t.Errorf("bad month: %v", err)
	}
}

func vfp(v float64) *float64 { return &v }

// TestBuildDocumentVoice: the document carries the voice part of its
// month, the same as Voice over the store, with every configured
// receptionist.
func TestBuildDocumentVoice(t *testing.T) {
	ctx := context.Background()
	f := newDocFixture(t)
	doc, err := BuildDocument(ctx, f.src, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	v, err := Voice(ctx, f.st, "2026-03", f.src.Figures)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Voice == nil {
		t.Fatal("no voice part")
	}
	if a, b := docJSON(t, doc.Voice), docJSON(t, v); a != b {
		t.Errorf("document voice differs from Voice:\n%s\n%s", a, b)
	}
	if len(doc.Voice.ByOperator) != len(f.src.Figures.Receptionists) {
		t.Errorf("%d receptionists in the voice part, want %d", len(doc.Voice.ByOperator), len(f.src.Figures.Receptionists))
	}
}
