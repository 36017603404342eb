package export

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/report"
)

// writePDF exports d into dir and returns the file's path.
func writePDF(t *testing.T, d *report.Document, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := PDF(&buf, d); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", buf.Bytes()[:min(8, buf.Len())])
	}
	path := filepath.Join(dir, "informe.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// needTool skips (or fails in CI) without a poppler-utils tool.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		testenv.SkipOrFail(t, name+" is not installed (poppler-utils)")
	}
}

// pdfText is the text of pages first to last (0: to the end) by
// pdftotext -layout, with non-breaking spaces as spaces.
func pdfText(t *testing.T, path string, first, last int) string {
	t.Helper()
	needTool(t, "pdftotext")
	args := []string{"-layout"}
	if first > 0 {
		args = append(args, "-f", strconv.Itoa(first), "-l", strconv.Itoa(last))
	}
	out, err := exec.Command("pdftotext", append(args, path, "-")...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.ReplaceAll(string(out), "\u00a0", " ")
}

// pages counts the pages by the footer.
func pages(t *testing.T, text string) int {
	t.Helper()
	m := regexp.MustCompile(`Página 1 de (\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no footer \"Página 1 de N\" in\n%s", text)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// artifacts is where the rendered pages are kept: $SWITCHTAP_ARTIFACTS
// (CI uploads it) or the test's temporary directory.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SWITCHTAP_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "export")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPDFText(t *testing.T) {
	path := writePDF(t, fixture(t), t.TempDir())
	text := pdfText(t, path, 0, 0)
	want := []string{
		"Informe mensual de atención del conmutador — Noviembre 2026",
		"Oficina de Atención Ciudadana, San Miguel",
		"generado el 03/12/2026 09:04",
		"1. Cifras del mes", "2. Muestra", "3. Evaluación y tabulación por tipo de incumplimiento",
		"4. Observaciones", "5. Conclusiones del técnico", "6. Llamadas salientes y estado del equipo",
		"7. Acciones correctivas y seguimiento", "8. Historial de revisión",
		// Figures as printed: decimal comma, seconds with one decimal,
		// thousands grouped from five digits on.
		"75,86 %", "80,88 %", "68,75 %", "9,9 s", "17,5 s", "3 h 26 min", "1 234 567", "52 000",
		// The tabulation with its Wilson intervals, inmediatez over all calls.
		"9,45 – 90,55 %", "14,56 %", "9,05 – 22,60 %", "Inmediatez sobre todas las llamadas del mes",
		"Saludo e identificación",
		// Names and observations with accents and ñ.
		opAna, opJose, opRosa, "No dijo el nombre de la institución;",
		"La atención mejoró respecto de octubre",
		"Falta la conclusión sobre los abandonos.",
		"18446744073709551557", "3f7a9c0d5e2b41a8b6c7d8e9f0011223",
		"Devuelto con observaciones", "Acción correctiva registrada",
		"70,50 %", "5,36 %", "Efectiva",
		"Sin contestar: 486", "2: 08/11/2026, 09/11/2026", "10/11/2026 00:00",
	}
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("the PDF's text lacks %q", s)
		}
	}
	// The receptionist with no calls, first named in the table by
	// receptionist: zeros, and a dash for the service level, both answer
	// times and her inmediatez.
	for line := range strings.Lines(text) {
		if strings.HasPrefix(strings.TrimSpace(line), opRosa) {
			if f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), opRosa)); strings.Join(f, " ") != "0 0 0 0 — — — —" {
				t.Errorf("Rosa's row %q, want four zeros and four dashes", f)
			}
			break
		}
	}
	n := pages(t, text)
	if !strings.Contains(text, fmt.Sprintf("Página %d de %d", n, n)) {
		t.Errorf("no footer on the last page %d", n)
	}
}

// TestPDFRender renders every page and checks none is blank; page 1 and
// the charts' page are kept as artifacts.
func TestPDFRender(t *testing.T) {
	needTool(t, "pdftoppm")
	dir := artifacts(t)
	path := writePDF(t, fixture(t), dir)
	text := pdfText(t, path, 0, 0)
	n := pages(t, text)
	prefix := filepath.Join(t.TempDir(), "p")
	if out, err := exec.Command("pdftoppm", "-r", "60", "-png", path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pngs, err := filepath.Glob(prefix + "-*.png")
	if err != nil {
		t.Fatal(err)
	}
	if len(pngs) != n {
		t.Fatalf("%d PNGs, want %d pages", len(pngs), n)
	}
	charts := 0
	for i := 1; i <= n; i++ {
		if strings.Contains(pdfText(t, path, i, i), "Llamadas contestadas por timbre") {
			charts = i
		}
	}
	if charts == 0 {
		t.Fatal("no page has the charts")
	}
	for _, f := range pngs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r := img.Bounds()
		ink := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				if cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
					ink++
				}
			}
		}
		// A page with only its header and footer has well under 1 % ink.
		if frac := float64(ink) / float64(r.Dx()*r.Dy()); frac < 0.01 {
			t.Errorf("%s: %.2f %% of the pixels are not white: blank page", filepath.Base(f), frac*100)
		}
		page, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "p-"), ".png"))
		if page == 1 || page == charts {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("informe-pagina-%d.png", page)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPDFDeterministic: the same document gives the same bytes (so a
// golden hash works), another document other bytes.
func TestPDFDeterministic(t *testing.T) {
	var a, b, c bytes.Buffer
	if err := PDF(&a, fixture(t)); err != nil {
		t.Fatal(err)
	}
	if err := PDF(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two exports of the same document differ")
	}
	d := fixture(t)
	d.Review.Conclusions += " Se recomienda reforzar el turno de la tarde."
	if err := PDF(&c, d); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("a changed document gives the same PDF")
	}
	if !bytes.Contains(a.Bytes(), []byte("/CreationDate (D:20261203")) {
		t.Error("the creation date is not the document's generated_at")
	}
}

// TestPDFLongTable: the observations of 120 evaluations break across
// pages, the header row repeated on each.
func TestPDFLongTable(t *testing.T) {
	d := fixture(t)
	obs := d.Tabulation.Observations[0]
	d.Tabulation.Observations = nil
	for i := range 120 {
		o := obs
		o.ID = fmt.Sprintf("r-%04d", i)
		o.Text = fmt.Sprintf("Observación %03d: no se identificó; la atención fue cortés y la llamada se trasladó bien.", i)
		d.Tabulation.Observations = append(d.Tabulation.Observations, o)
	}
	path := writePDF(t, d, t.TempDir())
	text := pdfText(t, path, 0, 0)
	n := pages(t, text)
	first, last := 0, 0
	withHead := 0
	for i := 1; i <= n; i++ {
		pt := pdfText(t, path, i, i)
		if strings.Contains(pt, "Observación 000") {
			first = i
		}
		if strings.Contains(pt, "Observación 119") {
			last = i
		}
		if regexp.MustCompile(`Llamada\s+Recepcionista\s+Punto\s+Veredicto`).MatchString(pt) {
			withHead++
		}
	}
	if first == 0 || last <= first {
		t.Fatalf("observations on pages %d–%d, want several", first, last)
	}
	if withHead != last-first+1 {
		t.Errorf("the header is on %d pages, the table spans %d", withHead, last-first+1)
	}
	for i := range 120 {
		if !strings.Contains(text, fmt.Sprintf("Observación %03d", i)) {
			t.Errorf("observation %d lost", i)
		}
	}
}

// TestPDFSparse: a month with nothing but its name still prints, with a
// sentence for each missing part.
func TestPDFSparse(t *testing.T) {
	d := &report.Document{Month: "2026-02", TimeZone: "America/El_Salvador"}
	path := writePDF(t, d, t.TempDir())
	text := pdfText(t, path, 0, 0)
	for _, s := range []string{"Febrero 2026", "El mes no tiene cifras calculadas.", "El mes aún no tiene muestra.",
		"El mes no tiene evaluaciones tabuladas.", "El informe aún no se ha enviado al jefe UACT.", "8. Historial de revisión"} {
		if !strings.Contains(text, s) {
			t.Errorf("the PDF's text lacks %q", s)
		}
	}
}

func TestPDFBadInput(t *testing.T) {
	for _, d := range []*report.Document{nil, {Month: "noviembre"}, {Month: "2026-11", TimeZone: "Mars/Olympus"}} {
		if err := PDF(&bytes.Buffer{}, d); err == nil {
			t.Errorf("%+v: no error", d)
		}
	}
}
