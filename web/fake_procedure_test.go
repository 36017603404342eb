package web

// Test doubles of the procedure's services (Evaluations, Review,
// Documents, Exporter): in memory, with the state rules of the report
// package's services as signatures.md states them, so the handlers'
// mapping of each error is exercised for real.

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
)

// procMonth is the month the procedure tests work on; procNext the next.
const (
	procMonth = "2026-11"
	procNext  = "2026-12"
)

// fakeEvals is Evaluations in memory. sample maps month → id → operator
// (the sampled calls); locked says whether a month's report is submitted
// or approved (wired to fakeReview).
type fakeEvals struct {
	now func() time.Time

	mu     sync.Mutex
	sample map[string]map[string]string
	evals  map[string]*report.Evaluation
	locked func(month string) bool
	err    error
	// calls counts the service calls by method (for "nothing reached
	// the service" checks).
	calls map[string]int
}

func newFakeEvals(now func() time.Time) *fakeEvals {
	return &fakeEvals{
		now:    now,
		sample: map[string]map[string]string{},
		evals:  map[string]*report.Evaluation{},
		locked: func(string) bool { return false },
		calls:  map[string]int{},
	}
}

func (f *fakeEvals) called(m string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[m]
}

// enter counts a call and returns the fake's failure; f.mu held.
func (f *fakeEvals) enter(m string) error {
	f.calls[m]++
	return f.err
}

func fakeMonth(month string) error {
	if _, err := time.Parse("2006-01", month); err != nil || len(month) != 7 {
		return fmt.Errorf("fake month %q: %w", month, report.ErrBadMonth)
	}
	return nil
}

func cloneEval(ev *report.Evaluation) report.Evaluation {
	c := *ev
	c.Answers = slices.Clone(ev.Answers)
	c.Revisions = slices.Clone(ev.Revisions)
	if ev.Ack != nil {
		a := *ev.Ack
		c.Ack = &a
	}
	return c
}

// get returns the stored evaluation; f.mu held.
func (f *fakeEvals) get(month, id string) (*report.Evaluation, error) {
	if err := fakeMonth(month); err != nil {
		return nil, err
	}
	ev, ok := f.evals[month+"/"+id]
	if !ok {
		return nil, fmt.Errorf("fake eval %s/%s: %w", month, id, report.ErrNoEvaluation)
	}
	return ev, nil
}

func (f *fakeEvals) Open(_ context.Context, month, id, by string) (report.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Open"); err != nil {
		return report.Evaluation{}, err
	}
	if ev, err := f.get(month, id); err == nil {
		return cloneEval(ev), nil
	} else if err := fakeMonth(month); err != nil {
		return report.Evaluation{}, err
	}
	ops, ok := f.sample[month]
	if !ok {
		return report.Evaluation{}, fmt.Errorf("fake open: %w", report.ErrNoSample)
	}
	op, ok := ops[id]
	if !ok {
		return report.Evaluation{}, fmt.Errorf("fake open %s: %w", id, report.ErrNotSampled)
	}
	form, _ := report.FormByVersion(report.CurrentForm)
	ev := &report.Evaluation{
		Month: month, ID: id, Operator: op, Form: form.Version, Status: report.EvalDraft,
		Facts:     report.EvalFacts{Rings: 2, WithinLimit: true, MaxRings: 4, RecordingSeconds: 60},
		Revisions: []report.Revision{}, CreatedAt: f.now(), CreatedBy: by, UpdatedAt: f.now(), UpdatedBy: by,
	}
	for _, pt := range form.Points {
		a := report.Answer{Point: pt.ID}
		if pt.Auto {
			a.Verdict = report.VerdictCumple
		}
		ev.Answers = append(ev.Answers, a)
	}
	f.evals[month+"/"+id] = ev
	return cloneEval(ev), nil
}

func (f *fakeEvals) Get(_ context.Context, month, id string) (report.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Get"); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := f.get(month, id)
	if err != nil {
		return report.Evaluation{}, err
	}
	return cloneEval(ev), nil
}

func (f *fakeEvals) List(_ context.Context, month string) ([]report.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("List"); err != nil {
		return nil, err
	}
	if err := fakeMonth(month); err != nil {
		return nil, err
	}
	var out []report.Evaluation
	for _, ev := range f.evals {
		if ev.Month == month {
			out = append(out, cloneEval(ev))
		}
	}
	slices.SortFunc(out, func(a, b report.Evaluation) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// merge checks answers against the form and merges them into ev's (the
// measured point keeps its verdict); complete requires every point.
func fakeMerge(ev *report.Evaluation, answers []report.Answer, complete bool) ([]report.Answer, error) {
	form, err := report.FormByVersion(ev.Form)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(ev.Answers)
	seen := map[string]bool{}
	for _, a := range answers {
		i := slices.IndexFunc(form.Points, func(p report.FormPoint) bool { return p.ID == a.Point })
		if i < 0 || seen[a.Point] {
			return nil, fmt.Errorf("fake answer %q: %w", a.Point, report.ErrBadAnswer)
		}
		seen[a.Point] = true
		switch a.Verdict {
		case report.VerdictPending, report.VerdictCumple, report.VerdictNoCumple, report.VerdictNoAplica:
		default:
			return nil, fmt.Errorf("fake verdict %q: %w", a.Verdict, report.ErrBadAnswer)
		}
		if a.AtSeconds != nil && (*a.AtSeconds < 0 || *a.AtSeconds > ev.Facts.RecordingSeconds) {
			return nil, fmt.Errorf("fake moment: %w", report.ErrBadAnswer)
		}
		if form.Points[i].Auto {
			a.Verdict = out[i].Verdict
		}
		out[i] = a
	}
	if complete {
		for _, a := range out {
			if a.Verdict == report.VerdictPending {
				return nil, fmt.Errorf("fake %s: %w", a.Point, report.ErrIncomplete)
			}
		}
	}
	return out, nil
}

func (f *fakeEvals) SaveDraft(_ context.Context, req report.DraftRequest) (report.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("SaveDraft"); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := f.get(req.Month, req.ID)
	if err != nil {
		return report.Evaluation{}, err
	}
	if ev.Status == report.EvalSubmitted {
		return report.Evaluation{}, report.ErrSubmitted
	}
	if f.locked(req.Month) {
		return report.Evaluation{}, report.ErrLocked
	}
	answers, err := fakeMerge(ev, req.Answers, false)
	if err != nil {
		return report.Evaluation{}, err
	}
	ev.Answers, ev.UpdatedAt, ev.UpdatedBy = answers, f.now(), req.By
	return cloneEval(ev), nil
}

func (f *fakeEvals) Submit(_ context.Context, month, id, by string) (report.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Submit"); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := f.get(month, id)
	if err != nil {
		return report.Evaluation{}, err
	}
	if ev.Status == report.EvalSubmitted {
		return report.Evaluation{}, report.ErrSubmitted
	}
	if f.locked(month) {
		return report.Evaluation{}, report.ErrLocked
	}
	if _, err := fakeMerge(ev, nil, true); err != nil {
		return report.Evaluation{}, err
	}
	ev.Status, ev.Revision = report.EvalSubmitted, 1
	ev.Revisions = append(ev.Revisions, report.Revision{N: 1, At: f.now(), By: by, Answers: slices.Clone(ev.Answers)})
	return cloneEval(ev), nil
}

func (f *fakeEvals) Revise(_ context.Context, req report.ReviseRequest) (report.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Revise"); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := f.get(req.Month, req.ID)
	if err != nil {
		return report.Evaluation{}, err
	}
	if ev.Status != report.EvalSubmitted {
		return report.Evaluation{}, report.ErrNotSubmitted
	}
	if req.Reason == "" {
		return report.Evaluation{}, report.ErrReason
	}
	if f.locked(req.Month) {
		return report.Evaluation{}, report.ErrLocked
	}
	answers, err := fakeMerge(ev, req.Answers, true)
	if err != nil {
		return report.Evaluation{}, err
	}
	ev.Revision++
	ev.Answers = answers
	ev.Revisions = append(ev.Revisions, report.Revision{N: ev.Revision, At: f.now(), By: req.By, Reason: req.Reason, Answers: slices.Clone(answers)})
	return cloneEval(ev), nil
}

func (f *fakeEvals) Acknowledge(_ context.Context, req report.AckRequest) (report.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Acknowledge"); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := f.get(req.Month, req.ID)
	if err != nil {
		return report.Evaluation{}, err
	}
	if req.Operator == "" || ev.Operator != req.Operator {
		return report.Evaluation{}, report.ErrNotYours
	}
	if ev.Status != report.EvalSubmitted {
		return report.Evaluation{}, report.ErrNotSubmitted
	}
	if req.Dispute && req.Comment == "" {
		return report.Evaluation{}, report.ErrReason
	}
	st := report.AckAcknowledged
	if req.Dispute {
		st = report.AckDisputed
	}
	ev.Ack = &report.Ack{State: st, At: f.now(), By: req.By, Comment: req.Comment, Revision: ev.Revision}
	return cloneEval(ev), nil
}

func (f *fakeEvals) Resolve(_ context.Context, req report.ResolveRequest) (report.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Resolve"); err != nil {
		return report.Evaluation{}, err
	}
	ev, err := f.get(req.Month, req.ID)
	if err != nil {
		return report.Evaluation{}, err
	}
	if ev.Ack == nil || ev.Ack.State != report.AckDisputed {
		return report.Evaluation{}, report.ErrNoDispute
	}
	if req.Resolution == "" {
		return report.Evaluation{}, report.ErrReason
	}
	if req.Answers != nil {
		answers, err := fakeMerge(ev, req.Answers, true)
		if err != nil {
			return report.Evaluation{}, err
		}
		ev.Revision++
		ev.Answers = answers
		ev.Revisions = append(ev.Revisions, report.Revision{N: ev.Revision, At: f.now(), By: req.By, Reason: req.Resolution, Answers: slices.Clone(answers), Dispute: true})
		ev.Ack.Changed = true
	}
	now := f.now()
	ev.Ack.State, ev.Ack.ResolvedAt, ev.Ack.ResolvedBy, ev.Ack.Resolution = report.AckResolved, &now, req.By, req.Resolution
	return cloneEval(ev), nil
}

func (f *fakeEvals) Pending(_ context.Context, month string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Pending"); err != nil {
		return 0, err
	}
	n := 0
	for id := range f.sample[month] {
		if ev, ok := f.evals[month+"/"+id]; !ok || ev.Status != report.EvalSubmitted {
			n++
		}
	}
	return n, nil
}

// fakeReview is Review in memory over fakeEvals' Pending.
type fakeReview struct {
	now       func() time.Time
	evals     *fakeEvals
	operators []string

	mu      sync.Mutex
	reviews map[string]*report.Review
	actions map[string]*report.Action
	nextID  int
	err     error
}

func newFakeReview(now func() time.Time, evals *fakeEvals, operators []string) *fakeReview {
	r := &fakeReview{now: now, evals: evals, operators: operators, reviews: map[string]*report.Review{}, actions: map[string]*report.Action{}}
	evals.locked = func(month string) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		rv := r.reviews[month]
		return rv != nil && (rv.State == report.ReviewSubmitted || rv.State == report.ReviewApproved)
	}
	return r
}

// review returns month's review, made a draft when new; r.mu held.
func (r *fakeReview) review(month string) (*report.Review, error) {
	if err := fakeMonth(month); err != nil {
		return nil, err
	}
	rv, ok := r.reviews[month]
	if !ok {
		due, _ := report.DueAt(month, time.UTC)
		rv = &report.Review{Month: month, State: report.ReviewDraft, Rounds: []report.Round{}, History: []report.Event{}, DueAt: due}
		r.reviews[month] = rv
	}
	return rv, nil
}

func cloneReview(rv *report.Review) report.Review {
	c := *rv
	c.Rounds = slices.Clone(rv.Rounds)
	c.History = slices.Clone(rv.History)
	return c
}

// step applies fn to month's review if its state is one of states.
func (r *fakeReview) step(month, by, action string, fn func(rv *report.Review) error, states ...report.ReviewState) (report.Review, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return report.Review{}, r.err
	}
	rv, err := r.review(month)
	if err != nil {
		return report.Review{}, err
	}
	if !slices.Contains(states, rv.State) {
		return report.Review{}, fmt.Errorf("fake %s in %s: %w", action, rv.State, report.ErrState)
	}
	if err := fn(rv); err != nil {
		return report.Review{}, err
	}
	rv.UpdatedAt, rv.UpdatedBy = r.now(), by
	rv.History = append(rv.History, report.Event{At: r.now(), By: by, Action: action})
	return cloneReview(rv), nil
}

func (r *fakeReview) Get(_ context.Context, month string) (report.Review, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return report.Review{}, r.err
	}
	rv, err := r.review(month)
	if err != nil {
		return report.Review{}, err
	}
	return cloneReview(rv), nil
}

func (r *fakeReview) SaveConclusions(_ context.Context, month, by, text string) (report.Review, error) {
	return r.step(month, by, "conclusions", func(rv *report.Review) error { rv.Conclusions = text; return nil },
		report.ReviewDraft, report.ReviewReturned)
}

func (r *fakeReview) Submit(ctx context.Context, month, by string) (report.Review, error) {
	pending, err := r.evals.Pending(ctx, month)
	if err != nil {
		return report.Review{}, err
	}
	return r.step(month, by, "submit", func(rv *report.Review) error {
		if pending > 0 {
			return report.ErrPendingEvaluations
		}
		if rv.Conclusions == "" {
			return report.ErrReason
		}
		rv.State = report.ReviewSubmitted
		rv.Rounds = append(rv.Rounds, report.Round{N: len(rv.Rounds) + 1, SubmittedAt: r.now(), SubmittedBy: by, Conclusions: rv.Conclusions})
		return nil
	}, report.ReviewDraft, report.ReviewReturned)
}

func (r *fakeReview) Return(_ context.Context, month, by, observations string) (report.Review, error) {
	return r.step(month, by, "return", func(rv *report.Review) error {
		if observations == "" {
			return report.ErrReason
		}
		now := r.now()
		last := &rv.Rounds[len(rv.Rounds)-1]
		last.ReturnedAt, last.ReturnedBy, last.Observations = &now, by, observations
		rv.State = report.ReviewReturned
		return nil
	}, report.ReviewSubmitted)
}

func (r *fakeReview) Approve(_ context.Context, month, by string) (report.Review, error) {
	return r.step(month, by, "approve", func(rv *report.Review) error {
		now := r.now()
		last := &rv.Rounds[len(rv.Rounds)-1]
		last.ApprovedAt, last.ApprovedBy = &now, by
		rv.State, rv.ApprovedAt = report.ReviewApproved, &now
		return nil
	}, report.ReviewSubmitted)
}

func (r *fakeReview) Calendar(_ context.Context, months int) ([]report.Due, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	now := r.now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var out []report.Due
	for i := months; i >= 1; i-- {
		m := first.AddDate(0, -i, 0).Format("2006-01")
		due, _ := report.DueAt(m, time.UTC)
		st := report.ReviewDraft
		if rv, ok := r.reviews[m]; ok {
			st = rv.State
		}
		out = append(out, report.Due{Month: m, State: st, DueAt: due, Overdue: st == report.ReviewDraft && now.After(due)})
	}
	return out, nil
}

func cloneAction(a *report.Action) report.Action {
	c := *a
	c.Assessments = slices.Clone(a.Assessments)
	c.Acknowledged = slices.Clone(a.Acknowledged)
	return c
}

func (r *fakeReview) AddAction(_ context.Context, req report.ActionRequest) (report.Action, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return report.Action{}, r.err
	}
	rv, err := r.review(req.Month)
	if err != nil {
		return report.Action{}, err
	}
	if rv.State != report.ReviewApproved {
		return report.Action{}, report.ErrNotApproved
	}
	if _, err := time.Parse("2006-01-02", req.DueDate); err != nil || req.Instruction == "" ||
		(req.To != report.ToEveryone && !slices.Contains(r.operators, req.To)) {
		return report.Action{}, report.ErrBadAction
	}
	form, _ := report.FormByVersion(report.CurrentForm)
	if err := report.ValidIndicator(req.Indicator, form, r.operators); err != nil {
		return report.Action{}, err
	}
	r.nextID++
	a := &report.Action{
		ID: "a" + strconv.Itoa(r.nextID), Month: req.Month, To: req.To, Instruction: req.Instruction, Indicator: req.Indicator,
		DueDate: req.DueDate, Status: report.ActionOpen, CreatedAt: r.now(), CreatedBy: req.By,
		Assessments: []report.Assessment{}, Acknowledged: []report.ActionAck{},
	}
	r.actions[a.ID] = a
	return cloneAction(a), nil
}

func (r *fakeReview) Action(_ context.Context, id string) (report.Action, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return report.Action{}, r.err
	}
	a, ok := r.actions[id]
	if !ok {
		return report.Action{}, fmt.Errorf("fake action %q: %w", id, report.ErrNoAction)
	}
	return cloneAction(a), nil
}

func (r *fakeReview) Actions(_ context.Context, f report.ActionFilter) ([]report.Action, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	var out []report.Action
	for _, a := range r.actions {
		if (f.Month != "" && a.Month != f.Month) || (f.To != "" && a.To != f.To) || (f.Status != "" && a.Status != f.Status) ||
			(f.Operator != "" && a.To != f.Operator && a.To != report.ToEveryone) {
			continue
		}
		out = append(out, cloneAction(a))
	}
	slices.SortFunc(out, func(x, y report.Action) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}

func (r *fakeReview) Assess(_ context.Context, req report.AssessRequest) (report.Action, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return report.Action{}, r.err
	}
	a, ok := r.actions[req.ID]
	if !ok {
		return report.Action{}, fmt.Errorf("fake assess %q: %w", req.ID, report.ErrNoAction)
	}
	if req.Month <= a.Month || a.Status != report.ActionOpen {
		return report.Action{}, fmt.Errorf("fake assess in %s: %w", req.Month, report.ErrState)
	}
	a.Status = req.Status
	a.Assessments = append(a.Assessments, report.Assessment{At: r.now(), By: req.By, Month: req.Month, Status: req.Status, Comment: req.Comment})
	return cloneAction(a), nil
}

func (r *fakeReview) AcknowledgeAction(_ context.Context, id, operator, by string) (report.Action, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return report.Action{}, r.err
	}
	a, ok := r.actions[id]
	if !ok {
		return report.Action{}, fmt.Errorf("fake ack %q: %w", id, report.ErrNoAction)
	}
	if operator == "" || (a.To != operator && a.To != report.ToEveryone) {
		return report.Action{}, report.ErrNotYours
	}
	a.Acknowledged = append(a.Acknowledged, report.ActionAck{Operator: operator, By: by, At: r.now()})
	return cloneAction(a), nil
}

func (r *fakeReview) FollowUps(_ context.Context, month string) ([]report.FollowUp, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	if err := fakeMonth(month); err != nil {
		return nil, err
	}
	out := []report.FollowUp{}
	for _, a := range r.actions {
		if a.Month < month {
			out = append(out, report.FollowUp{Action: cloneAction(a)})
		}
	}
	slices.SortFunc(out, func(x, y report.FollowUp) int { return cmp.Compare(x.Action.ID, y.Action.ID) })
	return out, nil
}

// fakeDocs builds a month's document from the fakes (submitted
// evaluations, review, actions, a tabulation that counts them); extra, when
// set, adds that many synthetic evaluations (the benchmark's).
type fakeDocs struct {
	evals  *fakeEvals
	review *fakeReview
	now    func() time.Time
	extra  int
	err    error
}

func (d *fakeDocs) Document(ctx context.Context, month string) (*report.Document, error) {
	if d.err != nil {
		return nil, d.err
	}
	if err := fakeMonth(month); err != nil {
		return nil, err
	}
	evs, err := d.evals.List(ctx, month)
	if err != nil {
		return nil, err
	}
	rv, err := d.review.Get(ctx, month)
	if err != nil {
		return nil, err
	}
	acts, err := d.review.Actions(ctx, report.ActionFilter{Month: month})
	if err != nil {
		return nil, err
	}
	fu, err := d.review.FollowUps(ctx, month)
	if err != nil {
		return nil, err
	}
	doc := &report.Document{
		Month: month, TimeZone: "America/El_Salvador", GeneratedAt: d.now(),
		Figures: &report.MonthFigures{Month: month, TimeZone: "America/El_Salvador"}, Review: rv,
		Evaluations: []report.Evaluation{}, Actions: acts, FollowUps: fu, Due: report.Due{Month: month, State: rv.State, DueAt: rv.DueAt},
	}
	for i := range d.extra {
		ev := report.Evaluation{Month: month, ID: fmt.Sprintf("x%04d", i), Operator: "201", Form: report.CurrentForm, Status: report.EvalSubmitted, Revision: 1}
		form, _ := report.FormByVersion(report.CurrentForm)
		for _, pt := range form.Points {
			ev.Answers = append(ev.Answers, report.Answer{Point: pt.ID, Verdict: report.VerdictCumple, Observation: "observación de prueba, con acentos: atención"})
		}
		ev.Revisions = []report.Revision{{N: 1, By: "tecnico", Answers: ev.Answers}}
		evs = append(evs, ev)
	}
	if _, ok := d.evals.sample[month]; ok || d.extra > 0 {
		tab := &report.Tabulation{Month: month, Form: report.CurrentForm, Sampled: len(d.evals.sample[month]) + d.extra, ByOperator: map[string][]report.PointTally{}}
		for _, ev := range evs {
			if ev.Status == report.EvalSubmitted {
				tab.Submitted++
				doc.Evaluations = append(doc.Evaluations, ev)
			} else {
				tab.Drafts++
			}
		}
		tab.Pending = tab.Sampled - tab.Submitted - tab.Drafts
		doc.Tabulation = tab
	}
	return doc, nil
}

// fakeExporter writes "format table month" and names the file after them;
// err makes Export fail.
type fakeExporter struct{ err error }

func (x *fakeExporter) Export(w io.Writer, d *report.Document, format, table string) error {
	if x.err != nil {
		return x.err
	}
	_, err := fmt.Fprintf(w, "%s %s %s evaluaciones=%d", format, table, d.Month, len(d.Evaluations))
	return err
}

func (x *fakeExporter) FileName(d *report.Document, format, table string) string {
	if table != "" {
		return "informe_" + d.Month + "_" + table + "." + format
	}
	return "informe_" + d.Month + "." + format
}

func (x *fakeExporter) ContentType(format string) string {
	switch format {
	case "xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case "pdf":
		return "application/pdf"
	}
	return "text/csv; charset=utf-8"
}

// procEnv is a testEnv with the procedure's fakes and receptionist
// accounts: "recep201" (201), "recep202" (202) and "recepnadie" (tied to
// no receptionist). The November sample is c1, c2 (201) and c3 (202).
type procEnv struct {
	*testEnv
	evals   *fakeEvals
	review  *fakeReview
	docs    *fakeDocs
	exports *fakeExporter
}

func newProcEnv(t testing.TB) *procEnv {
	t.Helper()
	e := newTestEnv(t)
	for _, u := range []struct{ name, op string }{{"recep201", "201"}, {"recep202", "202"}, {"recepnadie", ""}} {
		e.auth.addUser(u.name, RoleRecepcionista, testPassword).Operator = u.op
	}
	pe := &procEnv{testEnv: e, evals: newFakeEvals(e.clock.Now), exports: &fakeExporter{}}
	pe.evals.sample[procMonth] = map[string]string{"c1": "201", "c2": "201", "c3": "202"}
	pe.review = newFakeReview(e.clock.Now, pe.evals, e.srv.cfg.Operators)
	pe.docs = &fakeDocs{evals: pe.evals, review: pe.review, now: e.clock.Now}
	e.srv.cfg.Evaluations = pe.evals
	e.srv.cfg.Review = pe.review
	e.srv.cfg.Documents = pe.docs
	e.srv.cfg.Exports = pe.exports
	e.handler = e.srv.Handler()
	e.local = e.srv.LocalHandler()
	return pe
}
