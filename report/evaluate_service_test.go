package report

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNewEvaluatorErrors(t *testing.T) {
	f := newEvFixture(t)
	for name, mk := range map[string]func() (*Evaluator, error){
		"no calls":     func() (*Evaluator, error) { return NewEvaluator(nil, f.samples, f.kv, nil, 4, nil) },
		"no samples":   func() (*Evaluator, error) { return NewEvaluator(f.calls, nil, f.kv, nil, 4, nil) },
		"no kv":        func() (*Evaluator, error) { return NewEvaluator(f.calls, f.samples, nil, nil, 4, nil) },
		"no max rings": func() (*Evaluator, error) { return NewEvaluator(f.calls, f.samples, f.kv, nil, 0, nil) },
	} {
		if _, err := mk(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A nil lock and a nil logger are fine.
	e, err := NewEvaluator(f.calls, f.samples, f.kv, nil, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Open(context.Background(), evMonth, "r-a1", "tecnico"); err != nil {
		t.Fatal(err)
	}
}

func TestEvaluatorOpenDraft(t *testing.T) {
	f := newEvFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		id, op  string
		inm     Verdict
		facts   EvalFacts
		hasXfer bool
	}{
		{"r-a1", "Ana", VerdictCumple, EvalFacts{
			InviteAt: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC), Rings: 2, RingSeconds: 6.5, WithinLimit: true, MaxRings: 4,
			Transfer: &TransferFacts{Kind: "blind", Target: "2003", Result: "200"}, RecordingSeconds: 120,
		}, true},
		{"r-a2", "Ana", VerdictNoCumple, EvalFacts{
			InviteAt: time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC), Rings: 6, RingSeconds: 31, WithinLimit: false, MaxRings: 4,
			RecordingSeconds: 60,
		}, false},
		{"r-b3", "Beto", VerdictCumple, EvalFacts{
			InviteAt: time.Date(2026, 3, 2, 19, 0, 0, 0, time.UTC), Rings: 3, RingSeconds: 13, WithinLimit: true, MaxRings: 4,
			RecordingSeconds: 45,
		}, false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			e, err := f.ev.Open(ctx, evMonth, tc.id, "tecnico")
			if err != nil {
				t.Fatal(err)
			}
			if e.Month != evMonth || e.ID != tc.id || e.Operator != tc.op || e.Form != FormAnexo1V1 ||
				e.Status != EvalDraft || e.Revision != 0 || len(e.Revisions) != 0 || e.Ack != nil ||
				e.CreatedBy != "tecnico" || e.UpdatedBy != "tecnico" || e.CreatedAt.IsZero() || e.CreatedAt.Location() != time.UTC {
				t.Errorf("draft %+v", e)
			}
			if !reflect.DeepEqual(e.Facts, tc.facts) {
				t.Errorf("facts %+v, want %+v", e.Facts, tc.facts)
			}
			want := []string{"inmediatez", "saludo", "tono", "concision", "paciencia", "traslado", "amabilidad"}
			if len(e.Answers) != len(want) {
				t.Fatalf("%d answers", len(e.Answers))
			}
			for i, a := range e.Answers {
				wantV := VerdictPending
				if i == 0 {
					wantV = tc.inm
				}
				if a.Point != want[i] || a.Verdict != wantV || a.Observation != "" || a.AtSeconds != nil {
					t.Errorf("answer %d = %+v, want %s %q", i, a, want[i], wantV)
				}
			}
			// Stored under eval/<month>/<id> as JSON.
			val, ok, _ := f.kv.Get(ctx, []byte("eval/2026-03/"+tc.id))
			var stored Evaluation
			if !ok || json.Unmarshal(val, &stored) != nil || !reflect.DeepEqual(stored, e) {
				t.Errorf("stored %s, want the draft", val)
			}
		})
	}
	// Opening again returns the evaluation as it stands.
	if _, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-a1", By: "otro",
		Answers: []Answer{{Point: PointSaludo, Verdict: VerdictCumple}}}); err != nil {
		t.Fatal(err)
	}
	e, err := f.ev.Open(ctx, evMonth, "r-a1", "otro")
	if err != nil {
		t.Fatal(err)
	}
	if e.CreatedBy != "tecnico" || e.UpdatedBy != "otro" || evAnswer(t, e, PointSaludo).Verdict != VerdictCumple {
		t.Errorf("reopened %+v", e)
	}
}

func TestEvaluatorOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, month, id, by string
		setup               func(*evFixture)
		want                error
	}{
		{"not sampled", evMonth, "r-zz", "tecnico", nil, ErrNotSampled},
		{"replaced", evMonth, "r-b2", "tecnico", nil, ErrNotSampled},
		{"no sample", "2026-02", "r-a1", "tecnico", nil, ErrNoSample},
		{"bad month", "2026-3", "r-a1", "tecnico", nil, ErrBadMonth},
		{"month with a slash", "2026-03/x", "r-a1", "tecnico", nil, ErrBadMonth},
		{"no author", evMonth, "r-a1", "", nil, ErrReason},
		{"empty id", evMonth, "", "tecnico", nil, ErrNotSampled},
		{"locked", evMonth, "r-a1", "tecnico", func(f *evFixture) { f.lock.set(evMonth, true) }, ErrLocked},
		{"lock fails", evMonth, "r-a1", "tecnico", func(f *evFixture) { f.lock.err = errEvNoCall }, errEvNoCall},
		{"record missing", evMonth, "r-a1", "tecnico", func(f *evFixture) { delete(f.calls, "r-a1") }, errEvNoCall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newEvFixture(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			_, err := f.ev.Open(ctx, tc.month, tc.id, tc.by)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if n := len(f.kv.m); n != 0 {
				t.Errorf("%d keys stored after a failed open", n)
			}
		})
	}
}

func TestEvaluatorGetCorrupt(t *testing.T) {
	f := newEvFixture(t)
	ctx := context.Background()
	if _, err := f.ev.Get(ctx, evMonth, "r-a1"); !errors.Is(err, ErrNoEvaluation) {
		t.Fatalf("get before open: %v", err)
	}
	_ = f.kv.Set(ctx, evalKey(evMonth, "r-a1"), []byte("{not json"))
	if _, err := f.ev.Get(ctx, evMonth, "r-a1"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("get: %v, want ErrCorrupt", err)
	}
	if _, err := f.ev.List(ctx, evMonth); !errors.Is(err, ErrCorrupt) {
		t.Errorf("list: %v, want ErrCorrupt", err)
	}
	if _, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-a1", By: "t"}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("save: %v, want ErrCorrupt", err)
	}
	// An evaluation naming a form this build lacks cannot be changed.
	_ = f.kv.Set(ctx, evalKey(evMonth, "r-a1"), []byte(`{"month":"2026-03","id":"r-a1","form":"anexo9","status":"draft"}`))
	if _, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-a1", By: "t"}); !errors.Is(err, ErrUnknownForm) {
		t.Errorf("save: %v, want ErrUnknownForm", err)
	}
}

func TestEvaluatorSaveDraft(t *testing.T) {
	long := strings.Repeat("ñ", MaxObservation)
	for _, tc := range []struct {
		name string
		// steps are saved in order; the last one's error is checked.
		steps [][]Answer
		want  error
		// check runs on the evaluation after the last step.
		check func(t *testing.T, e Evaluation)
	}{
		{name: "partial answers merge by point", steps: [][]Answer{
			{{Point: PointSaludo, Verdict: VerdictCumple, Observation: "se identificó"}},
			{{Point: PointTono, Verdict: VerdictNoCumple, AtSeconds: evF(12.5)}},
			{{Point: PointSaludo, Verdict: VerdictNoAplica}},
		}, check: func(t *testing.T, e Evaluation) {
			if a := evAnswer(t, e, PointSaludo); a.Verdict != VerdictNoAplica || a.Observation != "" {
				t.Errorf("saludo %+v: the later answer replaces the earlier whole", a)
			}
			if a := evAnswer(t, e, PointTono); a.Verdict != VerdictNoCumple || a.AtSeconds == nil || *a.AtSeconds != 12.5 {
				t.Errorf("tono %+v", a)
			}
			if a := evAnswer(t, e, PointConcision); a.Verdict != VerdictPending {
				t.Errorf("concision %+v", a)
			}
		}},
		{name: "inmediatez keeps the measured verdict", steps: [][]Answer{
			{{Point: PointInmediatez, Verdict: VerdictNoCumple, Observation: "tardó en saludar", AtSeconds: evF(3)}},
		}, check: func(t *testing.T, e Evaluation) {
			a := evAnswer(t, e, PointInmediatez)
			if a.Verdict != VerdictCumple || a.Observation != "tardó en saludar" || a.AtSeconds == nil || *a.AtSeconds != 3 {
				t.Errorf("inmediatez %+v", a)
			}
		}},
		{name: "inmediatez cannot be cleared", steps: [][]Answer{
			{{Point: PointInmediatez, Verdict: VerdictPending}},
		}, check: func(t *testing.T, e Evaluation) {
			if a := evAnswer(t, e, PointInmediatez); a.Verdict != VerdictCumple {
				t.Errorf("inmediatez %+v", a)
			}
		}},
		{name: "a pending verdict clears a point", steps: [][]Answer{
			{{Point: PointPaciencia, Verdict: VerdictCumple}},
			{{Point: PointPaciencia, Verdict: VerdictPending, Observation: "volver a escuchar"}},
		}, check: func(t *testing.T, e Evaluation) {
			if a := evAnswer(t, e, PointPaciencia); a.Verdict != VerdictPending || a.Observation != "volver a escuchar" {
				t.Errorf("paciencia %+v", a)
			}
		}},
		{name: "moment at the recording's end plus the slack", steps: [][]Answer{
			{{Point: PointTono, Verdict: VerdictCumple, AtSeconds: evF(121)}},
			{{Point: PointSaludo, Verdict: VerdictCumple, AtSeconds: evF(0)}},
		}},
		{name: "observation of the longest length", steps: [][]Answer{
			{{Point: PointTono, Verdict: VerdictCumple, Observation: long}},
		}},
		{name: "empty request", steps: [][]Answer{nil}},
		{name: "unknown point", steps: [][]Answer{{{Point: "cortesia", Verdict: VerdictCumple}}}, want: ErrBadAnswer},
		{name: "empty point", steps: [][]Answer{{{Verdict: VerdictCumple}}}, want: ErrBadAnswer},
		{name: "unknown verdict", steps: [][]Answer{{{Point: PointTono, Verdict: "si"}}}, want: ErrBadAnswer},
		{name: "verdict in capitals", steps: [][]Answer{{{Point: PointTono, Verdict: "Cumple"}}}, want: ErrBadAnswer},
		{name: "point twice", steps: [][]Answer{{
			{Point: PointTono, Verdict: VerdictCumple}, {Point: PointTono, Verdict: VerdictNoCumple},
		}}, want: ErrBadAnswer},
		{name: "negative moment", steps: [][]Answer{{{Point: PointTono, Verdict: VerdictCumple, AtSeconds: evF(-0.5)}}}, want: ErrBadAnswer},
		{name: "moment past the end", steps: [][]Answer{{{Point: PointTono, Verdict: VerdictCumple, AtSeconds: evF(121.01)}}}, want: ErrBadAnswer},
		{name: "observation too long", steps: [][]Answer{{{Point: PointTono, Verdict: VerdictCumple, Observation: long + "x"}}}, want: ErrBadAnswer},
		{name: "observation not UTF-8", steps: [][]Answer{{{Point: PointTono, Verdict: VerdictCumple, Observation: "\xff"}}}, want: ErrBadAnswer},
		{name: "a bad answer stores nothing of the request", steps: [][]Answer{
			{{Point: PointTono, Verdict: VerdictCumple}},
			{{Point: PointSaludo, Verdict: VerdictCumple}, {Point: "x", Verdict: VerdictCumple}},
		}, want: ErrBadAnswer, check: func(t *testing.T, e Evaluation) {
			if evAnswer(t, e, PointSaludo).Verdict != VerdictPending || evAnswer(t, e, PointTono).Verdict != VerdictCumple {
				t.Errorf("answers %+v", e.Answers)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newEvFixture(t)
			ctx := context.Background()
			if _, err := f.ev.Open(ctx, evMonth, "r-a1", "tecnico"); err != nil {
				t.Fatal(err)
			}
			var err error
			for i, as := range tc.steps {
				_, err = f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-a1", By: "tecnico", Answers: as})
				if i < len(tc.steps)-1 && err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			e, gerr := f.ev.Get(ctx, evMonth, "r-a1")
			if gerr != nil {
				t.Fatal(gerr)
			}
			if e.Status != EvalDraft || len(e.Answers) != 7 {
				t.Errorf("evaluation %+v", e)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

func TestEvaluatorSaveDraftStates(t *testing.T) {
	ctx := context.Background()
	save := func(f *evFixture, id string) error {
		_, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: id, By: "tecnico",
			Answers: []Answer{{Point: PointTono, Verdict: VerdictCumple}}})
		return err
	}
	f := newEvFixture(t)
	if err := save(f, "r-a1"); !errors.Is(err, ErrNoEvaluation) {
		t.Errorf("before open: %v", err)
	}
	if _, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-a1"}); !errors.Is(err, ErrReason) {
		t.Errorf("no author: %v", err)
	}
	f.evSubmitted(t, "r-a1", evComplete(VerdictCumple))
	if err := save(f, "r-a1"); !errors.Is(err, ErrSubmitted) {
		t.Errorf("submitted: %v", err)
	}
	if _, err := f.ev.Open(ctx, evMonth, "r-b1", "tecnico"); err != nil {
		t.Fatal(err)
	}
	f.lock.set(evMonth, true)
	if err := save(f, "r-b1"); !errors.Is(err, ErrLocked) {
		t.Errorf("locked: %v", err)
	}
	f.lock.set(evMonth, false)
	if err := save(f, "r-b1"); err != nil {
		t.Errorf("unlocked again: %v", err)
	}
}

func TestEvaluatorSubmit(t *testing.T) {
	f := newEvFixture(t)
	ctx := context.Background()
	if _, err := f.ev.Open(ctx, evMonth, "r-a2", "tecnico"); err != nil {
		t.Fatal(err)
	}
	_, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-a2", By: "tecnico", Answers: []Answer{
		{Point: PointSaludo, Verdict: VerdictCumple}, {Point: PointPaciencia, Verdict: VerdictNoAplica},
		{Point: PointTraslado, Verdict: VerdictCumple},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.ev.Submit(ctx, evMonth, "r-a2", "tecnico")
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "tono, concision, amabilidad") {
		t.Fatalf("incomplete submit: %v", err)
	}
	if e, _ := f.ev.Get(ctx, evMonth, "r-a2"); e.Status != EvalDraft || e.Revision != 0 {
		t.Fatalf("after a refused submit %+v", e)
	}
	rest := []Answer{{Point: PointTono, Verdict: VerdictNoCumple, Observation: "voz apresurada"},
		{Point: PointConcision, Verdict: VerdictCumple}, {Point: PointAmabilidad, Verdict: VerdictCumple}}
	if _, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-a2", By: "tecnico", Answers: rest}); err != nil {
		t.Fatal(err)
	}
	f.lock.set(evMonth, true)
	if _, err := f.ev.Submit(ctx, evMonth, "r-a2", "tecnico"); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked submit: %v", err)
	}
	f.lock.set(evMonth, false)
	e, err := f.ev.Submit(ctx, evMonth, "r-a2", "jefa")
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != EvalSubmitted || e.Revision != 1 || len(e.Revisions) != 1 || e.UpdatedBy != "jefa" {
		t.Fatalf("submitted %+v", e)
	}
	r := e.Revisions[0]
	if r.N != 1 || r.By != "jefa" || r.Reason != "" || r.Dispute || !r.At.Equal(e.UpdatedAt) || !reflect.DeepEqual(r.Answers, e.Answers) {
		t.Errorf("revision 1 %+v", r)
	}
	if evAnswer(t, e, PointInmediatez).Verdict != VerdictNoCumple || evAnswer(t, e, PointTono).Observation != "voz apresurada" {
		t.Errorf("answers %+v", e.Answers)
	}
	if _, err := f.ev.Submit(ctx, evMonth, "r-a2", "tecnico"); !errors.Is(err, ErrSubmitted) {
		t.Errorf("second submit: %v", err)
	}
	// A call replaced after its draft was opened cannot be submitted.
	if _, err := f.ev.Open(ctx, evMonth, "r-b1", "tecnico"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-b1", By: "t", Answers: evComplete(VerdictCumple)}); err != nil {
		t.Fatal(err)
	}
	f.samples.replace(evMonth, "r-b1")
	if _, err := f.ev.Submit(ctx, evMonth, "r-b1", "tecnico"); !errors.Is(err, ErrNotSampled) {
		t.Errorf("replaced submit: %v", err)
	}
	if _, err := f.ev.Submit(ctx, evMonth, "r-b3", "tecnico"); !errors.Is(err, ErrNoEvaluation) {
		t.Errorf("submit without a draft: %v", err)
	}
}

func TestEvaluatorRevise(t *testing.T) {
	ctx := context.Background()
	changed := evComplete(VerdictCumple)
	changed[1] = Answer{Point: PointTono, Verdict: VerdictNoCumple, Observation: "tono brusco", AtSeconds: evF(40)}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, f *evFixture)
		req   ReviseRequest
		want  error
	}{
		{name: "draft", setup: func(t *testing.T, f *evFixture) {
			_, _ = f.ev.Open(ctx, evMonth, "r-a1", "tecnico")
		}, req: ReviseRequest{Reason: "r", Answers: changed}, want: ErrNotSubmitted},
		{name: "no evaluation", req: ReviseRequest{Reason: "r", Answers: changed}, want: ErrNoEvaluation},
		{name: "no reason", req: ReviseRequest{Answers: changed}, want: ErrReason},
		{name: "locked", setup: func(t *testing.T, f *evFixture) { f.lock.set(evMonth, true) },
			req: ReviseRequest{Reason: "r", Answers: changed}, want: ErrLocked},
		{name: "incomplete", req: ReviseRequest{Reason: "r", Answers: changed[:4]}, want: ErrIncomplete},
		{name: "pending verdict", req: ReviseRequest{Reason: "r", Answers: append(append([]Answer{}, changed[:5]...),
			Answer{Point: PointAmabilidad})}, want: ErrIncomplete},
		{name: "bad answer", req: ReviseRequest{Reason: "r", Answers: append(append([]Answer{}, changed...),
			Answer{Point: "x", Verdict: VerdictCumple})}, want: ErrBadAnswer},
		{name: "moment past the end", req: ReviseRequest{Reason: "r", Answers: append(append([]Answer{}, changed[:5]...),
			Answer{Point: PointAmabilidad, Verdict: VerdictCumple, AtSeconds: evF(500)})}, want: ErrBadAnswer},
		{name: "revised", req: ReviseRequest{Reason: "se escuchó de nuevo", Answers: changed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newEvFixture(t)
			if tc.name != "draft" && tc.name != "no evaluation" {
				f.evSubmitted(t, "r-a1", append(evComplete(VerdictCumple),
					Answer{Point: PointInmediatez, Verdict: VerdictNoAplica, Observation: "contestó rápido"}))
			}
			if tc.setup != nil {
				tc.setup(t, f)
			}
			before, _ := f.ev.Get(ctx, evMonth, "r-a1")
			req := tc.req
			req.Month, req.ID, req.By = evMonth, "r-a1", "jefa"
			e, err := f.ev.Revise(ctx, req)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err != nil {
				if after, _ := f.ev.Get(ctx, evMonth, "r-a1"); !reflect.DeepEqual(after, before) {
					t.Errorf("a refused revision changed the evaluation")
				}
				return
			}
			if e.Revision != 2 || len(e.Revisions) != 2 || e.Status != EvalSubmitted {
				t.Fatalf("revised %+v", e)
			}
			r := e.Revisions[1]
			if r.N != 2 || r.By != "jefa" || r.Reason != "se escuchó de nuevo" || r.Dispute || !reflect.DeepEqual(r.Answers, e.Answers) {
				t.Errorf("revision 2 %+v", r)
			}
			if !reflect.DeepEqual(e.Revisions[0], before.Revisions[0]) {
				t.Errorf("revision 1 changed: %+v", e.Revisions[0])
			}
			// Inmediatez was not named: it keeps its observation and the
			// measured verdict.
			if a := evAnswer(t, e, PointInmediatez); a.Verdict != VerdictCumple || a.Observation != "contestó rápido" {
				t.Errorf("inmediatez %+v", a)
			}
			if a := evAnswer(t, e, PointTono); a.Verdict != VerdictNoCumple || *a.AtSeconds != 40 {
				t.Errorf("tono %+v", a)
			}
		})
	}
}

func TestEvaluatorReviseAck(t *testing.T) {
	ctx := context.Background()
	f := newEvFixture(t)
	f.evSubmitted(t, "r-a1", evComplete(VerdictCumple))
	f.evSubmitted(t, "r-b1", evComplete(VerdictCumple))
	if _, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-a1", By: "ana", Operator: "Ana"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-b1", By: "beto", Operator: "Beto", Dispute: true, Comment: "sí saludé"}); err != nil {
		t.Fatal(err)
	}
	rev := func(id string) Evaluation {
		e, err := f.ev.Revise(ctx, ReviseRequest{Month: evMonth, ID: id, By: "tecnico", Reason: "corrección", Answers: evComplete(VerdictNoAplica)})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// The acknowledgement was of revision 1: the receptionist must
	// acknowledge revision 2.
	if e := rev("r-a1"); e.Ack != nil || len(e.AckHistory) != 1 || e.AckHistory[0].State != AckAcknowledged || e.AckHistory[0].Revision != 1 {
		t.Errorf("after revision: ack %+v, history %+v; want none, and revision 1's acknowledgement kept", e.Ack, e.AckHistory)
	}
	e, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-a1", By: "ana", Operator: "Ana"})
	if err != nil || e.Ack == nil || e.Ack.Revision != 2 {
		t.Errorf("ack of revision 2: %+v, %v", e.Ack, err)
	}
	// A dispute stands until it is resolved.
	if e := rev("r-b1"); e.Ack == nil || e.Ack.State != AckDisputed || e.Ack.Revision != 1 {
		t.Errorf("dispute after revision %+v", e.Ack)
	}
}

func TestEvaluatorAcknowledge(t *testing.T) {
	ctx := context.Background()
	f := newEvFixture(t)
	if _, err := f.ev.Open(ctx, evMonth, "r-a2", "tecnico"); err != nil {
		t.Fatal(err)
	}
	f.evSubmitted(t, "r-a1", evComplete(VerdictCumple))
	f.evSubmitted(t, "r-b1", evComplete(VerdictCumple))
	for _, tc := range []struct {
		name string
		req  AckRequest
		want error
	}{
		{"draft", AckRequest{ID: "r-a2", By: "ana", Operator: "Ana"}, ErrNotSubmitted},
		{"not theirs", AckRequest{ID: "r-a1", By: "beto", Operator: "Beto"}, ErrNotYours},
		{"no operator", AckRequest{ID: "r-a1", By: "ana"}, ErrNotYours},
		{"dispute without a comment", AckRequest{ID: "r-a1", By: "ana", Operator: "Ana", Dispute: true}, ErrReason},
		{"no author", AckRequest{ID: "r-a1", Operator: "Ana"}, ErrReason},
		{"no evaluation", AckRequest{ID: "r-b3", By: "beto", Operator: "Beto"}, ErrNoEvaluation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Month = evMonth
			if _, err := f.ev.Acknowledge(ctx, req); !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
	// Allowed on a locked month.
	f.lock.set(evMonth, true)
	e, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-a1", By: "ana", Operator: "Ana", Comment: "de acuerdo"})
	if err != nil {
		t.Fatal(err)
	}
	a := e.Ack
	if a == nil || a.State != AckAcknowledged || a.By != "ana" || a.Revision != 1 || a.Comment != "de acuerdo" || !a.At.Equal(e.UpdatedAt) {
		t.Fatalf("ack %+v", a)
	}
	// Answered once: a second acknowledgement or a dispute after it
	// leaves the first.
	for _, dispute := range []bool{false, true} {
		e2, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-a1", By: "ana", Operator: "Ana", Dispute: dispute, Comment: "otra"})
		if err != nil || !reflect.DeepEqual(e2, e) {
			t.Errorf("second answer (dispute %v) changed it: %+v, %v", dispute, e2.Ack, err)
		}
	}
	d, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-b1", By: "beto", Operator: "Beto", Dispute: true, Comment: "sí me despedí"})
	if err != nil || d.Ack.State != AckDisputed || d.Ack.Comment != "sí me despedí" {
		t.Fatalf("dispute %+v, %v", d.Ack, err)
	}
	d2, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-b1", By: "beto", Operator: "Beto"})
	if err != nil || d2.Ack.State != AckDisputed {
		t.Errorf("an acknowledgement replaced an unresolved dispute: %+v, %v", d2.Ack, err)
	}
}

func TestEvaluatorResolve(t *testing.T) {
	ctx := context.Background()
	fixed := evComplete(VerdictCumple)
	for _, tc := range []struct {
		name    string
		dispute bool
		req     ResolveRequest
		want    error
		changed bool
	}{
		{name: "not disputed", req: ResolveRequest{Resolution: "r"}, want: ErrNoDispute},
		{name: "no resolution", dispute: true, req: ResolveRequest{}, want: ErrReason},
		{name: "incomplete answers", dispute: true, req: ResolveRequest{Resolution: "r", Answers: fixed[:2]}, want: ErrIncomplete},
		{name: "bad answers", dispute: true, req: ResolveRequest{Resolution: "r", Answers: append(append([]Answer{}, fixed...), fixed[0])}, want: ErrBadAnswer},
		{name: "stands", dispute: true, req: ResolveRequest{Resolution: "se escuchó: no se despidió"}},
		{name: "changed", dispute: true, req: ResolveRequest{Resolution: "tiene razón", Answers: fixed}, changed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newEvFixture(t)
			as := evComplete(VerdictCumple)
			as[5].Verdict = VerdictNoCumple // amabilidad
			f.evSubmitted(t, "r-b1", as)
			if tc.dispute {
				if _, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-b1", By: "beto", Operator: "Beto", Dispute: true, Comment: "sí me despedí"}); err != nil {
					t.Fatal(err)
				}
			}
			// Resolving is allowed on a locked month.
			f.lock.set(evMonth, true)
			req := tc.req
			req.Month, req.ID, req.By = evMonth, "r-b1", "jefa"
			e, err := f.ev.Resolve(ctx, req)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			a := e.Ack
			if a.State != AckResolved || a.ResolvedBy != "jefa" || a.Resolution != req.Resolution || a.ResolvedAt == nil ||
				!a.ResolvedAt.Equal(e.UpdatedAt) || a.Comment != "sí me despedí" || a.Revision != 1 || a.Changed != tc.changed {
				t.Errorf("ack %+v", a)
			}
			if !tc.changed {
				if e.Revision != 1 || evAnswer(t, e, PointAmabilidad).Verdict != VerdictNoCumple {
					t.Errorf("a resolution without answers changed them: %+v", e)
				}
				// Nothing new to acknowledge.
				if e2, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-b1", By: "beto", Operator: "Beto"}); err != nil || e2.Ack.State != AckResolved {
					t.Errorf("ack after an unchanged resolution %+v, %v", e2.Ack, err)
				}
				return
			}
			if e.Revision != 2 || len(e.Revisions) != 2 {
				t.Fatalf("revisions %+v", e.Revisions)
			}
			r := e.Revisions[1]
			if !r.Dispute || r.Reason != "tiene razón" || r.By != "jefa" || evAnswer(t, e, PointAmabilidad).Verdict != VerdictCumple {
				t.Errorf("revision %+v", r)
			}
			// Disputing again needs a new dispute: resolving twice is not.
			if _, err := f.ev.Resolve(ctx, req); !errors.Is(err, ErrNoDispute) {
				t.Errorf("second resolve: %v", err)
			}
			// The receptionist answers the new revision.
			e2, err := f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-b1", By: "beto", Operator: "Beto"})
			if err != nil || e2.Ack.State != AckAcknowledged || e2.Ack.Revision != 2 {
				t.Errorf("ack of the resolution's revision %+v, %v", e2.Ack, err)
			}
		})
	}
}

func TestEvaluatorListPending(t *testing.T) {
	ctx := context.Background()
	f := newEvFixture(t)
	n, err := f.ev.Pending(ctx, evMonth)
	if err != nil || n != 4 { // r-a1, r-a2, r-b1, r-b3; r-b2 is replaced
		t.Fatalf("pending %d, %v, want 4", n, err)
	}
	f.evSubmitted(t, "r-b3", evComplete(VerdictCumple))
	f.evSubmitted(t, "r-a2", evComplete(VerdictCumple))
	if _, err := f.ev.Open(ctx, evMonth, "r-a1", "tecnico"); err != nil {
		t.Fatal(err)
	}
	// A stored evaluation of another month is not listed.
	_ = f.kv.Set(ctx, evalKey("2026-04", "r-x"), []byte(`{"month":"2026-04","id":"r-x","operator":"Aaron"}`))
	n, err = f.ev.Pending(ctx, evMonth)
	if err != nil || n != 2 { // r-a1 is a draft, r-b1 not opened
		t.Fatalf("pending %d, %v, want 2", n, err)
	}
	l, err := f.ev.List(ctx, evMonth)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range l {
		got = append(got, e.Operator+"/"+e.ID)
	}
	if want := []string{"Ana/r-a1", "Ana/r-a2", "Beto/r-b3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("list %v, want %v", got, want)
	}
	if l, err := f.ev.List(ctx, "2026-05"); err != nil || l == nil || len(l) != 0 {
		t.Errorf("empty month: %v, %v (want an empty list)", l, err)
	}
	if _, err := f.ev.Pending(ctx, "2026-05"); !errors.Is(err, ErrNoSample) {
		t.Errorf("pending without a sample: %v", err)
	}
	if _, err := f.ev.List(ctx, "marzo"); !errors.Is(err, ErrBadMonth) {
		t.Errorf("bad month: %v", err)
	}
}

// TestEvaluatorConcurrentSaves saves many partial drafts of one evaluation
// at once (run with -race): each writer names its own point, so every
// point must end answered; a lost update would leave one pending.
func TestEvaluatorConcurrentSaves(t *testing.T) {
	ctx := context.Background()
	f := newEvFixture(t)
	if _, err := f.ev.Open(ctx, evMonth, "r-a1", "tecnico"); err != nil {
		t.Fatal(err)
	}
	points := []string{PointSaludo, PointTono, PointConcision, PointPaciencia, PointTraslado, PointAmabilidad}
	const perPoint = 20
	errs := make(chan error, len(points)*perPoint)
	start := make(chan struct{})
	done := make(chan struct{})
	for _, p := range points {
		for i := range perPoint {
			go func() {
				<-start
				_, err := f.ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-a1", By: "tecnico",
					Answers: []Answer{{Point: p, Verdict: VerdictCumple, Observation: p + string(rune('a'+i))}}})
				errs <- err
				done <- struct{}{}
			}()
		}
	}
	close(start)
	for range len(points) * perPoint {
		<-done
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	e, err := f.ev.Get(ctx, evMonth, "r-a1")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points {
		if a := evAnswer(t, e, p); a.Verdict != VerdictCumple || !strings.HasPrefix(a.Observation, p) {
			t.Errorf("%s lost: %+v", p, a)
		}
	}
	if _, err := f.ev.Submit(ctx, evMonth, "r-a1", "tecnico"); err != nil {
		t.Error(err)
	}
}

// evValid is the test's own statement of a valid draft request, written
// from the rules (not from checkAnswers): known points, each once, a
// verdict of the four, a moment within 0…121 s and an observation of at
// most 2,000 characters of valid UTF-8.
func evValid(as []Answer) bool {
	known := map[string]bool{"inmediatez": true, "saludo": true, "tono": true, "concision": true,
		"paciencia": true, "traslado": true, "amabilidad": true}
	seen := map[string]bool{}
	for _, a := range as {
		if !known[a.Point] || seen[a.Point] {
			return false
		}
		seen[a.Point] = true
		if a.Verdict != "" && a.Verdict != "cumple" && a.Verdict != "no_cumple" && a.Verdict != "no_aplica" {
			return false
		}
		if a.AtSeconds != nil && !(*a.AtSeconds >= 0 && *a.AtSeconds <= 121) {
			return false
		}
		if len([]rune(a.Observation)) > 2000 || strings.ToValidUTF8(a.Observation, "\uFFFD") != a.Observation {
			return false
		}
	}
	return true
}

// FuzzSaveDraftAnswers feeds the JSON of a request's answers, as the API
// decodes it, to SaveDraft: it must never panic, must refuse exactly the
// invalid requests with ErrBadAnswer, and an accepted one must leave one
// answer per point with the measured inmediatez.
func FuzzSaveDraftAnswers(f *testing.F) {
	for _, s := range []string{
		`[]`, `null`,
		`[{"point":"saludo","verdict":"cumple","observation":"bien","at_seconds":3.5}]`,
		`[{"point":"inmediatez","verdict":"no_aplica","observation":"x"}]`,
		`[{"point":"tono","verdict":"no_cumple"},{"point":"tono","verdict":"cumple"}]`,
		`[{"point":"tono","verdict":"quizá"}]`,
		`[{"point":"tono","verdict":"cumple","at_seconds":-1}]`,
		`[{"point":"tono","verdict":"cumple","at_seconds":1e308}]`,
		`[{"point":"tono","verdict":"cumple","at_seconds":121}]`,
		`[{"point":"","verdict":""}]`,
		`[{"point":"amabilidad","observation":"\ud800"}]`,
	} {
		f.Add([]byte(s))
	}
	ctx := context.Background()
	fx := newEvFixture(f)
	ev, err := NewEvaluator(fx.calls, fx.samples, fx.kv, nil, 4, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := ev.Open(ctx, evMonth, "r-a1", "tecnico"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var as []Answer
		if json.Unmarshal(b, &as) != nil {
			return
		}
		e, err := ev.SaveDraft(ctx, DraftRequest{Month: evMonth, ID: "r-a1", By: "tecnico", Answers: as})
		valid := evValid(as)
		if err != nil {
			if !errors.Is(err, ErrBadAnswer) {
				t.Fatalf("error %v is not ErrBadAnswer", err)
			}
			if valid {
				t.Fatalf("valid answers %s refused: %v", b, err)
			}
			return
		}
		if !valid {
			t.Fatalf("invalid answers %s accepted", b)
		}
		if len(e.Answers) != 7 || e.Answers[0].Point != PointInmediatez || e.Answers[0].Verdict != VerdictCumple {
			t.Fatalf("answers %+v", e.Answers)
		}
	})
}

func BenchmarkSaveDraft(b *testing.B) {
	ctx := context.Background()
	f := newEvFixture(b)
	if _, err := f.ev.Open(ctx, evMonth, "r-a1", "tecnico"); err != nil {
		b.Fatal(err)
	}
	req := DraftRequest{Month: evMonth, ID: "r-a1", By: "tecnico", Answers: []Answer{
		{Point: PointSaludo, Verdict: VerdictCumple, Observation: "se identificó con nombre y unidad", AtSeconds: evF(1.5)},
		{Point: PointTono, Verdict: VerdictNoCumple, Observation: "habló muy rápido"},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.ev.SaveDraft(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
