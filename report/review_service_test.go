package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/storage"
)

var rvZone = func() *time.Location {
	loc, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		return time.FixedZone("CST", -6*3600)
	}
	return loc
}()

// rvKV is an in-memory KV.
type rvKV struct {
	mu sync.Mutex
	m  map[string][]byte
	// failSet, when set, is returned by every write.
	failSet error
}

func rvNewKV() *rvKV { return &rvKV{m: map[string][]byte{}} }

func (k *rvKV) Get(_ context.Context, key []byte) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[string(key)]
	return slices.Clone(v), ok, nil
}

func (k *rvKV) Set(_ context.Context, key, val []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failSet != nil {
		return k.failSet
	}
	k.m[string(key)] = slices.Clone(val)
	return nil
}

func (k *rvKV) Scan(_ context.Context, prefix []byte, fn func(key, val []byte) error) error {
	k.mu.Lock()
	vals := map[string][]byte{}
	for key, val := range k.m {
		if strings.HasPrefix(key, string(prefix)) {
			vals[key] = slices.Clone(val)
		}
	}
	k.mu.Unlock()
	for _, key := range slices.Sorted(maps.Keys(vals)) {
		if err := fn([]byte(key), vals[key]); err != nil {
			return err
		}
	}
	return nil
}

func (k *rvKV) Batch(_ context.Context, set [][2][]byte, del [][]byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failSet != nil {
		return k.failSet
	}
	for _, kv := range set {
		k.m[string(kv[0])] = slices.Clone(kv[1])
	}
	for _, key := range del {
		delete(k.m, string(key))
	}
	return nil
}

// rvClock is a settable clock.
type rvClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *rvClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *rvClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *rvClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rvPending is an EvaluationProgress with a settable answer.
type rvPending struct {
	mu    sync.Mutex
	n     map[string]int
	err   error
	calls int
}

func (p *rvPending) Pending(_ context.Context, month string) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	return p.n[month], p.err
}

// rvIndicators is an IndicatorSource reading a table by month and kind,
// counting its calls.
type rvIndicators struct {
	mu    sync.Mutex
	v     map[string]float64 // "<month> <kind> <point> <operator>"
	err   error
	calls int
}

func rvIndKey(month string, ind Indicator) string {
	return month + " " + ind.Kind + " " + ind.Point + " " + ind.Operator
}

func (s *rvIndicators) Indicator(_ context.Context, month string, ind Indicator) (*float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	v, ok := s.v[rvIndKey(month, ind)]
	if !ok {
		return nil, nil
	}
	return &v, nil
}

// rvEnv is a Reviewer over fakes, its clock on 2 April 2026 10:00 local:
// March is over and its report not yet due.
type rvEnv struct {
	r     *Reviewer
	kv    *rvKV
	clock *rvClock
	prog  *rvPending
	ind   *rvIndicators
}

var rvOperators = []string{"Ana", "Beatriz", "Carlos"}

func rvNew(t testing.TB, opts ReviewOptions) *rvEnv {
	t.Helper()
	e := &rvEnv{
		kv:    rvNewKV(),
		clock: &rvClock{t: time.Date(2026, 4, 2, 10, 0, 0, 0, rvZone)},
		prog:  &rvPending{n: map[string]int{}},
		ind:   &rvIndicators{v: map[string]float64{}},
	}
	if opts.Operators == nil {
		opts.Operators = rvOperators
	}
	r, err := NewReviewer(e.kv, e.prog, e.ind, rvZone, opts, nil, WithReviewerClock(e.clock.now))
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	return e
}

// rvTo brings the month's report to a state by the steps that lead there.
func (e *rvEnv) rvTo(t testing.TB, month string, st ReviewState) {
	t.Helper()
	ctx := context.Background()
	if st == ReviewDraft {
		return
	}
	steps := []func() (Review, error){
		func() (Review, error) { return e.r.SaveConclusions(ctx, month, "tecnico", "Conclusiones del mes.") },
		func() (Review, error) { return e.r.Submit(ctx, month, "tecnico") },
	}
	switch st {
	case ReviewReturned:
		steps = append(steps, func() (Review, error) { return e.r.Return(ctx, month, "jefe", "Falta el análisis por recepcionista.") })
	case ReviewApproved:
		steps = append(steps, func() (Review, error) { return e.r.Approve(ctx, month, "jefe") })
	}
	for i, step := range steps {
		if _, err := step(); err != nil {
			t.Fatalf("to %s, step %d: %v", st, i, err)
		}
	}
}

func TestReviewGetEmpty(t *testing.T) {
	e := rvNew(t, ReviewOptions{})
	rv, err := e.r.Get(context.Background(), "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	due, _ := DueAt("2026-03", rvZone)
	if rv.Month != "2026-03" || rv.State != ReviewDraft || !rv.DueAt.Equal(due) || rv.ApprovedAt != nil || rv.KeepUntil != nil {
		t.Errorf("empty month: %+v", rv)
	}
	if rv.Rounds == nil || rv.History == nil || len(rv.Rounds)+len(rv.History) != 0 {
		t.Errorf("rounds %#v history %#v, want empty, not nil", rv.Rounds, rv.History)
	}
	b, err := json.Marshal(rv)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"rounds":[]`) || !strings.Contains(s, `"history":[]`) {
		t.Errorf("json %s: want empty arrays", s)
	}
	if len(e.kv.m) != 0 {
		t.Errorf("a read stored %d keys", len(e.kv.m))
	}
}

// TestReviewStateMachine takes every step from every state.
func TestReviewStateMachine(t *testing.T) {
	ctx := context.Background()
	steps := map[string]func(r *Reviewer) (Review, error){
		"conclusions": func(r *Reviewer) (Review, error) {
			return r.SaveConclusions(ctx, "2026-03", "tecnico", "Nuevas conclusiones.")
		},
		"submit": func(r *Reviewer) (Review, error) { return r.Submit(ctx, "2026-03", "tecnico") },
		"return": func(r *Reviewer) (Review, error) {
			return r.Return(ctx, "2026-03", "jefe", "Revisar el punto de saludo.")
		},
		"approve": func(r *Reviewer) (Review, error) { return r.Approve(ctx, "2026-03", "jefe") },
	}
	tests := []struct {
		from ReviewState
		step string
		want ReviewState // "" means refused with ErrState
	}{
		{ReviewDraft, "conclusions", ReviewDraft},
		{ReviewDraft, "return", ""},
		{ReviewDraft, "approve", ""},
		{ReviewSubmitted, "conclusions", ""},
		{ReviewSubmitted, "submit", ""},
		{ReviewSubmitted, "return", ReviewReturned},
		{ReviewSubmitted, "approve", ReviewApproved},
		{ReviewReturned, "conclusions", ReviewReturned},
		{ReviewReturned, "submit", ReviewSubmitted},
		{ReviewReturned, "return", ""},
		{ReviewReturned, "approve", ""},
		{ReviewApproved, "conclusions", ""},
		{ReviewApproved, "submit", ""},
		{ReviewApproved, "return", ""},
		{ReviewApproved, "approve", ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s", tc.from, tc.step), func(t *testing.T) {
			e := rvNew(t, ReviewOptions{})
			e.rvTo(t, "2026-03", tc.from)
			before, err := e.r.Get(ctx, "2026-03")
			if err != nil {
				t.Fatal(err)
			}
			e.clock.add(time.Minute)
			got, err := steps[tc.step](e.r)
			after, gerr := e.r.Get(ctx, "2026-03")
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tc.want == "" {
				if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), string(tc.from)) {
					t.Fatalf("err %v, want ErrState naming %s", err, tc.from)
				}
				if !rvSame(before, after) {
					t.Errorf("a refused step changed the review:\n%+v\n%+v", before, after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tc.want || after.State != tc.want {
				t.Errorf("state %s (stored %s), want %s", got.State, after.State, tc.want)
			}
			if len(after.History) != len(before.History)+1 && tc.step != "conclusions" {
				t.Errorf("history %d → %d events", len(before.History), len(after.History))
			}
			if !after.UpdatedAt.Equal(e.clock.now()) {
				t.Errorf("updated_at %v, want %v", after.UpdatedAt, e.clock.now())
			}
		})
	}
}

// TestReviewSubmitDraft covers the first submission separately: the
// table's draft needs conclusions first.
func TestReviewSubmitDraft(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{})
	if _, err := e.r.SaveConclusions(ctx, "2026-03", "tecnico", "Todo en orden."); err != nil {
		t.Fatal(err)
	}
	rv, err := e.r.Submit(ctx, "2026-03", "tecnico")
	if err != nil {
		t.Fatal(err)
	}
	want := Round{N: 1, SubmittedAt: e.clock.now().UTC(), SubmittedBy: "tecnico", Conclusions: "Todo en orden."}
	if rv.State != ReviewSubmitted || len(rv.Rounds) != 1 || !rvSameRound(rv.Rounds[0], want) {
		t.Errorf("submitted: %+v", rv)
	}
}

func rvSame(a, b Review) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func rvSameRound(a, b Round) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestReviewRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(e *rvEnv) error
		want error
	}{
		{"submit before the month ends", func(e *rvEnv) error {
			e.clock.set(time.Date(2026, 3, 31, 23, 59, 59, 0, rvZone))
			_, _ = e.r.SaveConclusions(ctx, "2026-03", "tecnico", "x")
			_, err := e.r.Submit(ctx, "2026-03", "tecnico")
			return err
		}, ErrState},
		{"submit the current month", func(e *rvEnv) error {
			_, _ = e.r.SaveConclusions(ctx, "2026-04", "tecnico", "x")
			_, err := e.r.Submit(ctx, "2026-04", "tecnico")
			return err
		}, ErrState},
		{"submit without conclusions", func(e *rvEnv) error {
			_, err := e.r.Submit(ctx, "2026-03", "tecnico")
			return err
		}, ErrReason},
		{"submit with blank conclusions", func(e *rvEnv) error {
			_, _ = e.r.SaveConclusions(ctx, "2026-03", "tecnico", " \n\t")
			_, err := e.r.Submit(ctx, "2026-03", "tecnico")
			return err
		}, ErrReason},
		{"submit with pending evaluations", func(e *rvEnv) error {
			e.prog.n["2026-03"] = 3
			_, _ = e.r.SaveConclusions(ctx, "2026-03", "tecnico", "x")
			_, err := e.r.Submit(ctx, "2026-03", "tecnico")
			if err != nil && !strings.HasSuffix(err.Error(), ": 3") {
				return fmt.Errorf("no count in %w", err)
			}
			return err
		}, ErrPendingEvaluations},
		{"submit when the progress fails", func(e *rvEnv) error {
			e.prog.err = ErrNoSample
			_, _ = e.r.SaveConclusions(ctx, "2026-03", "tecnico", "x")
			_, err := e.r.Submit(ctx, "2026-03", "tecnico")
			return err
		}, ErrNoSample},
		{"return without observations", func(e *rvEnv) error {
			e.rvTo(t, "2026-03", ReviewSubmitted)
			_, err := e.r.Return(ctx, "2026-03", "jefe", "  ")
			return err
		}, ErrReason},
		{"conclusions without author", func(e *rvEnv) error {
			_, err := e.r.SaveConclusions(ctx, "2026-03", "", "x")
			return err
		}, ErrReason},
		{"submit without author", func(e *rvEnv) error {
			_, _ = e.r.SaveConclusions(ctx, "2026-03", "tecnico", "x")
			_, err := e.r.Submit(ctx, "2026-03", "")
			return err
		}, ErrReason},
		{"return without author", func(e *rvEnv) error {
			e.rvTo(t, "2026-03", ReviewSubmitted)
			_, err := e.r.Return(ctx, "2026-03", "", "obs")
			return err
		}, ErrReason},
		{"approve without author", func(e *rvEnv) error {
			e.rvTo(t, "2026-03", ReviewSubmitted)
			_, err := e.r.Approve(ctx, "2026-03", "")
			return err
		}, ErrReason},
		{"get a bad month", func(e *rvEnv) error { _, err := e.r.Get(ctx, "2026-13"); return err }, ErrBadMonth},
		{"conclusions of a bad month", func(e *rvEnv) error {
			_, err := e.r.SaveConclusions(ctx, "2026-3", "tecnico", "x")
			return err
		}, ErrBadMonth},
		{"submit a bad month", func(e *rvEnv) error { _, err := e.r.Submit(ctx, "marzo", "tecnico"); return err }, ErrBadMonth},
		{"return a bad month", func(e *rvEnv) error { _, err := e.r.Return(ctx, "", "jefe", "obs"); return err }, ErrBadMonth},
		{"approve a bad month", func(e *rvEnv) error { _, err := e.r.Approve(ctx, "2026-03-01", "jefe"); return err }, ErrBadMonth},
		{"locked of a bad month", func(e *rvEnv) error { _, err := e.r.Locked(ctx, "26-03"); return err }, ErrBadMonth},
		{"store fails", func(e *rvEnv) error {
			e.kv.failSet = errRVStore
			_, err := e.r.SaveConclusions(ctx, "2026-03", "tecnico", "x")
			return err
		}, errRVStore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := rvNew(t, ReviewOptions{})
			if err := tc.run(e); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

var errRVStore = errors.New("disco lleno")

func TestReviewSubmitAtMonthEnd(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{})
	// Midnight of 1 April local is the month's end: submitting then is
	// allowed, one nanosecond before it is not.
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, rvZone)
	if _, err := e.r.SaveConclusions(ctx, "2026-03", "tecnico", "x"); err != nil {
		t.Fatal(err)
	}
	e.clock.set(end.Add(-time.Nanosecond))
	if _, err := e.r.Submit(ctx, "2026-03", "tecnico"); !errors.Is(err, ErrState) {
		t.Fatalf("before the end: %v", err)
	}
	if e.prog.calls != 0 {
		t.Errorf("progress asked %d times for a month not over", e.prog.calls)
	}
	e.clock.set(end)
	if _, err := e.r.Submit(ctx, "2026-03", "tecnico"); err != nil {
		t.Fatalf("at the end: %v", err)
	}
}

// TestReviewRounds returns twice and approves the third round.
func TestReviewRounds(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{KeepMonths: 3})
	m := "2026-03"
	step := func(f func() (Review, error)) Review {
		t.Helper()
		e.clock.add(time.Hour)
		rv, err := f()
		if err != nil {
			t.Fatal(err)
		}
		return rv
	}
	t0 := e.clock.now().UTC()
	step(func() (Review, error) { return e.r.SaveConclusions(ctx, m, "tecnico", "Versión 1") })
	step(func() (Review, error) { return e.r.Submit(ctx, m, "tecnico") })
	step(func() (Review, error) { return e.r.Return(ctx, m, "jefe", "Observación 1") })
	step(func() (Review, error) { return e.r.SaveConclusions(ctx, m, "tecnico", "Versión 2") })
	step(func() (Review, error) { return e.r.Submit(ctx, m, "tecnico2") })
	step(func() (Review, error) { return e.r.Return(ctx, m, "jefe", "Observación 2") })
	// Resubmitted unchanged: the round keeps the same conclusions.
	step(func() (Review, error) { return e.r.Submit(ctx, m, "tecnico") })
	rv := step(func() (Review, error) { return e.r.Approve(ctx, m, "jefe") })

	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	want := []Round{
		{N: 1, SubmittedAt: h(2), SubmittedBy: "tecnico", Conclusions: "Versión 1", ReturnedAt: new(h(3)), ReturnedBy: "jefe", Observations: "Observación 1"},
		{N: 2, SubmittedAt: h(5), SubmittedBy: "tecnico2", Conclusions: "Versión 2", ReturnedAt: new(h(6)), ReturnedBy: "jefe", Observations: "Observación 2"},
		{N: 3, SubmittedAt: h(7), SubmittedBy: "tecnico", Conclusions: "Versión 2", ApprovedAt: new(h(8)), ApprovedBy: "jefe"},
	}
	if len(rv.Rounds) != len(want) {
		t.Fatalf("%d rounds, want %d", len(rv.Rounds), len(want))
	}
	for i := range want {
		if !rvSameRound(rv.Rounds[i], want[i]) {
			t.Errorf("round %d:\n got %+v\nwant %+v", i+1, rv.Rounds[i], want[i])
		}
	}
	wantHist := []Event{
		{At: h(1), By: "tecnico", Action: EventConclusions},
		{At: h(2), By: "tecnico", Action: EventSubmitted, Detail: "ronda 1"},
		{At: h(3), By: "jefe", Action: EventReturned, Detail: "Observación 1"},
		{At: h(4), By: "tecnico", Action: EventConclusions},
		{At: h(5), By: "tecnico2", Action: EventSubmitted, Detail: "ronda 2"},
		{At: h(6), By: "jefe", Action: EventReturned, Detail: "Observación 2"},
		{At: h(7), By: "tecnico", Action: EventSubmitted, Detail: "ronda 3"},
		{At: h(8), By: "jefe", Action: EventApproved, Detail: "ronda 3"},
	}
	if !slices.EqualFunc(rv.History, wantHist, func(a, b Event) bool {
		return a.At.Equal(b.At) && a.By == b.By && a.Action == b.Action && a.Detail == b.Detail
	}) {
		t.Errorf("history:\n got %+v\nwant %+v", rv.History, wantHist)
	}
	if rv.ApprovedAt == nil || !rv.ApprovedAt.Equal(h(8)) {
		t.Errorf("approved_at %v, want %v", rv.ApprovedAt, h(8))
	}
	// h(8) is 2 April 18:00 local + 0: three months later on the calendar.
	if wantKeep := h(8).In(rvZone).AddDate(0, 3, 0); rv.KeepUntil == nil || !rv.KeepUntil.Equal(wantKeep) ||
		rv.KeepUntil.In(rvZone).Format(time.DateOnly) != "2026-07-02" {
		t.Errorf("keep_until %v, want %v", rv.KeepUntil, wantKeep)
	}
	// A second reviewer over the same bucket reads the same review.
	r2, err := NewReviewer(e.kv, e.prog, e.ind, rvZone, ReviewOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r2.Get(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if !rvSame(again, rv) {
		t.Errorf("read back:\n%+v\n%+v", again, rv)
	}
}

func TestReviewConclusionsCoalesce(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{})
	saves := []struct{ by, text string }{
		{"tecnico", "B"}, {"tecnico", "Bo"}, {"tecnico", "Borrador"}, {"tecnico2", "Borrador 2"}, {"tecnico", "Final"},
	}
	var rv Review
	var err error
	for _, s := range saves {
		e.clock.add(time.Second)
		if rv, err = e.r.SaveConclusions(ctx, "2026-03", s.by, s.text); err != nil {
			t.Fatal(err)
		}
	}
	if rv.Conclusions != "Final" {
		t.Errorf("conclusions %q", rv.Conclusions)
	}
	var by []string
	for _, ev := range rv.History {
		by = append(by, ev.By)
	}
	if !slices.Equal(by, []string{"tecnico", "tecnico2", "tecnico"}) {
		t.Errorf("history by %v", by)
	}
	if first := e.clock.now().Add(-2 * time.Second); !rv.History[0].At.Equal(first) {
		t.Errorf("first event at %v, want the last of its saves %v", rv.History[0].At, first)
	}
}

func TestReviewKeepUntilDefault(t *testing.T) {
	e := rvNew(t, ReviewOptions{})
	e.rvTo(t, "2026-03", ReviewApproved)
	rv, err := e.r.Get(context.Background(), "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	if got := rv.KeepUntil.In(rvZone); got.Format("2006-01-02 15:04") != "2027-04-02 10:00" {
		t.Errorf("keep_until %v, want 2027-04-02 10:00 local (12 months)", got)
	}
}

func TestReviewLocked(t *testing.T) {
	for st, want := range map[ReviewState]bool{
		ReviewDraft: false, ReviewSubmitted: true, ReviewReturned: false, ReviewApproved: true,
	} {
		e := rvNew(t, ReviewOptions{})
		e.rvTo(t, "2026-03", st)
		got, err := e.r.Locked(context.Background(), "2026-03")
		if err != nil || got != want {
			t.Errorf("%s: locked %v %v, want %v", st, got, err, want)
		}
	}
	var _ MonthLock = (*Reviewer)(nil)
	var _ EvaluationProgress = PendingFunc(nil)
	var _ EvaluationProgress = (*Evaluator)(nil)
}

func TestNewReviewer(t *testing.T) {
	kv, prog := rvNewKV(), &rvPending{}
	if _, err := NewReviewer(kv, prog, nil, nil, ReviewOptions{}, nil); !errors.Is(err, ErrNoLocation) {
		t.Errorf("no zone: %v", err)
	}
	if _, err := NewReviewer(nil, prog, nil, rvZone, ReviewOptions{}, nil); err == nil {
		t.Error("no store: accepted")
	}
	if _, err := NewReviewer(kv, nil, nil, rvZone, ReviewOptions{}, nil); err == nil {
		t.Error("no progress: accepted")
	}
	// A PendingFunc reaches an Evaluator built later.
	n := 0
	r, err := NewReviewer(kv, PendingFunc(func(context.Context, string) (int, error) { n++; return 2, nil }), nil,
		rvZone, ReviewOptions{}, nil, WithReviewerClock(func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.SaveConclusions(ctx, "2026-03", "t", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Submit(ctx, "2026-03", "t"); !errors.Is(err, ErrPendingEvaluations) || n != 1 {
		t.Errorf("through PendingFunc: %v (called %d)", err, n)
	}
}

// TestReviewStorageBucket runs the steps over the board's store.
func TestReviewStorageBucket(t *testing.T) {
	st, err := storage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clock := &rvClock{t: time.Date(2026, 4, 2, 10, 0, 0, 0, rvZone)}
	r, err := NewReviewer(st.KV("report"), &rvPending{}, nil, rvZone, ReviewOptions{Operators: rvOperators}, nil, WithReviewerClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	e := &rvEnv{r: r, clock: clock}
	e.rvTo(t, "2026-03", ReviewApproved)
	ctx := context.Background()
	a, err := r.AddAction(ctx, ActionRequest{Month: "2026-03", By: "jefe", To: "Ana", Instruction: "Saludar con el nombre de la institución.",
		Indicator: Indicator{Kind: IndicatorPointNoCumplePct, Point: PointSaludo}, DueDate: "2026-04-30"})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := r.Get(ctx, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	if rv.State != ReviewApproved || rv.History[len(rv.History)-1].Detail != a.ID || a.ID != "2026-03-1" {
		t.Errorf("over storage: %+v, action %s", rv, a.ID)
	}
}

// TestReviewConcurrent races writers and readers on one month (-race).
func TestReviewConcurrent(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{})
	e.rvTo(t, "2026-03", ReviewApproved)
	const n = 24
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			a, err := e.r.AddAction(ctx, ActionRequest{Month: "2026-03", By: "jefe", To: rvOperators[i%3],
				Instruction: fmt.Sprintf("Instrucción %d", i), Indicator: Indicator{Kind: IndicatorServiceLevelPct}, DueDate: "2026-05-31"})
			ids[i], errs[i] = a.ID, err
		})
		wg.Go(func() {
			_, _ = e.r.SaveConclusions(ctx, "2026-04", fmt.Sprintf("t%d", i%2), fmt.Sprint(i))
			if _, err := e.r.Locked(ctx, "2026-03"); err != nil {
				t.Error(err)
			}
			_, _ = e.r.Calendar(ctx, 2)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return actionN(a) - actionN(b) })
	for i, id := range ids {
		if want := fmt.Sprintf("2026-03-%d", i+1); id != want {
			t.Fatalf("ids %v: not 1..%d once each", ids, n)
		}
	}
	rv, err := e.r.Get(ctx, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	added := 0
	for _, ev := range rv.History {
		if ev.Action == EventActionAdded {
			added++
		}
	}
	if added != n {
		t.Errorf("%d accion_registrada events, want %d (a write lost)", added, n)
	}
}
