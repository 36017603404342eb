package e2e_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/switchtap/switchtap/report"
)

// exportsAndAudit reads October's report back in every format, through the
// API with the jefe's token, and checks the audit log.
func (s *procStory) exportsAndAudit() {
	t := s.t
	s.token = strings.TrimSpace(s.cli.run("", "user", "token", procJefe, "--label", "e2e exportaciones"))
	if s.token == "" {
		t.Fatal("switchtap user token printed nothing")
	}
	tab := tallies(s.evals[s.oct], s.byID)
	saludo := tab[report.PointSaludo]
	if saludo.noCumple == 0 || saludo.pct() == nil {
		t.Fatalf("the story has no Saludo no cumple to look for: %+v", saludo)
	}
	s.checkXLSX(s.export(s.oct, "xlsx", ""), saludo)
	s.checkPDF(s.export(s.oct, "pdf", ""), saludo)
	s.checkCSV(s.export(s.oct, "csv", "tabulacion"), tab, censusInmediatez(s.plan, s.oct))
	s.checkAudit()
}

// export downloads month's report in format (and CSV table).
func (s *procStory) export(month, format, table string) []byte {
	t := s.t
	q := url.Values{"format": {format}}
	if table != "" {
		q.Set("table", table)
	}
	u := s.base + "/api/v1/months/" + month + "/report/export?" + q.Encode()
	ctx, cancel := context.WithTimeout(t.Context(), stepBudget)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v %s", u, resp.StatusCode, err, clip(string(b)))
	}
	name := "informe_" + month
	if table != "" {
		name += "_" + table
	}
	name += "." + format
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, name) {
		t.Errorf("%s export: Content-Disposition %q, want the file %s", format, cd, name)
	}
	if err := os.WriteFile(filepath.Join(s.art, "procedure-"+name), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("export %s: %d bytes (%s)", name, len(b), resp.Header.Get("Content-Type"))
	return b
}

// checkXLSX opens the workbook with excelize: its sheets, Saludo's row of
// the tabulation (no cumple and %), the accented observation among the
// evaluations and the action among the actions.
func (s *procStory) checkXLSX(b []byte, saludo procTally) {
	t := s.t
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("excelize cannot open the workbook: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	t.Logf("workbook sheets: %v", sheets)
	for _, want := range []string{"Resumen", "Por recepcionista", "Muestra", "Evaluaciones", "Tabulación", "Acciones"} {
		if !slices.Contains(sheets, want) {
			t.Errorf("the workbook has no sheet %q: %v", want, sheets)
		}
	}
	rows := sheetRows(t, f, "Tabulación")
	col := headerIndex(t, "Tabulación", rows, "Ámbito", "Recepcionista", "Punto", "Evaluadas", "No cumple", "% no cumple")
	found := false
	for _, r := range rows[1:] {
		if cell(r, col["Ámbito"]) != "Muestra" || cell(r, col["Recepcionista"]) != "Todas" || cell(r, col["Punto"]) != "Saludo e identificación" {
			continue
		}
		found = true
		if got := cell(r, col["Evaluadas"]); got != strconv.Itoa(saludo.evaluated) {
			t.Errorf("Tabulación: Saludo evaluadas %q, want %d", got, saludo.evaluated)
		}
		if got := cell(r, col["No cumple"]); got != strconv.Itoa(saludo.noCumple) {
			t.Errorf("Tabulación: Saludo no cumple %q, want %d", got, saludo.noCumple)
		}
		got, err := strconv.ParseFloat(cell(r, col["% no cumple"]), 64)
		if err != nil || math.Abs(got-*saludo.pct()) > 0.005 {
			t.Errorf("Tabulación: Saludo %% no cumple %q, want %.2f", cell(r, col["% no cumple"]), *saludo.pct())
		}
	}
	if !found {
		t.Errorf("Tabulación has no row Muestra / Todas / Saludo e identificación: %v", rows)
	}
	if !sheetHas(t, f, "Evaluaciones", obsSaludo) {
		t.Errorf("the sheet Evaluaciones has no cell %q", obsSaludo)
	}
	if !sheetHas(t, f, "Acciones", actionText) {
		t.Errorf("the sheet Acciones has no cell %q", actionText)
	}
}

// sheetRows reads a sheet's raw values (numbers as stored, not as shown).
func sheetRows(t interface {
	Helper()
	Fatalf(string, ...any)
}, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil || len(rows) < 2 {
		t.Fatalf("sheet %s: %d rows, %v", sheet, len(rows), err)
	}
	return rows
}

// headerIndex finds the named columns in a sheet's first row.
func headerIndex(t interface {
	Helper()
	Fatalf(string, ...any)
}, sheet string, rows [][]string, names ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, n := range names {
		i := slices.Index(rows[0], n)
		if i < 0 {
			t.Fatalf("sheet %s has no column %q: %v", sheet, n, rows[0])
		}
		out[n] = i
	}
	return out
}

func sheetHas(t interface {
	Helper()
	Fatalf(string, ...any)
}, f *excelize.File, sheet, text string) bool {
	for _, r := range sheetRows(t, f, sheet) {
		if slices.Contains(r, text) {
			return true
		}
	}
	return false
}

func cell(r []string, i int) string {
	if i < len(r) {
		return r[i]
	}
	return ""
}

// checkPDF reads the PDF's text with pdftotext -layout (the month in the
// title, the accented observation, Saludo's % with a decimal comma) and
// renders every page with pdftoppm, none of them blank.
func (s *procStory) checkPDF(b []byte, saludo procTally) {
	t := s.t
	dir := t.TempDir()
	path := filepath.Join(dir, "informe.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	text := string(runTool(s, "pdftotext", "-layout", "-enc", "UTF-8", path, "-"))
	if err := os.WriteFile(filepath.Join(s.art, "procedure-informe_"+s.oct+".txt"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(text), " ")
	pct := esFixed(*saludo.pct(), 2)
	checks := map[string]string{
		"the title with the month":        "Informe mensual de atención del conmutador — " + s.octTitle,
		"the observation's first words":   "No se identificó al contestar",
		"Saludo's % with a decimal comma": pct + "\u00a0%",
		"the receptionist's name":         procReceptionists[procTarget].name,
	}
	if _, level := inboundFigures(s.plan, s.oct); level != nil {
		checks["the service level with a decimal comma"] = esFixed(*level, 2) + "\u00a0%"
	}
	for what, want := range checks {
		if !strings.Contains(flat, want) && !strings.Contains(flat, strings.ReplaceAll(want, "\u00a0", " ")) {
			t.Errorf("the PDF's text (-layout) has no %s %q", what, want)
		}
	}
	// A long observation wraps in its table cell, and -layout interleaves
	// the cells of the row: the whole text is read in reading order.
	flow := strings.Join(strings.Fields(string(runTool(s, "pdftotext", "-enc", "UTF-8", path, "-"))), " ")
	if !strings.Contains(flow, obsSaludo) {
		t.Errorf("the PDF's text (reading order) has no observation %q", obsSaludo)
	}
	if strings.Contains(text, strings.Replace(pct, ",", ".", 1)) {
		t.Errorf("the PDF writes %s with a decimal point", pct)
	}
	runTool(s, "pdftoppm", "-r", "50", "-png", path, filepath.Join(dir, "page"))
	pages, err := filepath.Glob(filepath.Join(dir, "page*.png"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("pdftoppm rendered no page: %v", err)
	}
	slices.Sort(pages)
	for i, p := range pages {
		ink, err := inkFraction(p)
		if err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
		if ink < 0.002 {
			t.Errorf("page %d of the PDF is blank (%.4f of its pixels dark)", i+1, ink)
		}
		copyFile(s, p, filepath.Join(s.art, fmt.Sprintf("procedure-informe-pagina-%d.png", i+1)))
	}
	t.Logf("PDF: %d pages rendered at 50 dpi, %d characters of text", len(pages), len([]rune(text)))
}

// inkFraction is the share of a PNG's pixels that are not near white.
func inkFraction(path string) (float64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		return 0, fmt.Errorf("decode %s: %w", path, err)
	}
	return ink(img), nil
}

func ink(img image.Image) float64 {
	b := img.Bounds()
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if (r+g+bl)/3 < 0xd000 {
				dark++
			}
		}
	}
	return float64(dark) / float64(b.Dx()*b.Dy())
}

// checkCSV parses the tabulation CSV: every point of the sample's
// overall tally and inmediatez over every call, as entered.
func (s *procStory) checkCSV(b []byte, want map[string]procTally, census procTally) {
	t := s.t
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("tabulacion CSV: %d records, %v", len(recs), err)
	}
	col := headerIndex(t, "tabulacion.csv", recs, "ambito", "recepcionista", "punto", "evaluadas", "no_cumple", "no_aplica", "pct_no_cumple")
	seen := 0
	for _, r := range recs[1:] {
		if r[col["recepcionista"]] != "" {
			continue
		}
		exp, ok := want[r[col["punto"]]], true
		switch r[col["ambito"]] {
		case "muestra":
		case "todas_las_llamadas":
			exp = census
		default:
			ok = false
		}
		if !ok {
			continue
		}
		seen++
		got := fmt.Sprintf("%s/%s/%s", r[col["evaluadas"]], r[col["no_cumple"]], r[col["no_aplica"]])
		if w := fmt.Sprintf("%d/%d/%d", exp.evaluated, exp.noCumple, exp.noAplica); got != w {
			t.Errorf("tabulacion.csv %s %s: evaluadas/no_cumple/no_aplica %s, want %s", r[col["ambito"]], r[col["punto"]], got, w)
		}
		pct := r[col["pct_no_cumple"]]
		switch p := exp.pct(); {
		case p == nil && pct != "":
			t.Errorf("tabulacion.csv %s %s: pct %q, want empty", r[col["ambito"]], r[col["punto"]], pct)
		case p != nil:
			v, err := strconv.ParseFloat(pct, 64)
			if err != nil || math.Abs(v-*p) > 0.005 {
				t.Errorf("tabulacion.csv %s %s: pct %q, want %.2f", r[col["ambito"]], r[col["punto"]], pct, *p)
			}
		}
	}
	if n := len(procForm(t).Points) + 1; seen != n {
		t.Errorf("tabulacion.csv has %d overall rows, want %d (each point, and inmediatez over every call)", seen, n)
	}
}

// procAudit is an audit entry as the API gives it.
type procAudit struct {
	Action string `json:"action"`
	Actor  string `json:"actor"`
	Target string `json:"target"`
	Detail string `json:"detail"`
}

// checkAudit reads the audit log with the jefe's token: every step of the
// story is there, by the person who took it, and the chain verifies.
func (s *procStory) checkAudit() {
	t := s.t
	today := time.Now().In(mustZone(t)).Format(time.DateOnly)
	yesterday := time.Now().In(mustZone(t)).AddDate(0, 0, -1).Format(time.DateOnly)
	ctx, cancel := context.WithTimeout(t.Context(), stepBudget)
	defer cancel()
	u := s.base + "/api/v1/audit?" + url.Values{"from": {yesterday}, "to": {today}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var entries []procAudit
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s as the jefe: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	by := map[string]map[string]int{}
	for _, e := range entries {
		if by[e.Action] == nil {
			by[e.Action] = map[string]int{}
		}
		by[e.Action][e.Actor]++
	}
	t.Logf("audit: %d entries; by action and actor: %v", len(entries), by)
	nEvals := len(s.evals[s.oct]) + len(s.evals[s.nov])
	for _, w := range []struct {
		action, actor string
		n             int
	}{
		{"sample_draw", procTecnico, 2},
		{"recording_play", procTecnico, nEvals},
		{"evaluation_submit", procTecnico, nEvals},
		{"report_submit", procTecnico, 2},
		{"report_return", procJefe, 1},
		{"report_approve", procJefe, 1},
		{"action_add", procJefe, 1},
		{"action_assess", procJefe, 1},
		{"evaluation_ack", procRecep, 1},
		{"action_ack", procRecep, 1},
		{"export_report", procJefe, 3},
	} {
		if got := by[w.action][w.actor]; got < w.n {
			t.Errorf("audit: %d %s entries by %s, want at least %d (%v)", got, w.action, w.actor, w.n, by[w.action])
		}
	}
	out := s.cli.run("", "audit", "verify")
	t.Logf("switchtap audit verify: %s", strings.TrimSpace(out))
}

func mustZone(t interface{ Fatal(...any) }) *time.Location {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// runTool runs a tool the test needs and returns its output.
func runTool(s *procStory, name string, args ...string) []byte {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), cliBudget)
	defer cancel()
	var errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...) //nolint:gosec // G204: the poppler tools on the test's own file
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errOut.String())
	}
	return out
}

func copyFile(s *procStory, from, to string) {
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o600)
	}
	if err != nil {
		s.t.Errorf("keep %s: %v", to, err)
	}
}
