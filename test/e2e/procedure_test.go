package e2e_test

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/report"
)

// TestProcedure is the month's procedure of issue 10 end to end, in
// headless Chromium against `switchtap run --pcap` on a synthetic capture
// of the two months before the current one (October and November on 2
// December 2026; both have ended, and the daemon's clock is the real
// one). The técnico draws October's sample, evaluates its three calls
// while listening to them (one "No cumple" on Saludo, with an accented
// observation and the moment marked on the player), submits them and the
// report; the jefe returns it with an observation; the técnico adjusts
// the conclusions and resubmits; the jefe approves it and records a
// corrective action for the receptionist who failed the point; she sees
// only her own evaluation and acknowledges it. In November the técnico
// evaluates her call as Cumple, and November's report shows the action's
// follow-up: before and after as computed from what was entered. The
// October exports are read back (XLSX with excelize, PDF with pdftotext
// and pdftoppm, CSV parsed) and the audit log holds every step and
// verifies. Screenshots of every step, the exports and the rendered PDF
// pages are artifacts (procedure-*, in $SWITCHTAP_ARTIFACTS or
// test/e2e/artifacts/), with the daemon's log.
func TestProcedure(t *testing.T) {
	if testing.Short() {
		t.Skip("the procedure's end-to-end browser test is skipped in -short mode")
	}
	started := time.Now()
	exe := chromiumPath(t)
	// The PDF is read back with poppler: missing, the proof is not made
	// (a failure, not a skip: only chromium's absence skips, on a laptop).
	for _, tool := range []string{"pdftotext", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (Debian package poppler-utils): %v", tool, err)
		}
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := nettest.BuildSwitchtap(t, root, buildBudget)
	built := time.Now()
	art := artifactsDir(t)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	first, second := procMonths(time.Now(), loc)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "switchtap.yaml")
	pcapPath := filepath.Join(dir, "procedure.pcap")
	dataDir := filepath.Join(dir, "data")
	writeFile(t, cfgPath, procConfigYAML())
	plan := procPlan(first, second)
	if err := writeProcCapture(pcapPath, plan); err != nil {
		t.Fatal(err)
	}

	d := startDaemon(t, filepath.Join(art, "procedure-switchtap-run.log"), bin, "run", "--pcap", pcapPath, "--data-dir", dataDir,
		"--web-listen", "127.0.0.1:0", "--metrics-listen", "off", "--config", cfgPath)
	ready, err := d.waitReady(readyBudget)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ready["web"]
	if !strings.HasPrefix(ready["web"], "127.0.0.1:") {
		t.Fatalf("ready line has web=%q, want 127.0.0.1:PORT", ready["web"])
	}
	cli := procCLI{t: t, bin: bin, dataDir: dataDir, cfgPath: cfgPath}
	recs := cli.waitStored(plan)
	stored := time.Now()
	t.Logf("switchtap ready at %s; %d records stored %v after the build", base, len(recs), stored.Sub(built).Round(time.Millisecond))
	byID := map[string]procCall{}
	for _, c := range plan {
		byID[recs[c.callID].ID] = c
	}

	// The accounts, made by the administrator at the board's terminal.
	cli.run(tecnicoPassword+"\n"+tecnicoPassword+"\n", "user", "add", procTecnico, "--role", "tecnico")
	cli.run(jefePassword+"\n"+jefePassword+"\n", "user", "add", procJefe, "--role", "jefe")
	target := procReceptionists[procTarget]
	cli.run(recepPassword+"\n"+recepPassword+"\n", "user", "add", procRecep, "--role", "recepcionista", "--operator", target.name)

	browser := newBrowser(t, exe)
	s := &procStory{t: t, base: base, art: art, browser: browser, cli: cli, plan: plan, byID: byID,
		form: procForm(t), evals: map[string]map[string]procAnswers{},
		oct: first.Format("2006-01"), nov: second.Format("2006-01"), octTitle: monthTitle(first),
		due: second.AddDate(0, 1, -1).Format(time.DateOnly)}
	t.Logf("the story's months: %s (%s) and %s; the action is due %s", s.oct, s.octTitle, s.nov, s.due)
	phase := func(name string, fn func()) {
		t0 := time.Now()
		fn()
		t.Logf("phase %q took %v", name, time.Since(t0).Round(time.Millisecond))
	}
	phase("técnico: October's sample, three evaluations, the report sent", s.octoberByTecnico)
	phase("jefe returns October with an observation; técnico resubmits", s.octoberReturned)
	phase("jefe approves October and records a corrective action", s.octoberApproved)
	phase("receptionist: only her evaluation, acknowledged", s.receptionist)
	phase("November: sample, evaluation, the action's follow-up", s.november)
	phase("exports of October and the audit log", s.exportsAndAudit)
	t.Logf("TestProcedure took %v (build %v)", time.Since(started).Round(time.Millisecond), built.Sub(started).Round(time.Millisecond))
}

// The accounts of the story.
const (
	procTecnico   = "tecnica"
	procJefe      = "jefa"
	jefePassword  = "Jefa-uact-2026"
	procRecep     = "beatriz"
	recepPassword = "Beatriz-2026-ok"
	// procTarget is the receptionist who fails Saludo in October and is
	// the corrective action's (index in procReceptionists).
	procTarget = 1
)

// The texts the people type; accents on purpose.
const (
	obsSaludo       = "No se identificó al contestar: faltó el nombre de la institución."
	obsAmabilidad   = "Despedida cordial, según el protocolo."
	conclusionsV1   = "La muestra de octubre cumple en casi todos los puntos; una recepcionista no se identificó al contestar."
	jefeObservation = "Agregue la comparación con septiembre y la capacitación que propone."
	conclusionsV2   = "Comparado con septiembre, el saludo empeoró. Se propone una capacitación breve sobre la identificación al contestar."
	actionText      = "Repasar el saludo institucional: identificarse al contestar, según el Anexo 1."
)

// procStory is the state the story's steps share.
type procStory struct {
	// oct and nov are the story's months (YYYY-MM; October and November
	// on 2 December 2026), octTitle the first as the PDF names it, due
	// the action's due date (the second's last day).
	oct, nov, octTitle, due string
	t                       *testing.T
	base                    string
	art                     string
	browser                 context.Context
	cli                     procCLI
	plan                    []procCall
	byID                    map[string]procCall // by record id
	form                    report.Form
	shots                   int

	tec, jefe *tab
	// action is the corrective action's id; baseline its value in
	// October as computed from the answers.
	action   string
	baseline *float64
	// token is the jefe's API token, for the exports.
	token string
	// octoberSent is about when October's report was first submitted.
	octoberSent time.Time
	// evals are the answers entered, by month and record id.
	evals map[string]map[string]procAnswers
	// sample is each month's drawn record ids, in the sample's order.
	sample map[string][]string
}

// drawSample draws month's sample on the Muestra page and returns the
// drawn record ids; it checks the design against the frame the plan
// makes: one call per receptionist with calls that month.
func (s *procStory) drawSample(month string) []string {
	t, tec := s.t, s.tec
	tec.open("/muestra?m=" + month)
	if n := tec.count("#no-sample"); n != 1 {
		t.Fatalf("Muestra %s: no #no-sample before the draw", month)
	}
	tec.choose("#draw-seed", procSeed)
	if _, path := tec.clickTo("#draw"); !strings.HasPrefix(path, "/muestra") {
		t.Fatalf("Sortear landed on %s", path)
	}
	if errs := tec.text(".error"); errs != "" {
		t.Fatalf("the draw of %s was refused: %s", month, errs)
	}
	if got := tec.attr("section#sample", "data-month"); got != month {
		t.Fatalf("section#sample[data-month] = %q after the draw, want %s", got, month)
	}
	frame, ops := 0, map[int]int{}
	for _, c := range s.plan {
		if c.month() == month && c.inFrame() {
			frame++
			ops[c.op]++
		}
	}
	ids := tec.attrs("table#items tbody tr[data-id]", "data-id")
	if len(ids) != len(ops) {
		t.Fatalf("the sample of %s has %d calls %v, want one of each of the %d receptionists with calls", month, len(ids), ids, len(ops))
	}
	if got := tec.text("#n"); got != fmt.Sprint(len(ops)) {
		t.Errorf("#n = %q, want %d", got, len(ops))
	}
	if got := tec.text("#frame"); !strings.HasPrefix(got, fmt.Sprint(frame)+" ") {
		t.Errorf("#frame = %q, want a frame of %d calls", got, frame)
	}
	if got := tec.text("#seed"); got != procSeed {
		t.Errorf("#seed = %q, want %s", got, procSeed)
	}
	seen := map[int]bool{}
	for _, id := range ids {
		c, ok := s.byID[id]
		switch {
		case !ok:
			t.Fatalf("the sample of %s has %s, which is no planned call", month, id)
		case !c.inFrame() || c.month() != month:
			t.Errorf("the sample of %s has %s (%s), which is not in its frame", month, id, c.key)
		case seen[c.op]:
			t.Errorf("the sample of %s has two calls of %s", month, procReceptionists[c.op].name)
		}
		seen[c.op] = true
	}
	// The draw is reproducible from the frame and the seed.
	out := s.cli.run("", "sample", "verify", "--month", month)
	t.Logf("switchtap sample verify --month %s: %s", month, strings.TrimSpace(out))
	shootStep(tec, s.art, &s.shots, "muestra-"+month)
	return ids
}

// procSeed is the seed typed in the draw form.
const procSeed = "20261202"

// octoberByTecnico: the técnico logs in, draws October's sample, evaluates
// its three calls listening to each, checks the report's tabulation and
// sends it to the jefe.
func (s *procStory) octoberByTecnico() {
	t := s.t
	s.tec = procLogin(t, s.browser, s.base, procTecnico, tecnicoPassword)
	shootStep(s.tec, s.art, &s.shots, "tecnico-sesion")
	ids := s.drawSample(s.oct)
	s.sample = map[string][]string{s.oct: ids}
	s.evals[s.oct] = map[string]procAnswers{}
	for _, id := range ids {
		c := s.byID[id]
		a := answersFor(s.form, report.PointAmabilidad, nil, map[string]string{report.PointAmabilidad: obsAmabilidad})
		if c.op == procTarget {
			a = answersFor(s.form, report.PointSaludo, map[string]string{report.PointSaludo: string(report.VerdictNoCumple)},
				map[string]string{report.PointSaludo: obsSaludo})
		}
		evaluateCall(t, s.tec, s.art, &s.shots, s.oct, id, c, a)
		s.evals[s.oct][id] = a
	}

	tec := s.tec
	tec.open("/informe?m=" + s.oct)
	if st := tec.attr("section#report", "data-state"); st != "draft" {
		t.Errorf("section#report[data-state] = %q before the submission, want draft", st)
	}
	checkTabulation(t, tec, tallies(s.evals[s.oct], s.byID), censusInmediatez(s.plan, s.oct))
	offered, level := inboundFigures(s.plan, s.oct)
	if got := tec.text("#r-offered"); got != fmt.Sprint(offered) {
		t.Errorf("#r-offered = %q, want the %d inbound calls of the capture", got, offered)
	}
	checkPct(t, tec, "#r-service-level", level)
	if obs := tec.texts("#observations-table tbody tr td"); !slices.Contains(obs, obsSaludo) {
		t.Errorf("#observations-table has no %q: %v", obsSaludo, obs)
	}
	tec.typeInto("#conclusions-text", conclusionsV1, true)
	shootStep(tec, s.art, &s.shots, "informe-octubre-borrador")
	s.octoberSent = time.Now()
	if _, path := tec.clickTo("#report-submit"); !strings.HasPrefix(path, "/informe") {
		t.Fatalf("Enviar al jefe landed on %s", path)
	}
	if errs := tec.formError(); errs != "" {
		t.Fatalf("the report was refused: %s", errs)
	}
	if st := tec.attr("section#report", "data-state"); st != "submitted" {
		t.Fatalf("section#report[data-state] = %q after Enviar al jefe, want submitted", st)
	}
	shootStep(tec, s.art, &s.shots, "informe-octubre-enviado")
}

// octoberReturned: the jefe opens October's report and returns it with an
// observation; the técnico sees it, adjusts the conclusions and sends it
// again. Both rounds are kept.
func (s *procStory) octoberReturned() {
	t := s.t
	s.jefe = procLogin(t, s.browser, s.base, procJefe, jefePassword)
	jefe := s.jefe
	jefe.open("/informe?m=" + s.oct)
	if st := jefe.attr("section#report", "data-state"); st != "submitted" {
		t.Fatalf("the jefe sees October's report %q, want submitted", st)
	}
	if got := jefe.text("#conclusions-text"); got != conclusionsV1 {
		t.Errorf("the jefe reads the conclusions %q, want %q", got, conclusionsV1)
	}
	if n := jefe.count("form#conclusions-form"); n != 0 {
		t.Errorf("the jefe has the conclusions form (%d): only the técnico writes them", n)
	}
	jefe.typeInto("#observations", jefeObservation, true)
	shootStep(jefe, s.art, &s.shots, "jefe-devolver")
	if _, path := jefe.clickTo("#report-return"); !strings.HasPrefix(path, "/informe") {
		t.Fatalf("Devolver landed on %s", path)
	}
	if st := jefe.attr("section#report", "data-state"); st != "returned" {
		t.Fatalf("section#report[data-state] = %q after Devolver, want returned", st)
	}

	tec := s.tec
	tec.open("/informe?m=" + s.oct)
	if st := tec.attr("section#report", "data-state"); st != "returned" {
		t.Fatalf("the técnico sees October's report %q, want returned", st)
	}
	if got := tec.text(`table#rounds tr[data-round="1"][data-result="returned"] td.observations`); got != jefeObservation {
		t.Errorf("the técnico reads the jefe's observation %q, want %q", got, jefeObservation)
	}
	if got := eval[string](tec, `document.getElementById("conclusions-text").value`); got != conclusionsV1 {
		t.Errorf("the returned report's conclusions field holds %q, want the first version", got)
	}
	shootStep(tec, s.art, &s.shots, "tecnico-devuelto")
	tec.typeInto("#conclusions-text", conclusionsV2, true)
	if _, path := tec.clickTo("#report-submit"); !strings.HasPrefix(path, "/informe") {
		t.Fatalf("the second Enviar al jefe landed on %s", path)
	}
	if errs := tec.formError(); errs != "" {
		t.Fatalf("the second submission was refused: %s", errs)
	}
	if st := tec.attr("section#report", "data-state"); st != "submitted" {
		t.Fatalf("section#report[data-state] = %q after the second submission, want submitted", st)
	}
	if got := tec.attrs("table#rounds tr[data-round]", "data-result"); !slices.Equal(got, []string{"returned", "pending"}) {
		t.Errorf("table#rounds results %v, want [returned pending]", got)
	}
}

// octoberApproved: the jefe approves October's report and records the
// corrective action for the receptionist who failed Saludo, measured by
// Saludo's % of no cumple for her, due in November.
func (s *procStory) octoberApproved() {
	t, jefe := s.t, s.jefe
	jefe.open("/informe?m=" + s.oct)
	if got := jefe.text("#conclusions-text"); got != conclusionsV2 {
		t.Errorf("the jefe reads the conclusions %q, want the adjusted %q", got, conclusionsV2)
	}
	if _, path := jefe.clickTo("#report-approve"); !strings.HasPrefix(path, "/informe") {
		t.Fatalf("Aprobar landed on %s", path)
	}
	if st := jefe.attr("section#report", "data-state"); st != "approved" {
		t.Fatalf("section#report[data-state] = %q after Aprobar, want approved", st)
	}
	if got := jefe.attrs("table#rounds tr[data-round]", "data-result"); !slices.Equal(got, []string{"returned", "approved"}) {
		t.Errorf("table#rounds results %v, want [returned approved]", got)
	}
	target := procReceptionists[procTarget].name
	jefe.choose("#a-to", target)
	jefe.typeInto("#a-instruction", actionText, true)
	jefe.choose("#a-kind", report.IndicatorPointNoCumplePct)
	jefe.choose("#a-point", report.PointSaludo)
	jefe.choose("#a-operator", target)
	jefe.choose("#a-due", s.due)
	shootStep(jefe, s.art, &s.shots, "jefe-accion")
	if _, path := jefe.clickTo("#action-add"); !strings.HasPrefix(path, "/informe") {
		t.Fatalf("Registrar acción landed on %s", path)
	}
	if errs := jefe.formError(); errs != "" {
		t.Fatalf("the action was refused: %s", errs)
	}
	ids := jefe.attrs("table#report-actions tr[data-action]", "data-action")
	if len(ids) != 1 {
		t.Fatalf("table#report-actions has actions %v, want the one recorded", ids)
	}
	s.action = ids[0]
	row := fmt.Sprintf(`table#report-actions tr[data-action=%q]`, s.action)
	if got := jefe.text(row + " td.instruction"); got != actionText {
		t.Errorf("the action's instruction reads %q, want %q", got, actionText)
	}
	// The baseline is her Saludo in October, from what was entered.
	mine := map[string]procAnswers{}
	for id, a := range s.evals[s.oct] {
		if s.byID[id].op == procTarget {
			mine[id] = a
		}
	}
	s.baseline = tallies(mine, s.byID)[report.PointSaludo].pct()
	if s.baseline == nil {
		t.Fatal("the target receptionist has no Saludo evaluated in October")
	}
	cells := jefe.texts(row + " td.num")
	if len(cells) != 1 || cells[0] != esFixed(*s.baseline, 2) {
		t.Errorf("the action's baseline reads %v, want %s", cells, esFixed(*s.baseline, 2))
	}
	shootStep(jefe, s.art, &s.shots, "informe-octubre-aprobado")
}

// receptionist: her account sees only her own evaluation (October has
// three), reads the No cumple with its observation, and acknowledges it;
// she marks the action read.
func (s *procStory) receptionist() {
	t := s.t
	r := procLogin(t, s.browser, s.base, procRecep, recepPassword)
	r.open("/mias?m=" + s.oct)
	if got := r.text("#operator"); got != procReceptionists[procTarget].name {
		t.Errorf("#operator = %q, want %q", got, procReceptionists[procTarget].name)
	}
	var mine []string
	for _, id := range s.sample[s.oct] {
		if s.byID[id].op == procTarget {
			mine = append(mine, id)
		}
	}
	got := r.attrs("#evaluaciones article.my-eval", "data-id")
	if !slices.Equal(got, mine) {
		t.Fatalf("Mis evaluaciones lists %v, want only hers %v", got, mine)
	}
	art := fmt.Sprintf(`#evaluaciones article.my-eval[data-id=%q]`, mine[0])
	if v := r.attr(art+` tr[data-point="saludo"]`, "data-verdict"); v != string(report.VerdictNoCumple) {
		t.Errorf("her Saludo reads %q, want no_cumple", v)
	}
	if o := r.text(art + ` tr[data-point="saludo"] td.observation`); o != obsSaludo {
		t.Errorf("her Saludo's observation reads %q, want %q", o, obsSaludo)
	}
	// Another receptionist's evaluation is not hers to read.
	for _, id := range s.sample[s.oct] {
		if s.byID[id].op == procTarget {
			continue
		}
		if status, _ := fetchJSON[any](r, "/api/v1/months/"+s.oct+"/evaluations/"+url.PathEscape(id)); status != 403 && status != 404 {
			t.Errorf("the receptionist reads %s's evaluation %s: %d, want 403 or 404", procReceptionists[s.byID[id].op].name, id, status)
		}
	}
	if acts := r.attrs("table#my-actions tr[data-action]", "data-action"); !slices.Equal(acts, []string{s.action}) {
		t.Errorf("her actions %v, want [%s]", acts, s.action)
	}
	shootStep(r, s.art, &s.shots, "recepcionista-mias")
	if _, path := r.clickTo(art + " button.ack"); !strings.HasPrefix(path, "/mias") {
		t.Fatalf("Reconozco landed on %s", path)
	}
	if st := r.attr(art, "data-status"); st != "acknowledged" {
		t.Errorf("her evaluation is %q after Reconozco, want acknowledged", st)
	}
	if st := r.attr(art+" .ack", "data-ack"); st != "acknowledged" {
		t.Errorf("her evaluation's .ack[data-ack] = %q, want acknowledged", st)
	}
	if _, path := r.clickTo(fmt.Sprintf(`table#my-actions tr[data-action=%q] button.ack-action`, s.action)); !strings.HasPrefix(path, "/mias") {
		t.Fatalf("Leído landed on %s", path)
	}
	if n := r.count(fmt.Sprintf(`table#my-actions tr[data-action=%q] button.ack-action`, s.action)); n != 0 {
		t.Errorf("the action still offers Leído after it was read")
	}
	shootStep(r, s.art, &s.shots, "recepcionista-reconocida")
}

// november: the técnico draws November's sample (her one call), evaluates
// it listening, with Saludo met, and November's report shows the action's
// follow-up: before from October, after from November, both computed
// from what was entered.
func (s *procStory) november() {
	t, tec := s.t, s.tec
	ids := s.drawSample(s.nov)
	s.sample[s.nov] = ids
	s.evals[s.nov] = map[string]procAnswers{}
	for _, id := range ids {
		a := answersFor(s.form, report.PointSaludo, nil, map[string]string{report.PointSaludo: "Se identificó con el nombre de la institución."})
		evaluateCall(t, tec, s.art, &s.shots, s.nov, id, s.byID[id], a)
		s.evals[s.nov][id] = a
	}
	mine := map[string]procAnswers{}
	for id, a := range s.evals[s.nov] {
		if s.byID[id].op == procTarget {
			mine[id] = a
		}
	}
	after := tallies(mine, s.byID)[report.PointSaludo].pct()
	if after == nil {
		t.Fatal("the target receptionist has no Saludo evaluated in November")
	}
	tec.open("/informe?m=" + s.nov)
	row := fmt.Sprintf(`table#follow-ups-table tr[data-action=%q]`, s.action)
	if n := tec.count(row); n != 1 {
		t.Fatalf("November's follow-ups have %d rows for %s: %v", n, s.action, tec.attrs("table#follow-ups-table tr[data-action]", "data-action"))
	}
	for cell, want := range map[string]float64{"before": *s.baseline, "after": *after, "delta": *after - *s.baseline} {
		raw := tec.text(row + " td." + cell)
		got, err := esNumber(raw)
		if err != nil || got == nil || *got != want || raw != esFixed(want, 2) {
			t.Errorf("follow-up %s reads %q, want %s", cell, raw, esFixed(want, 2))
		}
	}
	// A % of no cumple improves when it goes down.
	if got, want := tec.attr(row, "data-improved"), fmt.Sprint(*after < *s.baseline); got != want {
		t.Errorf("follow-up data-improved = %q, want %s (%v → %v)", got, want, *s.baseline, *after)
	}
	t.Logf("follow-up of %s: before %v, after %v", s.action, *s.baseline, *after)
	shootStep(tec, s.art, &s.shots, "informe-noviembre-seguimiento")

	// The jefe values it in November's report.
	jefe := s.jefe
	jefe.open("/informe?m=" + s.nov)
	jefe.choose(row+" select[name=status]", "effective")
	jefe.typeInto(row+` input[name="comment"]`, "Se identificó en la llamada de noviembre.", true)
	if _, path := jefe.clickTo(row + " button.assess"); !strings.HasPrefix(path, "/informe") {
		t.Fatalf("Guardar valoración landed on %s", path)
	}
	if errs := jefe.formError(); errs != "" {
		t.Fatalf("the assessment was refused: %s", errs)
	}
	s.checkCalendar()
	jefe.open("/acciones")
	if st := jefe.attr(fmt.Sprintf(`table#actions tr[data-action=%q]`, s.action), "data-status"); st != "effective" {
		t.Errorf("Acciones shows %s as %q after the assessment, want effective", s.action, st)
	}
	shootStep(jefe, s.art, &s.shots, "acciones")
}

// inboundFigures are the month's offered inbound calls and service level
// as the plan makes them: answered within the ring limit over the offered
// less the short abandons (up to report.short_abandon, 5 s, of ringing).
func inboundFigures(plan []procCall, month string) (int, *float64) {
	offered, within, short := 0, 0, 0
	for _, c := range plan {
		if c.outbound || c.month() != month {
			continue
		}
		offered++
		switch {
		case c.outcome == outAnswered && c.withinLimit():
			within++
		case c.outcome == outAbandoned && c.ring <= 5*time.Second:
			short++
		}
	}
	if offered-short == 0 {
		return offered, nil
	}
	v := math.Round(float64(within)/float64(offered-short)*100*100) / 100
	return offered, &v
}

// checkCalendar: the jefe's Calendario shows October delivered (late or
// not, by its first submission against the due day three days after the
// month) and November, not sent, due or overdue by the clock.
func (s *procStory) checkCalendar() {
	t, jefe := s.t, s.jefe
	loc := mustZone(t)
	jefe.open("/calendario")
	octDue, err := report.DueAt(s.oct, loc)
	if err != nil {
		t.Fatal(err)
	}
	novDue, err := report.DueAt(s.nov, loc)
	if err != nil {
		t.Fatal(err)
	}
	// October was first sent during this test, November never.
	octWant := "delivered"
	if !s.octoberSent.Before(octDue) {
		octWant = "late"
	}
	novWant := "due"
	if !time.Now().Before(novDue) {
		novWant = "overdue"
	}
	for month, want := range map[string][2]string{s.oct: {octWant, "approved"}, s.nov: {novWant, "draft"}} {
		row := fmt.Sprintf(`table#calendar tr[data-month=%q]`, month)
		if got := jefe.attr(row, "data-due"); got != want[0] {
			t.Errorf("Calendario: %s data-due = %q, want %q", month, got, want[0])
		}
		if got := jefe.attr(row, "data-state"); got != want[1] {
			t.Errorf("Calendario: %s data-state = %q, want %q", month, got, want[1])
		}
	}
	shootStep(jefe, s.art, &s.shots, "calendario")
}
