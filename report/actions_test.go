package report

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// rvReq is a valid request on March's report.
func rvReq() ActionRequest {
	return ActionRequest{
		Month: "2026-03", By: "jefe", To: "Ana", Instruction: "Saludar con el nombre de la institución.",
		Indicator: Indicator{Kind: IndicatorPointNoCumplePct, Point: PointSaludo, Operator: "Ana"}, DueDate: "2026-04-30",
	}
}

func (e *rvEnv) rvAdd(t testing.TB, req ActionRequest) Action {
	t.Helper()
	a, err := e.r.AddAction(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAddActionRefused(t *testing.T) {
	long := strings.Repeat("á", maxActionText+1)
	tests := []struct {
		name string
		edit func(*ActionRequest)
		want error
	}{
		{"bad month", func(r *ActionRequest) { r.Month = "2026-3" }, ErrBadMonth},
		{"no author", func(r *ActionRequest) { r.By = "" }, ErrReason},
		{"unknown receptionist", func(r *ActionRequest) { r.To = "Daniel" }, ErrBadAction},
		{"nobody", func(r *ActionRequest) { r.To = "" }, ErrBadAction},
		{"receptionist in other case", func(r *ActionRequest) { r.To = "ana" }, ErrBadAction},
		{"no instruction", func(r *ActionRequest) { r.Instruction = "" }, ErrBadAction},
		{"blank instruction", func(r *ActionRequest) { r.Instruction = " \n " }, ErrBadAction},
		{"instruction too long", func(r *ActionRequest) { r.Instruction = long }, ErrBadAction},
		{"no indicator", func(r *ActionRequest) { r.Indicator = Indicator{} }, ErrBadAction},
		{"unknown point", func(r *ActionRequest) { r.Indicator.Point = "cortesia" }, ErrBadAction},
		{"indicator of an unknown receptionist", func(r *ActionRequest) { r.Indicator.Operator = "Zoe" }, ErrBadAction},
		{"no due date", func(r *ActionRequest) { r.DueDate = "" }, ErrBadAction},
		{"due date in the month", func(r *ActionRequest) { r.DueDate = "2026-03-31" }, ErrBadAction},
		{"due date before the month", func(r *ActionRequest) { r.DueDate = "2025-12-01" }, ErrBadAction},
		{"due date not a day", func(r *ActionRequest) { r.DueDate = "2026-04-31" }, ErrBadAction},
		{"due date unpadded", func(r *ActionRequest) { r.DueDate = "2026-4-30" }, ErrBadAction},
		{"due date with a time", func(r *ActionRequest) { r.DueDate = "2026-04-30T12:00" }, ErrBadAction},
		{"due date in words", func(r *ActionRequest) { r.DueDate = "30/04/2026" }, ErrBadAction},
		{"due date padded", func(r *ActionRequest) { r.DueDate = " 2026-04-30" }, ErrBadAction},
		{"report of February not approved", func(r *ActionRequest) { r.Month = "2026-02"; r.DueDate = "2026-03-31" }, ErrNotApproved},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := rvNew(t, ReviewOptions{})
			e.rvTo(t, "2026-03", ReviewApproved)
			req := rvReq()
			tc.edit(&req)
			if _, err := e.r.AddAction(context.Background(), req); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if e.ind.calls != 0 {
				t.Errorf("indicator computed %d times for a refused action", e.ind.calls)
			}
			if all, _ := e.r.Actions(context.Background(), ActionFilter{}); len(all) != 0 {
				t.Errorf("stored %d actions", len(all))
			}
		})
	}
	for _, st := range []ReviewState{ReviewDraft, ReviewSubmitted, ReviewReturned} {
		e := rvNew(t, ReviewOptions{})
		e.rvTo(t, "2026-03", st)
		if _, err := e.r.AddAction(context.Background(), rvReq()); !errors.Is(err, ErrNotApproved) || !strings.Contains(err.Error(), string(st)) {
			t.Errorf("%s: %v, want ErrNotApproved naming the state", st, err)
		}
	}
}

func TestAddAction(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{})
	e.rvTo(t, "2026-02", ReviewApproved)
	e.rvTo(t, "2026-03", ReviewApproved)
	e.ind.v[rvIndKey("2026-03", rvReq().Indicator)] = 25
	e.clock.add(time.Hour)
	a := e.rvAdd(t, rvReq())
	want := Action{
		ID: "2026-03-1", Month: "2026-03", To: "Ana", Instruction: "Saludar con el nombre de la institución.",
		Indicator: rvReq().Indicator, DueDate: "2026-04-30", Status: ActionOpen, CreatedAt: e.clock.now().UTC(), CreatedBy: "jefe",
		Baseline: new(25.0), Assessments: []Assessment{}, Acknowledged: []ActionAck{},
	}
	if fmt.Sprintf("%+v", rvDeref(a)) != fmt.Sprintf("%+v", rvDeref(want)) {
		t.Errorf("action:\n got %+v\nwant %+v", rvDeref(a), rvDeref(want))
	}
	// The next ones: numbered per month; no baseline when the month had
	// no value; everyone; the first day after the month is a due date.
	e.clock.add(time.Minute)
	b := e.rvAdd(t, ActionRequest{Month: "2026-03", By: "jefe", To: ToEveryone, Instruction: "  Contestar antes del cuarto timbre. ",
		Indicator: Indicator{Kind: IndicatorServiceLevelPct}, DueDate: "2026-04-01"})
	e.clock.add(time.Minute)
	c := e.rvAdd(t, ActionRequest{Month: "2026-02", By: "jefe2", To: "Beatriz", Instruction: "x",
		Indicator: Indicator{Kind: IndicatorASASeconds, Operator: "Beatriz"}, DueDate: "2026-03-01"})
	if b.ID != "2026-03-2" || b.Baseline != nil || b.Instruction != "Contestar antes del cuarto timbre." || c.ID != "2026-02-1" {
		t.Errorf("b %+v\nc %+v", b, c)
	}
	got, err := e.r.Action(ctx, "2026-03-2")
	if err != nil || fmt.Sprintf("%+v", rvDeref(got)) != fmt.Sprintf("%+v", rvDeref(b)) {
		t.Errorf("Action: %+v %v", got, err)
	}
	rv, _ := e.r.Get(ctx, "2026-03")
	var added []string
	for _, ev := range rv.History {
		if ev.Action == EventActionAdded {
			added = append(added, ev.Detail+" "+ev.By)
		}
	}
	if !slices.Equal(added, []string{"2026-03-1 jefe", "2026-03-2 jefe"}) || rv.State != ReviewApproved {
		t.Errorf("March history %v (state %s)", added, rv.State)
	}
	for _, id := range []string{"", "2026-03-3", "2026-03", "x"} {
		if _, err := e.r.Action(ctx, id); !errors.Is(err, ErrNoAction) {
			t.Errorf("Action(%q): %v", id, err)
		}
	}
	e.ind.err = errRVStore
	if _, err := e.r.AddAction(ctx, rvReq()); !errors.Is(err, errRVStore) {
		t.Errorf("indicator failing: %v", err)
	}
}

// rvDeref makes an action printable: its pointers by value.
func rvDeref(a Action) string {
	return fmt.Sprintf("%s %s %s %q %+v %s %s %s %s %s base=%s %v %v", a.ID, a.Month, a.To, a.Instruction, a.Indicator, a.DueDate,
		a.Status, a.CreatedAt.Format(time.RFC3339Nano), a.CreatedAt.Location(), a.CreatedBy, rvFloat(a.Baseline), len(a.Assessments), a.Acknowledged)
}

func TestActionsFilter(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{})
	e.rvTo(t, "2026-02", ReviewApproved)
	e.rvTo(t, "2026-03", ReviewApproved)
	add := func(month, to string) string {
		e.clock.add(time.Minute)
		req := rvReq()
		req.Month, req.To, req.DueDate = month, to, "2026-06-30"
		return e.rvAdd(t, req).ID
	}
	// Created out of id order across months: March's first, then February's.
	m1 := add("2026-03", "Ana")
	f1 := add("2026-02", ToEveryone)
	m2 := add("2026-03", "Beatriz")
	f2 := add("2026-02", "Ana")
	if _, err := e.r.Assess(ctx, AssessRequest{ID: f2, Month: "2026-03", By: "jefe", Status: ActionClosed}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    ActionFilter
		want []string
	}{
		{ActionFilter{}, []string{m1, f1, m2, f2}},
		{ActionFilter{Month: "2026-03"}, []string{m1, m2}},
		{ActionFilter{Month: "2026-01"}, []string{}},
		{ActionFilter{To: "Ana"}, []string{m1, f2}},
		{ActionFilter{To: ToEveryone}, []string{f1}},
		{ActionFilter{Operator: "Ana"}, []string{m1, f1, f2}},
		{ActionFilter{Operator: "Beatriz"}, []string{f1, m2}},
		{ActionFilter{Operator: "Carlos"}, []string{f1}},
		{ActionFilter{Status: ActionOpen}, []string{m1, f1, m2}},
		{ActionFilter{Status: ActionClosed, Operator: "Ana"}, []string{f2}},
		{ActionFilter{Month: "2026-02", Operator: "Beatriz", Status: ActionOpen}, []string{f1}},
	}
	for _, tc := range tests {
		got, err := e.r.Actions(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, ids, tc.want)
		}
	}
	if _, err := e.r.Actions(ctx, ActionFilter{Month: "marzo"}); !errors.Is(err, ErrBadMonth) {
		t.Errorf("bad month: %v", err)
	}
}

func TestAssess(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*rvEnv, Action) {
		e := rvNew(t, ReviewOptions{})
		e.rvTo(t, "2026-03", ReviewApproved)
		a := e.rvAdd(t, rvReq())
		e.clock.set(time.Date(2026, 5, 2, 9, 0, 0, 0, rvZone)) // April is over, May begun
		return e, a
	}
	ok := AssessRequest{ID: "2026-03-1", Month: "2026-04", By: "jefe", Status: ActionEffective, Comment: "Mejoró."}
	tests := []struct {
		name string
		edit func(*AssessRequest)
		want error
	}{
		{"unknown action", func(r *AssessRequest) { r.ID = "2026-03-9" }, ErrNoAction},
		{"no author", func(r *AssessRequest) { r.By = "" }, ErrReason},
		{"bad month", func(r *AssessRequest) { r.Month = "abril" }, ErrBadMonth},
		{"the action's month", func(r *AssessRequest) { r.Month = "2026-03" }, ErrBadAction},
		{"an earlier month", func(r *AssessRequest) { r.Month = "2026-02" }, ErrBadAction},
		{"a month not begun", func(r *AssessRequest) { r.Month = "2026-06" }, ErrBadAction},
		{"open is not a judgement", func(r *AssessRequest) { r.Status = ActionOpen }, ErrBadAction},
		{"no status", func(r *AssessRequest) { r.Status = "" }, ErrBadAction},
		{"unknown status", func(r *AssessRequest) { r.Status = "efectiva" }, ErrBadAction},
		{"comment too long", func(r *AssessRequest) { r.Comment = strings.Repeat("x", maxActionText+1) }, ErrBadAction},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := setup(t)
			req := ok
			tc.edit(&req)
			if _, err := e.r.Assess(ctx, req); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if a, _ := e.r.Action(ctx, "2026-03-1"); a.Status != ActionOpen || len(a.Assessments) != 0 {
				t.Errorf("a refused judgement changed the action: %+v", a)
			}
		})
	}
	for _, st := range []ActionStatus{ActionEffective, ActionNotEffective, ActionClosed} {
		t.Run(string(st), func(t *testing.T) {
			e, _ := setup(t)
			e.ind.v[rvIndKey("2026-04", rvReq().Indicator)] = 12.5
			req := ok
			req.Status = st
			a, err := e.r.Assess(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != st || len(a.Assessments) != 1 {
				t.Fatalf("action %+v", a)
			}
			s := a.Assessments[0]
			if !s.At.Equal(e.clock.now()) || s.By != "jefe" || s.Month != "2026-04" || s.Status != st || s.Comment != "Mejoró." || rvFloat(s.Value) != "12.5" {
				t.Errorf("assessment %+v value %s", s, rvFloat(s.Value))
			}
			for _, m := range []string{"2026-03", "2026-04"} {
				rv, _ := e.r.Get(ctx, m)
				last := rv.History[len(rv.History)-1]
				if last.Action != EventActionAssessed || last.Detail != "2026-03-1" || last.By != "jefe" {
					t.Errorf("%s history ends %+v", m, last)
				}
			}
			// Judged once: a second judgement is refused.
			req.Month = "2026-05"
			if _, err := e.r.Assess(ctx, req); !errors.Is(err, ErrState) {
				t.Errorf("second judgement: %v", err)
			}
		})
	}
}

func TestAcknowledgeAction(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{})
	e.rvTo(t, "2026-03", ReviewApproved)
	toAna := e.rvAdd(t, rvReq())
	all := rvReq()
	all.To = ToEveryone
	toAll := e.rvAdd(t, all)
	tests := []struct {
		id, operator, by string
		want             error
	}{
		{toAna.ID, "Beatriz", "beatriz", ErrNotYours},
		{toAll.ID, "Daniel", "daniel", ErrNotYours},
		{toAll.ID, ToEveryone, "ana", ErrNotYours},
		{toAna.ID, "", "ana", ErrReason},
		{toAna.ID, "Ana", "", ErrReason},
		{"2026-03-7", "Ana", "ana", ErrNoAction},
		{toAna.ID, "Ana", "ana", nil},
		{toAna.ID, "Ana", "ana", nil}, // again: nothing new
		{toAll.ID, "Carlos", "carlos", nil},
		{toAll.ID, "Ana", "ana2", nil},
	}
	for _, tc := range tests {
		e.clock.add(time.Minute)
		if _, err := e.r.AcknowledgeAction(ctx, tc.id, tc.operator, tc.by); !errors.Is(err, tc.want) {
			t.Errorf("%s by %s: %v, want %v", tc.id, tc.operator, err, tc.want)
		}
	}
	a, _ := e.r.Action(ctx, toAna.ID)
	b, _ := e.r.Action(ctx, toAll.ID)
	ackOf := func(a Action) (s []string) {
		for _, k := range a.Acknowledged {
			s = append(s, k.Operator+"/"+k.By)
		}
		return s
	}
	if !slices.Equal(ackOf(a), []string{"Ana/ana"}) || !slices.Equal(ackOf(b), []string{"Carlos/carlos", "Ana/ana2"}) {
		t.Errorf("acks %v %v", ackOf(a), ackOf(b))
	}
	rv, _ := e.r.Get(ctx, "2026-03")
	read := 0
	for _, ev := range rv.History {
		if ev.Action == EventActionRead {
			read++
		}
	}
	if read != 3 {
		t.Errorf("%d accion_leida events, want 3", read)
	}
}

func TestFollowUps(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{})
	e.rvTo(t, "2026-03", ReviewApproved)
	sl := Indicator{Kind: IndicatorServiceLevelPct}
	saludo := rvReq().Indicator
	asa := Indicator{Kind: IndicatorASASeconds}
	e.ind.v[rvIndKey("2026-03", sl)] = 80
	e.ind.v[rvIndKey("2026-04", sl)] = 80.1
	e.ind.v[rvIndKey("2026-03", saludo)] = 25
	e.ind.v[rvIndKey("2026-04", saludo)] = 30
	e.ind.v[rvIndKey("2026-05", saludo)] = 20
	e.ind.v[rvIndKey("2026-03", asa)] = 6
	req := func(ind Indicator) ActionRequest {
		r := rvReq()
		r.To, r.Indicator = ToEveryone, ind
		return r
	}
	a1 := e.rvAdd(t, req(sl))
	a2 := e.rvAdd(t, req(saludo))
	a3 := e.rvAdd(t, req(asa))
	a4 := e.rvAdd(t, req(sl)) // same indicator as a1
	a5 := e.rvAdd(t, req(saludo))
	// April: a5 is closed in April, stays in April's follow-up.
	e.clock.set(time.Date(2026, 5, 3, 9, 0, 0, 0, rvZone))
	if _, err := e.r.Assess(ctx, AssessRequest{ID: a5.ID, Month: "2026-04", By: "jefe", Status: ActionClosed}); err != nil {
		t.Fatal(err)
	}
	// An action of April is not followed in April.
	e.rvTo(t, "2026-04", ReviewApproved)
	r6 := req(sl)
	r6.Month, r6.DueDate = "2026-04", "2026-05-31"
	a6 := e.rvAdd(t, r6)

	e.ind.calls = 0
	fus, err := e.r.FollowUps(ctx, "2026-04")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id                           string
		before, after, delta, improv string
	}
	var got []row
	for _, f := range fus {
		imp := "nil"
		if f.Improved != nil {
			imp = fmt.Sprint(*f.Improved)
		}
		got = append(got, row{f.Action.ID, rvFloat(f.Before), rvFloat(f.After), rvFloat(f.Delta), imp})
	}
	want := []row{
		{a1.ID, "80", "80.1", "0.1", "true"}, // service level up: better
		{a2.ID, "25", "30", "5", "false"},    // non-compliance up: worse
		{a3.ID, "6", "nil", "nil", "nil"},    // no value in April
		{a4.ID, "80", "80.1", "0.1", "true"}, // shares a1's computation
		{a5.ID, "25", "30", "5", "false"},    // judged in April
	}
	if !slices.Equal(got, want) {
		t.Errorf("April follow-ups:\n got %v\nwant %v", got, want)
	}
	if e.ind.calls != 3 {
		t.Errorf("indicator computed %d times for 3 distinct indicators", e.ind.calls)
	}
	// May: a5 (closed in April) is gone, a6 (April's) is followed; a2
	// improved.
	fus, err = e.r.FollowUps(ctx, "2026-05")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fus {
		ids = append(ids, f.Action.ID)
		if f.Action.ID == a2.ID && (f.Improved == nil || !*f.Improved || rvFloat(f.Delta) != "-5") {
			t.Errorf("a2 in May: delta %s improved %v", rvFloat(f.Delta), f.Improved)
		}
	}
	if !slices.Equal(ids, []string{a1.ID, a2.ID, a3.ID, a4.ID, a6.ID}) {
		t.Errorf("May follows %v", ids)
	}
	// March follows nothing of its own.
	if fus, err := e.r.FollowUps(ctx, "2026-03"); err != nil || len(fus) != 0 || fus == nil {
		t.Errorf("March: %v %v", fus, err)
	}
	if _, err := e.r.FollowUps(ctx, "2026-4"); !errors.Is(err, ErrBadMonth) {
		t.Errorf("bad month: %v", err)
	}
	e.ind.err = errRVStore
	if _, err := e.r.FollowUps(ctx, "2026-04"); !errors.Is(err, errRVStore) {
		t.Errorf("indicator failing: %v", err)
	}
}

var rvDateRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// FuzzActionRequest feeds AddAction arbitrary requests on an approved
// March: it must never panic, and what it accepts must be valid by rules
// checked here independently.
func FuzzActionRequest(f *testing.F) {
	f.Add("2026-03", "Ana", "Instrucción", IndicatorServiceLevelPct, "", "", "2026-04-30")
	f.Add("2026-03", ToEveryone, "x", IndicatorPointNoCumplePct, PointSaludo, "Ana", "2026-04-01")
	f.Add("2026-03", "Ana", "x", IndicatorPointNoCumplePct, "", "", "2026-03-31")
	f.Add("2026-03", "Ana", "x", IndicatorASASeconds, "", "", "2026-02-29")
	f.Add("2026-03", "Ana", "x", IndicatorAbandonedPct, "", "", "+2026-04-30")
	f.Add("2026-03", "Ana", "x", IndicatorAbandonedPct, "", "", "2026-04-30\n")
	f.Add("2026-03", "Ana", " ", IndicatorAbandonedPct, "", "", "9999-12-31")
	f.Add("2026-02", "Ana", "x", IndicatorAbandonedPct, "", "", "2026-04-30")
	f.Add("2026-13", "Ana", "x", "", "", "", "")
	e := rvNew(f, ReviewOptions{})
	e.rvTo(f, "2026-03", ReviewApproved)
	form := rvForm(f)
	f.Fuzz(func(t *testing.T, month, to, instr, kind, point, op, due string) {
		req := ActionRequest{Month: month, By: "jefe", To: to, Instruction: instr, Indicator: Indicator{Kind: kind, Point: point, Operator: op}, DueDate: due}
		a, err := e.r.AddAction(context.Background(), req)
		if err != nil {
			return
		}
		_, perr := time.Parse(time.DateOnly, due)
		switch {
		case month != "2026-03":
			t.Errorf("accepted on %q, which is not approved", month)
		case !rvDateRE.MatchString(due) || perr != nil:
			t.Errorf("accepted due date %q", due)
		case due[:7] <= month:
			t.Errorf("accepted due date %q not after %s", due, month)
		case strings.TrimSpace(instr) == "":
			t.Errorf("accepted instruction %q", instr)
		case to != ToEveryone && !slices.Contains(rvOperators, to):
			t.Errorf("accepted to %q", to)
		case ValidIndicator(req.Indicator, form, rvOperators) != nil:
			t.Errorf("accepted indicator %+v", req.Indicator)
		case a.Status != ActionOpen || !strings.HasPrefix(a.ID, "2026-03-"):
			t.Errorf("accepted as %+v", a)
		}
	})
}

// BenchmarkFollowUps follows 200 actions of four months, on 8 distinct
// indicators.
func BenchmarkFollowUps(b *testing.B) {
	ctx := context.Background()
	e := rvNew(b, ReviewOptions{})
	months := []string{"2025-11", "2025-12", "2026-01", "2026-02"}
	kinds := []Indicator{
		{Kind: IndicatorServiceLevelPct}, {Kind: IndicatorAbandonedPct}, {Kind: IndicatorASASeconds},
		{Kind: IndicatorPointNoCumplePct, Point: PointSaludo}, {Kind: IndicatorPointNoCumplePct, Point: PointTono},
		{Kind: IndicatorServiceLevelPct, Operator: "Ana"}, {Kind: IndicatorASASeconds, Operator: "Beatriz"},
		{Kind: IndicatorPointNoCumplePct, Point: PointInmediatez, Operator: "Carlos"},
	}
	for _, m := range months {
		e.rvTo(b, m, ReviewApproved)
		for _, k := range kinds {
			e.ind.v[rvIndKey(m, k)] = 50
			e.ind.v[rvIndKey("2026-03", k)] = 40
		}
	}
	for i := range 200 {
		e.rvAdd(b, ActionRequest{Month: months[i%4], By: "jefe", To: ToEveryone, Instruction: fmt.Sprintf("Instrucción %d", i),
			Indicator: kinds[i%len(kinds)], DueDate: "2026-12-31"})
	}
	b.ReportAllocs()
	for b.Loop() {
		fus, err := e.r.FollowUps(ctx, "2026-03")
		if err != nil || len(fus) != 200 {
			b.Fatal(len(fus), err)
		}
	}
}
