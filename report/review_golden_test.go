package report

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// updateReview rewrites testdata/review_* golden files; -update (if the
// package's other tests define it) does too.
var updateReview = flag.Bool("update-review", false, "rewrite testdata/review* golden files")

func rvUpdate() bool {
	if *updateReview {
		return true
	}
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestReviewWorkflowGolden runs the month's whole review, an action and
// its follow-up, and compares what the JSON API would show (the review,
// the stored record with its retention mark, the action, the next month's
// follow-up and the calendar) with the reviewed golden file: the keys are
// a contract.
func TestReviewWorkflowGolden(t *testing.T) {
	ctx := context.Background()
	e := rvNew(t, ReviewOptions{KeepMonths: 1})
	step := func(_ Review, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		e.clock.add(90 * time.Minute)
	}
	m := "2026-03"
	step(e.r.SaveConclusions(ctx, m, "tecnico", "El saludo no cumple en el 25 % de la muestra."))
	step(e.r.Submit(ctx, m, "tecnico"))
	step(e.r.Return(ctx, m, "jefe", "Añadir el análisis por recepcionista."))
	step(e.r.SaveConclusions(ctx, m, "tecnico", "El saludo no cumple en el 25 % de la muestra; Ana, 15 %."))
	step(e.r.Submit(ctx, m, "tecnico"))
	step(e.r.Approve(ctx, m, "jefe"))
	ind := Indicator{Kind: IndicatorPointNoCumplePct, Point: PointSaludo, Operator: "Ana"}
	e.ind.v[rvIndKey("2026-03", ind)] = 15
	e.ind.v[rvIndKey("2026-04", ind)] = 5.5
	a, err := e.r.AddAction(ctx, ActionRequest{Month: m, By: "jefe", To: "Ana", Instruction: "Saludar con el nombre de la institución.", Indicator: ind, DueDate: "2026-04-30"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.add(time.Hour)
	if _, err := e.r.AcknowledgeAction(ctx, a.ID, "Ana", "ana"); err != nil {
		t.Fatal(err)
	}
	e.clock.set(time.Date(2026, 5, 2, 11, 0, 0, 0, rvZone))
	if _, err := e.r.Assess(ctx, AssessRequest{ID: a.ID, Month: "2026-04", By: "jefe", Status: ActionEffective, Comment: "Bajó a 5,5 %."}); err != nil {
		t.Fatal(err)
	}
	// The month's recordings were kept one month after the approval.
	e.clock.set(time.Date(2026, 5, 3, 0, 0, 0, 0, rvZone))
	keep := &rvKeeper{kept: map[string]string{"r1": KeepReason(m), "r2": "otra"}}
	smp := &rvSamples{m: map[string]Sample{m: rvSampleOf(m, []string{"r1", "r2"})}}
	if n, err := e.r.ReleaseExpired(ctx, smp, keep); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	rv, err := e.r.Get(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	stored, _, _ := e.kv.Get(ctx, reviewKey(m))
	act, err := e.r.Action(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	fus, err := e.r.FollowUps(ctx, "2026-04")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := e.r.Calendar(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(map[string]any{
		"review": rv, "stored": json.RawMessage(stored), "action": act, "follow_ups_2026-04": fus, "calendar": cal,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "review_workflow.golden.json")
	if rvUpdate() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; got:\n%s", path, got)
	}
}
