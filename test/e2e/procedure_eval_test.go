package e2e_test

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
)

// procAnswers is what the técnico answers for one call: a verdict for
// every point the evaluator judges, observations by point, and the point
// whose moment is marked on the player while listening.
type procAnswers struct {
	verdicts map[string]string
	obs      map[string]string
	mark     string
}

// procForm is the form the console evaluates with (the contract of
// report.CurrentForm).
func procForm(t *testing.T) report.Form {
	t.Helper()
	f, err := report.FormByVersion(report.CurrentForm)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// answersFor is Cumple on every judged point but traslado (no transfer:
// No aplica) and the exceptions given.
func answersFor(form report.Form, mark string, except map[string]string, obs map[string]string) procAnswers {
	a := procAnswers{verdicts: map[string]string{}, obs: obs, mark: mark}
	for _, p := range form.Points {
		if p.Auto {
			continue
		}
		a.verdicts[p.ID] = string(report.VerdictCumple)
		if p.ID == report.PointTraslado {
			a.verdicts[p.ID] = string(report.VerdictNoAplica)
		}
	}
	for p, v := range except {
		a.verdicts[p] = v
	}
	return a
}

// measuredVerdict is inmediatez as the capture measures it.
func measuredVerdict(c procCall) string {
	if c.withinLimit() {
		return string(report.VerdictCumple)
	}
	return string(report.VerdictNoCumple)
}

// markAt is where the técnico marks the moment: a second and a half into
// the recording, while it plays.
const markAt = 1.5

// evaluateCall is the técnico's work on one sampled call: from the
// Evaluación index, open it; check the facts shown; listen to it and mark
// the moment of a point; answer every point and type the observations;
// wait for the draft to be saved by itself (and be on the server); submit.
// It returns the moment marked.
func evaluateCall(t *testing.T, tec *tab, art string, shots *int, month, id string, c procCall, a procAnswers) float64 {
	t.Helper()
	tec.open("/evaluacion?m=" + month)
	if got := tec.attr("#eval-index", "data-month"); got != month {
		t.Fatalf("#eval-index[data-month] = %q, want %s", got, month)
	}
	row := fmt.Sprintf(`#eval-items tr[data-id=%q]`, id)
	if st := tec.attr(row, "data-status"); st != "pending" {
		t.Fatalf("%s has data-status %q before the evaluation, want pending", row, st)
	}
	if _, path := tec.clickTo(row + " button.open"); !strings.HasPrefix(path, "/evaluacion?") || !strings.Contains(path, url.QueryEscape(id)) {
		t.Fatalf("Evaluar %s landed on %s", id, path)
	}
	tec.waitFor("form#eval-form", stepBudget)
	tec.waitTrue("eval.js", `document.getElementById("save-state").dataset.state === "idle"`, stepBudget)
	for attr, want := range map[string]string{"data-id": id, "data-month": month, "data-status": "draft", "data-form": report.CurrentForm} {
		if got := tec.attr("section#evaluation", attr); got != want {
			t.Errorf("section#evaluation[%s] = %q, want %q", attr, got, want)
		}
	}
	if got := tec.text("#eval-operator"); got != procReceptionists[c.op].name {
		t.Errorf("#eval-operator = %q, want %q", got, procReceptionists[c.op].name)
	}
	if got := tec.text("#eval-rings"); !strings.Contains(got, fmt.Sprint(c.rings())) {
		t.Errorf("#eval-rings = %q, want the measured %d rings", got, c.rings())
	}
	if got := tec.attr("#measured-inmediatez", "data-verdict"); got != measuredVerdict(c) {
		t.Errorf("#measured-inmediatez[data-verdict] = %q, want %q for %d rings", got, measuredVerdict(c), c.rings())
	}

	marked := listenAndMark(t, tec, a.mark, markAt)
	for _, p := range sortedKeys(a.verdicts) {
		tec.click(fmt.Sprintf(`input[name="verdict-%s"][value=%q]`, p, a.verdicts[p]))
	}
	for _, p := range sortedKeys(a.obs) {
		tec.typeInto("#obs-"+p, a.obs[p], false)
	}
	// Leaving the last field saves at once (eval.js saves on focusout).
	tec.click("#h-call")
	tec.waitTrue("Guardado", `document.getElementById("save-state").dataset.state === "saved" && document.getElementById("save-state").textContent.startsWith("Guardado ")`, stepBudget)
	waitDraft(t, tec, month, id, a, marked)
	shootStep(tec, art, shots, "evaluacion-"+c.key+"-borrador")

	if _, path := tec.clickTo("#eval-submit"); !strings.HasPrefix(path, "/evaluacion?") {
		t.Fatalf("Enviar evaluación landed on %s", path)
	}
	if errs := tec.text(".error"); errs != "" {
		t.Fatalf("the evaluation of %s was refused: %s", id, errs)
	}
	if st := tec.attr("section#evaluation", "data-status"); st != "submitted" {
		t.Fatalf("section#evaluation[data-status] = %q after Enviar, want submitted", st)
	}
	if rev := tec.attr("section#evaluation", "data-revision"); rev != "1" {
		t.Errorf("section#evaluation[data-revision] = %q after the first submission, want 1", rev)
	}
	want := map[string]string{report.PointInmediatez: measuredVerdict(c)}
	for p, v := range a.verdicts {
		want[p] = v
	}
	for p, v := range want {
		if got := tec.attr(fmt.Sprintf(`#eval-result tr[data-point=%q]`, p), "data-verdict"); got != v {
			t.Errorf("submitted %s: %s is %q, want %q", id, p, got, v)
		}
	}
	for p, o := range a.obs {
		if got := tec.text(fmt.Sprintf(`#eval-result tr[data-point=%q] td.observation`, p)); got != o {
			t.Errorf("submitted %s: observation of %s reads %q, want %q", id, p, got, o)
		}
	}
	shootStep(tec, art, shots, "evaluacion-"+c.key+"-enviada")
	return marked
}

// procEval is the API's evaluation, as far as the test reads it.
type procEval struct {
	Status  string `json:"status"`
	Answers []struct {
		Point       string   `json:"point"`
		Verdict     string   `json:"verdict"`
		Observation string   `json:"observation"`
		AtSeconds   *float64 `json:"at_seconds"`
	} `json:"answers"`
}

// waitDraft waits until the server's draft holds every answer typed: the
// autosave's "Guardado" is for what was sent, and a later keystroke may
// still be on its way.
func waitDraft(t *testing.T, tec *tab, month, id string, a procAnswers, marked float64) {
	t.Helper()
	path := "/api/v1/months/" + month + "/evaluations/" + url.PathEscape(id)
	deadline := time.Now().Add(stepBudget)
	for {
		status, ev := fetchJSON[procEval](tec, path)
		var diffs []string
		if status != 200 {
			diffs = append(diffs, fmt.Sprintf("GET %s: %d", path, status))
		}
		seen := map[string]bool{}
		for _, ans := range ev.Answers {
			seen[ans.Point] = true
			if v, ok := a.verdicts[ans.Point]; ok && ans.Verdict != v {
				diffs = append(diffs, fmt.Sprintf("%s: verdict %q, want %q", ans.Point, ans.Verdict, v))
			}
			if ans.Observation != a.obs[ans.Point] {
				diffs = append(diffs, fmt.Sprintf("%s: observation %q, want %q", ans.Point, ans.Observation, a.obs[ans.Point]))
			}
			if ans.Point == a.mark && (ans.AtSeconds == nil || math.Abs(*ans.AtSeconds-marked) > 1e-9) {
				diffs = append(diffs, fmt.Sprintf("%s: at_seconds %v, want %.1f", ans.Point, ans.AtSeconds, marked))
			}
		}
		for p := range a.verdicts {
			if !seen[p] {
				diffs = append(diffs, p+": no answer")
			}
		}
		if len(diffs) == 0 {
			if ev.Status != "draft" {
				t.Errorf("the evaluation of %s is %q before Enviar, want draft", id, ev.Status)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the draft of %s on the server, %v after Guardado: %s", id, stepBudget, strings.Join(diffs, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// procTally is the expected tally of one point.
type procTally struct {
	evaluated, noCumple, noAplica int
}

// pct is the % of no cumple, nil when nothing was evaluated (rounded to
// two decimals as the report does).
func (p procTally) pct() *float64 {
	if p.evaluated == 0 {
		return nil
	}
	v := math.Round(float64(p.noCumple)/float64(p.evaluated)*100*100) / 100
	return &v
}

// tallies computes the tabulation of the given evaluations (the verdicts
// entered and inmediatez as measured) by point: No aplica is not
// evaluated.
func tallies(evals map[string]procAnswers, calls map[string]procCall) map[string]procTally {
	out := map[string]procTally{}
	for id, a := range evals {
		verdicts := map[string]string{report.PointInmediatez: measuredVerdict(calls[id])}
		for p, v := range a.verdicts {
			verdicts[p] = v
		}
		for p, v := range verdicts {
			t := out[p]
			switch v {
			case string(report.VerdictNoAplica):
				t.noAplica++
			case string(report.VerdictNoCumple):
				t.noCumple++
				t.evaluated++
			default:
				t.evaluated++
			}
			out[p] = t
		}
	}
	return out
}

// censusInmediatez is inmediatez over every inbound call of the month: an
// answered call meets it within the ring limit; an abandoned one fails it
// when it rang past the limit, else does not apply.
func censusInmediatez(plan []procCall, month string) procTally {
	var t procTally
	for _, c := range plan {
		if c.outbound || c.month() != month {
			continue
		}
		switch {
		case c.outcome == outAbandoned && c.rings() <= maxRings:
			t.noAplica++
		case c.outcome == outAbandoned || !c.withinLimit():
			t.noCumple++
			t.evaluated++
		default:
			t.evaluated++
		}
	}
	return t
}

// checkTabulation checks the Informe page's tabulation against the
// tallies of what was entered.
func checkTabulation(t *testing.T, tb *tab, want map[string]procTally, census procTally) {
	t.Helper()
	pts := tb.attrs("#tabulation tr[data-point]", "data-point")
	if len(pts) != len(procForm(t).Points) {
		t.Errorf("#tabulation has rows %v, want one per point of the form", pts)
	}
	for _, p := range pts {
		checkPct(t, tb, fmt.Sprintf(`#tabulation tr[data-point=%q] td.pct`, p), want[p].pct())
	}
	checkPct(t, tb, `#inmediatez-all tr[data-operator=""] td.pct`, census.pct())
}

// checkPct compares a percentage shown with the expected one.
func checkPct(t *testing.T, tb *tab, sel string, want *float64) {
	t.Helper()
	raw := tb.text(sel)
	got, err := esNumber(raw)
	switch {
	case err != nil:
		t.Errorf("%s: %v", sel, err)
	case (got == nil) != (want == nil):
		t.Errorf("%s = %q, want %v", sel, raw, fmtOpt(want))
	case got != nil && math.Abs(*got-*want) > 0.005:
		t.Errorf("%s = %q, want %s", sel, raw, fmtOpt(want))
	case want != nil && !strings.Contains(raw, esFixed(*want, 2)):
		t.Errorf("%s = %q, want it written %s (decimal comma)", sel, raw, esFixed(*want, 2))
	}
}

func fmtOpt(v *float64) string {
	if v == nil {
		return "none (—)"
	}
	return esFixed(*v, 2)
}

func sortedKeys[V any](m map[string]V) []string {
	k := keys(m)
	slices.Sort(k)
	return k
}
