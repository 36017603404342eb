package report

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

// docFixture is the whole procedure over a real store: March 2026 of
// smpStore, its sample, evaluations, review and actions.
type docFixture struct {
	st    *storage.Store
	smp   *Sampler
	ev    *Evaluator
	rv    *Reviewer
	src   DocumentSources
	clock time.Time
}

func newDocFixture(t *testing.T) *docFixture {
	t.Helper()
	f := &docFixture{st: smpStore(t), clock: time.Date(2026, 4, 2, 15, 0, 0, 0, time.UTC)}
	now := func() time.Time { return f.clock }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.smp = smpSampler(t, f.st, SampleOptions{})
	kv := f.st.KV("report")
	f.src = DocumentSources{
		Calls:    f.st,
		Figures:  FiguresOptions{Location: smpZone, Receptionists: []string{"Ana", "Beatriz", "Carlos", "Dora"}},
		MaxRings: 4,
		Samples:  f.smp,
		Office:   "Oficina central",
		Now:      now,
	}
	var err error
	f.rv, err = NewReviewer(kv, PendingFunc(func(ctx context.Context, m string) (int, error) { return f.ev.Pending(ctx, m) }),
		Indicators{Src: &f.src}, smpZone, ReviewOptions{Operators: f.src.Figures.Receptionists}, log, WithReviewerClock(now))
	if err != nil {
		t.Fatal(err)
	}
	if f.ev, err = NewEvaluator(f.st, f.smp, kv, f.rv, 4, log, WithEvaluatorClock(now)); err != nil {
		t.Fatal(err)
	}
	f.src.Evaluations, f.src.Review = f.ev, f.rv
	return f
}

// TestBuildDocument runs the month end to end: the document's parts are
// those of the services it reads, the tabulation counts the verdicts
// given, and the next month follows the action recorded on this one.
func TestBuildDocument(t *testing.T) {
	ctx := context.Background()
	f := newDocFixture(t)
	smp, err := f.smp.Draw(ctx, DrawRequest{Month: "2026-03", By: "tecnico"})
	if err != nil {
		t.Fatal(err)
	}
	// Every sampled call of Beatriz fails the greeting; the others comply.
	wantNoCumple := 0
	for _, it := range smp.Items {
		if _, err := f.ev.Open(ctx, "2026-03", it.ID, "tecnico"); err != nil {
			t.Fatal(err)
		}
		var as []Answer
		for _, p := range []string{PointSaludo, PointTono, PointConcision, PointPaciencia, PointTraslado, PointAmabilidad} {
			v := VerdictCumple
			if p == PointSaludo && it.Operator == "Beatriz" {
				v, wantNoCumple = VerdictNoCumple, wantNoCumple+1
			}
			if p == PointTraslado {
				v = VerdictNoAplica
			}
			as = append(as, Answer{Point: p, Verdict: v, Observation: "revisada"})
		}
		if _, err := f.ev.SaveDraft(ctx, DraftRequest{Month: "2026-03", ID: it.ID, By: "tecnico", Answers: as}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ev.Submit(ctx, "2026-03", it.ID, "tecnico"); err != nil {
			t.Fatal(err)
		}
	}
	if wantNoCumple == 0 {
		t.Fatal("the sample has no call of Beatriz: the test checks nothing")
	}
	if _, err := f.rv.SaveConclusions(ctx, "2026-03", "tecnico", "Beatriz no se identifica."); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rv.Submit(ctx, "2026-03", "tecnico"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rv.Approve(ctx, "2026-03", "jefe"); err != nil {
		t.Fatal(err)
	}
	ind := Indicator{Kind: IndicatorPointNoCumplePct, Point: PointSaludo, Operator: "Beatriz"}
	act, err := f.rv.AddAction(ctx, ActionRequest{Month: "2026-03", By: "jefe", To: "Beatriz",
		Instruction: "Identificarse al contestar.", Indicator: ind, DueDate: "2026-04-30"})
	if err != nil {
		t.Fatal(err)
	}
	if act.Baseline == nil || *act.Baseline != 100 {
		t.Fatalf("baseline %v, want 100 (every sampled call of Beatriz failed the greeting)", act.Baseline)
	}

	doc, err := BuildDocument(ctx, f.src, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	fig, err := Figures(ctx, f.st, "2026-03", FiguresOptions{Location: smpZone, Receptionists: f.src.Figures.Receptionists, Now: f.src.Now})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := docJSON(t, doc.Figures), docJSON(t, fig); a != b {
		t.Errorf("document figures differ from Figures:\n%s\n%s", a, b)
	}
	if doc.Sample == nil || doc.Sample.FrameHash != smp.FrameHash || doc.Office != "Oficina central" {
		t.Errorf("sample %+v office %q", doc.Sample, doc.Office)
	}
	tab := doc.Tabulation
	if tab.Submitted != len(smp.Items) || tab.Pending != 0 || tab.Drafts != 0 || len(doc.Evaluations) != len(smp.Items) {
		t.Errorf("tabulation %d submitted %d pending of %d sampled; %d evaluations", tab.Submitted, tab.Pending, len(smp.Items), len(doc.Evaluations))
	}
	for _, p := range tab.Points {
		switch p.Point {
		case PointSaludo:
			if p.NoCumple != wantNoCumple || p.Evaluated != len(smp.Items) {
				t.Errorf("saludo %+v, want %d no cumple of %d", p, wantNoCumple, len(smp.Items))
			}
		case PointTraslado:
			if p.NoAplica != len(smp.Items) || p.Evaluated != 0 || p.NoCumplePct != nil {
				t.Errorf("traslado %+v: every call no aplica", p)
			}
		}
	}
	// Inmediatez over every call: the figures' answered inbound calls.
	if got := tab.InmediatezAll.Cumple + tab.InmediatezAll.NoCumple; got < fig.Inbound.Answered {
		t.Errorf("inmediatez census %+v, figures answered %d", tab.InmediatezAll, fig.Inbound.Answered)
	}
	if doc.Review.State != ReviewApproved || doc.Due.Overdue || doc.Due.SubmittedLate || len(doc.Actions) != 1 || doc.Outgoing == nil {
		t.Errorf("review %s, due %+v, %d actions, outgoing %v", doc.Review.State, doc.Due, len(doc.Actions), doc.Outgoing)
	}
	// The indicator source gives the value the document's parts give.
	if v := IndicatorValue(ind, doc.Figures, doc.Tabulation); v == nil || *v != *act.Baseline {
		t.Errorf("indicator from the document %v, baseline %v", v, *act.Baseline)
	}

	// April: a call of Beatriz evaluated as compliant moves the indicator
	// to 0; the April report follows March's action.
	apr := smpLeg(200, "Beatriz")
	apr.InviteAt = time.Date(2026, 4, 10, 9, 0, 0, 0, smpZone).UTC()
	if err := f.st.PutCalls(ctx, []sip.Call{apr}); err != nil {
		t.Fatal(err)
	}
	f.clock = time.Date(2026, 5, 2, 15, 0, 0, 0, time.UTC)
	seed := uint64(7)
	asmp, err := f.smp.Draw(ctx, DrawRequest{Month: "2026-04", By: "tecnico", Seed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	var sawApr bool
	for _, it := range asmp.Items {
		sawApr = sawApr || it.ID == apr.ID
		if _, err := f.ev.Open(ctx, "2026-04", it.ID, "tecnico"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ev.SaveDraft(ctx, DraftRequest{Month: "2026-04", ID: it.ID, By: "tecnico", Answers: evComplete(VerdictCumple)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ev.Submit(ctx, "2026-04", it.ID, "tecnico"); err != nil {
			t.Fatal(err)
		}
	}
	if !sawApr {
		t.Fatalf("April sample %+v lacks Beatriz's call", asmp.Items)
	}
	adoc, err := BuildDocument(ctx, f.src, "2026-04")
	if err != nil {
		t.Fatal(err)
	}
	if len(adoc.FollowUps) != 1 {
		t.Fatalf("April follow-ups %+v, want March's action", adoc.FollowUps)
	}
	fu := adoc.FollowUps[0]
	if fu.Action.ID != act.ID || fu.Before == nil || *fu.Before != 100 || fu.After == nil || *fu.After != 0 || fu.Improved == nil || !*fu.Improved {
		t.Errorf("follow-up %+v before %v after %v improved %v", fu.Action.ID, fu.Before, fu.After, fu.Improved)
	}
	// April is not submitted and its due date (3 May, end of day) has not
	// come: due, not overdue; once the clock passes it, overdue.
	if adoc.Due.Overdue || adoc.Review.State != ReviewDraft {
		t.Errorf("April due %+v", adoc.Due)
	}
	f.clock = time.Date(2026, 5, 4, 7, 0, 0, 0, time.UTC) // 4 May 01:00 local
	if adoc, err = BuildDocument(ctx, f.src, "2026-04"); err != nil || !adoc.Due.Overdue {
		t.Errorf("April after its due date: %+v, %v", adoc.Due, err)
	}
}

func docJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBuildDocumentErrors(t *testing.T) {
	f := newDocFixture(t)
	if _, err := BuildDocument(context.Background(), f.src, "2026-13"); err == nil {
		t.Error("month 2026-13 accepted")
	}
	// A month without sample, evaluations or review is still a document:
	// the figures and the census, a draft review, no sample.
	doc, err := BuildDocument(context.Background(), f.src, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Sample != nil || doc.Tabulation == nil || doc.Tabulation.Submitted != 0 || doc.Review.State != ReviewDraft || doc.Evaluations == nil {
		t.Errorf("empty month: sample %v tabulation %+v review %s", doc.Sample, doc.Tabulation, doc.Review.State)
	}
}

// TestSubmitProgress: a month with calls needs its sample before its
// report can go; a month with nothing to sample has nothing pending.
func TestSubmitProgress(t *testing.T) {
	f := newDocFixture(t)
	prog := SubmitProgress(f.ev.Pending, f.st, smpZone)
	ctx := context.Background()
	if _, err := prog(ctx, "2026-03"); !errors.Is(err, ErrNoSample) {
		t.Errorf("March without a sample: %v, want ErrNoSample", err)
	}
	if n, err := prog(ctx, "2026-06"); n != 0 || err != nil {
		t.Errorf("June, no calls: %d, %v; want 0 pending", n, err)
	}
	if _, err := f.smp.Draw(ctx, DrawRequest{Month: "2026-03", By: "tecnico"}); err != nil {
		t.Fatal(err)
	}
	if n, err := prog(ctx, "2026-03"); err != nil || n == 0 {
		t.Errorf("March drawn, nothing evaluated: %d, %v", n, err)
	}
}

// walkCounter counts the walks asked of a store.
type walkCounter struct {
	store Calls
	walks int
}

func (w *walkCounter) Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error {
	w.walks++
	return w.store.Calls(ctx, from, to, fn)
}

// TestBuildDocumentWalksOnce: the figures, the inmediatez census and the
// outgoing calls share one read of the month from the store.
func TestBuildDocumentWalksOnce(t *testing.T) {
	f := newDocFixture(t)
	wc := &walkCounter{store: f.st}
	src := f.src
	src.Calls = wc
	if _, err := BuildDocument(context.Background(), src, "2026-03"); err != nil {
		t.Fatal(err)
	}
	if wc.walks != 1 {
		t.Errorf("%d walks of the store for one document, want 1", wc.walks)
	}
}
