package report

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var updateTabulate = flag.Bool("update-tabulate", false, "rewrite testdata/tabulate* golden files")

// TestWilson checks the interval against published values:
//   - 81/263, 15/148, 0/20 and 1/29 are the examples of R. G. Newcombe,
//     "Two-sided confidence intervals for the single proportion:
//     comparison of seven methods", Statistics in Medicine 17 (1998)
//     857–872, Table II, method 3 (Wilson score without continuity
//     correction): 0.2553–0.3662, 0.0624–0.1605, 0–0.1611, 0.0061–0.1718;
//   - 0/10, 5/10, 10/10 and 3/7 were computed apart with the closed form
//     (Python, z = 1.96) and agree with R's prop.test(correct = FALSE)
//     and binom::binom.wilson: 0–27.75 %, 23.66–76.34 %, 72.25–100 %,
//     15.82–74.95 %.
//
// Newcombe's values are to 4 decimals of a proportion, so the tolerance
// is 0.005 percentage points plus their rounding.
func TestWilson(t *testing.T) {
	for _, tc := range []struct {
		k, n     int
		lo, hi   float64
		tol      float64
		noResult bool
	}{
		{k: 81, n: 263, lo: 25.53, hi: 36.62, tol: 0.006},
		{k: 15, n: 148, lo: 6.24, hi: 16.05, tol: 0.006},
		{k: 0, n: 20, lo: 0, hi: 16.11, tol: 0.006},
		{k: 1, n: 29, lo: 0.61, hi: 17.18, tol: 0.006},
		{k: 0, n: 10, lo: 0, hi: 27.75, tol: 0.006},
		{k: 5, n: 10, lo: 23.66, hi: 76.34, tol: 0.006},
		{k: 10, n: 10, lo: 72.25, hi: 100, tol: 0.006},
		{k: 3, n: 7, lo: 15.82, hi: 74.95, tol: 0.006},
		{k: 0, n: 0, noResult: true},
		{k: -1, n: 5, noResult: true},
		{k: 6, n: 5, noResult: true},
	} {
		t.Run(fmt.Sprintf("%d/%d", tc.k, tc.n), func(t *testing.T) {
			w, ok := Wilson(tc.k, tc.n, Z95)
			if ok == tc.noResult {
				t.Fatalf("ok = %v", ok)
			}
			if tc.noResult {
				return
			}
			if math.Abs(w.Low-tc.lo) > tc.tol || math.Abs(w.High-tc.hi) > tc.tol {
				t.Errorf("%.4f–%.4f %%, want %.2f–%.2f %%", w.Low, w.High, tc.lo, tc.hi)
			}
			if w.Low < 0 || w.High > 100 || w.Low > w.High {
				t.Errorf("interval %+v outside 0–100 %%", w)
			}
		})
	}
	// The point estimate is always inside, and the ends are exact at 0
	// and n.
	for n := 1; n <= 60; n++ {
		for k := 0; k <= n; k++ {
			w, _ := Wilson(k, n, Z95)
			p := float64(k) / float64(n) * 100
			if w.Low > p || w.High < p || (k == 0 && w.Low != 0) || (k == n && w.High != 100) {
				t.Fatalf("%d/%d: %+v, p %.2f", k, n, w, p)
			}
		}
	}
}

// tabFixture builds the month of TestTabulate through the Evaluator:
//
//	r-a1 Ana  submitted: tono no cumple ("voz apresurada" at 12 s), a
//	          blank observation on saludo; acknowledged.
//	r-a2 Ana  inmediatez no cumple (6 rings) with an observation; saludo
//	          and traslado no aplica; revised: paciencia no cumple
//	          ("interrumpió"); the revision disputed, not resolved.
//	r-b1 Beto amabilidad no cumple, disputed, resolved with every point
//	          cumple and an observation on amabilidad.
//	r-b3 Beto draft.
//	r-b5 Beto sampled, not opened.
//	r-b2 Beto replaced, with a submitted evaluation all no cumple made
//	          before its replacement: not counted.
func tabFixture(t testing.TB) (*Sample, []Evaluation) {
	t.Helper()
	ctx := context.Background()
	f := newEvFixture(t)
	f.calls["r-b5"] = evCall("r-b5", "Beto", time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC), 1, 2, true, 30)
	smp := f.samples.m[evMonth]
	smp.Items = append(smp.Items, Item{Rank: 4, Operator: "Beto", ID: "r-b5"})
	f.samples.m[evMonth] = smp

	set := func(as []Answer, point string, v Verdict, obs string) []Answer {
		for i := range as {
			if as[i].Point == point {
				as[i].Verdict, as[i].Observation = v, obs
				return as
			}
		}
		return append(as, Answer{Point: point, Verdict: v, Observation: obs})
	}
	a1 := set(evComplete(VerdictCumple), PointTono, VerdictNoCumple, "voz apresurada")
	a1[1].AtSeconds = evF(12)
	a1 = set(a1, PointSaludo, VerdictCumple, "   ")
	f.evSubmitted(t, "r-a1", a1)
	must := func(_ Evaluation, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-a1", By: "ana", Operator: "Ana"}))

	a2 := set(evComplete(VerdictCumple), PointSaludo, VerdictNoAplica, "")
	a2 = set(a2, PointTraslado, VerdictNoAplica, "")
	a2 = set(a2, PointInmediatez, VerdictCumple, "sonó seis veces")
	f.evSubmitted(t, "r-a2", a2)
	a2 = set(a2[:len(a2)-1], PointPaciencia, VerdictNoCumple, "interrumpió")
	must(f.ev.Revise(ctx, ReviseRequest{Month: evMonth, ID: "r-a2", By: "jefa", Reason: "se escuchó completa", Answers: a2}))
	must(f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-a2", By: "ana", Operator: "Ana", Dispute: true, Comment: "no interrumpí"}))

	b1 := set(evComplete(VerdictCumple), PointAmabilidad, VerdictNoCumple, "")
	f.evSubmitted(t, "r-b1", b1)
	must(f.ev.Acknowledge(ctx, AckRequest{Month: evMonth, ID: "r-b1", By: "beto", Operator: "Beto", Dispute: true, Comment: "me despedí"}))
	must(f.ev.Resolve(ctx, ResolveRequest{Month: evMonth, ID: "r-b1", By: "jefa", Resolution: "tiene razón",
		Answers: set(evComplete(VerdictCumple), PointAmabilidad, VerdictCumple, "se despidió al final")}))

	must(f.ev.Open(ctx, evMonth, "r-b3", "tecnico"))

	evs, err := f.ev.List(ctx, evMonth)
	if err != nil {
		t.Fatal(err)
	}
	b2 := Evaluation{Month: evMonth, ID: "r-b2", Operator: "Beto", Form: FormAnexo1V1, Status: EvalSubmitted, Revision: 1}
	for _, p := range formAnexo1V1().Points {
		b2.Answers = append(b2.Answers, Answer{Point: p.ID, Verdict: VerdictNoCumple, Observation: "no cuenta"})
	}
	b2.Revisions = []Revision{{N: 1, Answers: b2.Answers}}
	evs = append(evs, b2)
	smp, _ = f.samples.Get(ctx, evMonth)
	return &smp, evs
}

func tabulateFixture(t testing.TB) Tabulation {
	t.Helper()
	smp, evs := tabFixture(t)
	form, _ := FormByVersion(FormAnexo1V1)
	return Tabulate(form, smp, evs, []string{"Ana", "Beto", "Carla"}, smpZone)
}

// TestTabulate checks the tabulation against the counts worked out by
// hand from tabFixture's comment.
func TestTabulate(t *testing.T) {
	tab := tabulateFixture(t)
	if tab.Month != evMonth || tab.Form != FormAnexo1V1 {
		t.Errorf("month %q form %q", tab.Month, tab.Form)
	}
	if got, want := [4]int{tab.Sampled, tab.Submitted, tab.Drafts, tab.Pending}, [4]int{5, 3, 1, 1}; got != want {
		t.Errorf("sampled, submitted, drafts, pending = %v, want %v", got, want)
	}
	if got, want := [5]int{tab.WithNonCompliance, tab.Acknowledged, tab.Disputed, tab.Unresolved, tab.Changed}, [5]int{2, 1, 2, 1, 2}; got != want {
		t.Errorf("non-compliance, acknowledged, disputed, unresolved, changed = %v, want %v", got, want)
	}
	type row struct{ c, nc, na int }
	ptr := func(v float64) *float64 { return &v }
	third := ptr(33.33)
	w13 := &Interval{Low: 6.15, High: 79.23} // Wilson(1, 3), closed form
	w03 := &Interval{Low: 0, High: 56.15}    // Wilson(0, 3)
	w02 := &Interval{Low: 0, High: 65.76}    // Wilson(0, 2)
	w12 := &Interval{Low: 9.45, High: 90.55} // Wilson(1, 2)
	w01 := &Interval{Low: 0, High: 79.35}    // Wilson(0, 1)
	check := func(name string, ts []PointTally, want []row, pct []*float64, ws []*Interval) {
		t.Helper()
		if len(ts) != 7 {
			t.Fatalf("%s: %d tallies", name, len(ts))
		}
		for i, tl := range ts {
			w := want[i]
			if tl.Point != formAnexo1V1().Points[i].ID || tl.Label != formAnexo1V1().Points[i].Label ||
				tl.Cumple != w.c || tl.NoCumple != w.nc || tl.NoAplica != w.na || tl.Evaluated != w.c+w.nc {
				t.Errorf("%s %s: %+v, want %+v", name, tl.Point, tl, w)
			}
			if !reflect.DeepEqual(tl.NoCumplePct, pct[i]) || !reflect.DeepEqual(tl.Wilson95, ws[i]) {
				t.Errorf("%s %s: pct %v wilson %v, want %v %v", name, tl.Point, tl.NoCumplePct, tl.Wilson95, pct[i], ws[i])
			}
		}
	}
	zero := ptr(0)
	check("overall", tab.Points,
		[]row{{2, 1, 0}, {2, 0, 1}, {2, 1, 0}, {3, 0, 0}, {2, 1, 0}, {2, 0, 1}, {3, 0, 0}},
		[]*float64{third, zero, third, zero, third, zero, zero},
		[]*Interval{w13, w02, w13, w03, w13, w02, w03})
	half := ptr(50)
	check("Ana", tab.ByOperator["Ana"],
		[]row{{1, 1, 0}, {1, 0, 1}, {1, 1, 0}, {2, 0, 0}, {1, 1, 0}, {1, 0, 1}, {2, 0, 0}},
		[]*float64{half, zero, half, zero, half, zero, zero},
		[]*Interval{w12, w01, w12, w02, w12, w01, w02})
	check("Beto", tab.ByOperator["Beto"],
		[]row{{1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}},
		[]*float64{zero, zero, zero, zero, zero, zero, zero},
		[]*Interval{w01, w01, w01, w01, w01, w01, w01})
	nils := make([]*float64, 7)
	check("Carla", tab.ByOperator["Carla"], make([]row, 7), nils, make([]*Interval, 7))
	if len(tab.ByOperator) != 3 {
		t.Errorf("by operator %v", tab.ByOperator)
	}
	type obs struct{ id, op, point, text, local string }
	var got []obs
	for _, o := range tab.Observations {
		got = append(got, obs{o.ID, o.Operator, o.Point, o.Text, o.InviteLocal})
	}
	want := []obs{
		{"r-a1", "Ana", "tono", "voz apresurada", "2026-03-02 09:00"},
		{"r-a2", "Ana", "inmediatez", "sonó seis veces", "2026-03-02 10:00"},
		{"r-a2", "Ana", "paciencia", "interrumpió", "2026-03-02 10:00"},
		{"r-b1", "Beto", "amabilidad", "se despidió al final", "2026-03-02 11:00"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("observations\n%v\nwant\n%v", got, want)
	}
	if o := tab.Observations[0]; o.Verdict != VerdictNoCumple || o.AtSeconds == nil || *o.AtSeconds != 12 {
		t.Errorf("observation %+v", o)
	}
	if tab.InmediatezAllByOperator != nil || tab.InmediatezAll.Evaluated != 0 {
		t.Error("Tabulate filled the census")
	}
}

// TestTabulateNoSample counts every submitted evaluation when there is no
// sample to say which calls are in it.
func TestTabulateNoSample(t *testing.T) {
	_, evs := tabFixture(t)
	form, _ := FormByVersion(FormAnexo1V1)
	tab := Tabulate(form, nil, evs, nil, nil)
	if tab.Month != evMonth || tab.Sampled != 0 || tab.Submitted != 4 || tab.Drafts != 0 || tab.Pending != 0 {
		t.Errorf("%+v", tab)
	}
	// r-b2's all-no-cumple evaluation now counts: inmediatez 2 + 1 of 4.
	if p := tab.Points[0]; p.NoCumple != 2 || p.Evaluated != 4 {
		t.Errorf("inmediatez %+v", p)
	}
	if tab.Observations[0].InviteLocal != "2026-03-02 15:00" {
		t.Errorf("observation in UTC %+v", tab.Observations[0])
	}
	empty := Tabulate(form, nil, nil, []string{"Ana"}, nil)
	if len(empty.Points) != 7 || empty.Points[0].NoCumplePct != nil || len(empty.ByOperator["Ana"]) != 7 || empty.Observations == nil {
		t.Errorf("empty %+v", empty)
	}
}

func TestTabulateGolden(t *testing.T) {
	got, err := json.MarshalIndent(tabulateFixture(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "tabulate_2026-03.golden.json")
	if *updateTabulate || smpUpdate() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-tabulate)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("tabulation differs from %s (run with -update-tabulate and review):\n%s", path, got)
	}
}

func BenchmarkTabulate(b *testing.B) {
	form, _ := FormByVersion(FormAnexo1V1)
	ops := []string{"Ana", "Beto", "Carla", "Dora", "Elsa"}
	smp := &Sample{Month: evMonth}
	var evs []Evaluation
	verdicts := []Verdict{VerdictCumple, VerdictCumple, VerdictCumple, VerdictNoCumple, VerdictNoAplica}
	for i := range 400 {
		id := fmt.Sprintf("r-%05d", i)
		op := ops[i%len(ops)]
		smp.Items = append(smp.Items, Item{Rank: i/len(ops) + 1, Operator: op, ID: id})
		e := Evaluation{Month: evMonth, ID: id, Operator: op, Form: form.Version, Status: EvalSubmitted, Revision: 1,
			Facts: EvalFacts{InviteAt: time.Date(2026, 3, 1+i%28, 8+i%10, i%60, 0, 0, time.UTC)}}
		for j, p := range form.Points {
			a := Answer{Point: p.ID, Verdict: verdicts[(i+j)%len(verdicts)]}
			if (i+j)%7 == 0 {
				a.Observation = "observación de la llamada"
			}
			e.Answers = append(e.Answers, a)
		}
		e.Revisions = []Revision{{N: 1, Answers: e.Answers}}
		evs = append(evs, e)
	}
	b.ReportAllocs()
	for b.Loop() {
		tab := Tabulate(form, smp, evs, ops, smpZone)
		if tab.Submitted != 400 {
			b.Fatal(tab.Submitted)
		}
	}
}
