package export

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/switchtap/switchtap/report"
)

// Page geometry of the PDF, in millimetres (A4 portrait).
const (
	pageW        = 210.0
	pageH        = 297.0
	marginL      = 15.0
	marginR      = 15.0
	marginTop    = 20.0
	marginBottom = 16.0
	contentW     = pageW - marginL - marginR
	fontFamily   = "go"
	// lineH is the height of a line of body text (9 pt).
	lineH = 4.6
)

// PDF writes the document as a printable A4 report in Spanish: the title
// with the month's name, a header and a footer with "Página x de y" and
// the time it was generated on every page, and the sections numbered like
// the procedure (1 Cifras del mes … 8 Historial de revisión), the three
// charts drawn with lines and rectangles. The fonts (Go Regular and Bold)
// are embedded from memory so the accents and the ñ print on a board with
// no font files. The same document gives the same bytes: the PDF's dates
// are the document's generated_at and its dictionaries are sorted.
func PDF(w io.Writer, d *report.Document) error {
	if d == nil {
		return errors.New("export: no document")
	}
	loc, err := location(d)
	if err != nil {
		return err
	}
	start, err := time.Parse("2006-01", d.Month)
	if err != nil {
		return fmt.Errorf("export: month %q: %w", d.Month, err)
	}
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCatalogSort(true)
	p.SetCompression(true)
	p.SetCreationDate(d.GeneratedAt)
	p.SetModificationDate(d.GeneratedAt)
	p.AddUTF8FontFromBytes(fontFamily, "", goregular.TTF)
	p.AddUTF8FontFromBytes(fontFamily, "B", gobold.TTF)
	p.SetMargins(marginL, marginTop, marginR)
	p.SetAutoPageBreak(true, marginBottom)
	title := "Informe mensual de atención del conmutador — " + monthName(start.Month()) + " " + start.Format("2006")
	p.SetTitle(title, true)
	p.SetSubject(d.Office, true)
	p.SetCreator("switchtap", true)
	p.SetLang("es-SV")
	w2 := &pdfWriter{p: p, d: d, loc: loc, title: title}
	p.SetHeaderFunc(w2.header)
	p.AddPage()
	w2.titleBlock()
	w2.sections()
	w2.footers()
	if err := p.Output(w); err != nil {
		return fmt.Errorf("export: pdf: %w", err)
	}
	return nil
}

// pdfWriter draws one document.
type pdfWriter struct {
	p     *fpdf.Fpdf
	d     *report.Document
	loc   *time.Location
	title string
}

func (w *pdfWriter) font(style string, size float64) { w.p.SetFont(fontFamily, style, size) }

func (w *pdfWriter) gray(v int) { w.p.SetTextColor(v, v, v) }

// header is the running head of every page but the first: the title and
// the office, over a rule.
func (w *pdfWriter) header() {
	if w.p.PageNo() == 1 {
		return
	}
	w.font("", 7.5)
	w.gray(90)
	w.p.SetXY(marginL, 8)
	head := w.title
	if w.d.Office != "" {
		head += " · " + w.d.Office
	}
	w.p.CellFormat(contentW, 4, head, "", 0, "L", false, 0, "")
	w.p.SetDrawColor(180, 180, 180)
	w.p.SetLineWidth(0.2)
	w.p.Line(marginL, 13, pageW-marginR, 13)
	w.gray(0)
	w.p.SetXY(marginL, marginTop)
}

// footers writes "Página x de y" and the generation time on every page
// once all are laid out, so y is known without an alias.
func (w *pdfWriter) footers() {
	n := w.p.PageCount()
	w.p.SetAutoPageBreak(false, 0)
	gen := "Generado el " + w.d.GeneratedAt.In(w.loc).Format(layoutDateTime) + " (" + w.loc.String() + ")"
	for i := 1; i <= n; i++ {
		w.p.SetPage(i)
		// Select the font twice: fpdf skips a font equal to its current
		// one, and the page's own stream may have ended in another.
		w.font("B", 7)
		w.font("", 7.5)
		w.gray(90)
		w.p.SetDrawColor(180, 180, 180)
		w.p.SetLineWidth(0.2)
		w.p.Line(marginL, pageH-12, pageW-marginR, pageH-12)
		w.p.SetXY(marginL, pageH-11)
		w.p.CellFormat(contentW/2, 4, gen, "", 0, "L", false, 0, "")
		w.p.CellFormat(contentW/2, 4, fmt.Sprintf("Página %d de %d", i, n), "", 0, "R", false, 0, "")
	}
	w.gray(0)
}

// titleBlock is the first page's head.
func (w *pdfWriter) titleBlock() {
	d := w.d
	w.font("B", 16)
	w.p.SetXY(marginL, 14)
	w.p.MultiCell(contentW, 7.5, w.title, "", "L", false)
	w.font("", 10)
	if d.Office != "" {
		w.p.MultiCell(contentW, 5.5, d.Office, "", "L", false)
	}
	w.gray(60)
	w.font("", 8.5)
	state := d.Review.State
	if state == "" {
		state = report.ReviewDraft
	}
	due := d.Due.DueAt
	if due.IsZero() {
		due = d.Review.DueAt
	}
	parts := []string{
		"Mes " + d.Month + " en horas de " + w.loc.String(),
		"generado el " + w.when(d.GeneratedAt),
		"estado: " + reviewStateLabel(state) + rounds(len(d.Review.Rounds)),
		"fecha límite de entrega: " + w.when(due),
	}
	if d.Due.Overdue {
		parts = append(parts, "vencido")
	}
	w.p.MultiCell(contentW, 4.5, strings.Join(parts, " · "), "", "L", false)
	w.gray(0)
	w.p.Ln(3)
}

func rounds(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return " (1 ronda de revisión)"
	}
	return fmt.Sprintf(" (%d rondas de revisión)", n)
}

// when formats an instant in the document's zone, the dash for none.
func (w *pdfWriter) when(t time.Time) string {
	if t.IsZero() {
		return noValue
	}
	return t.In(w.loc).Format(layoutDateTime)
}

func (w *pdfWriter) whenPtr(t *time.Time) string {
	if t == nil {
		return noValue
	}
	return w.when(*t)
}

// section starts a numbered section, on a new page when less than need
// millimetres are left for its first lines.
func (w *pdfWriter) section(n int, title string, need float64) {
	w.ensure(need + 12)
	w.p.Ln(2)
	w.font("B", 12.5)
	full := fmt.Sprintf("%d. %s", n, title)
	w.p.Bookmark(full, 0, -1)
	w.p.MultiCell(contentW, 6.5, full, "", "L", false)
	w.p.SetDrawColor(43, 108, 176)
	w.p.SetLineWidth(0.4)
	y := w.p.GetY()
	w.p.Line(marginL, y, pageW-marginR, y)
	w.p.Ln(2)
	w.font("", 9)
}

// subsection is a smaller heading inside a section.
func (w *pdfWriter) subsection(title string, need float64) {
	w.ensure(need + 8)
	w.p.Ln(1.5)
	w.font("B", 10)
	w.p.MultiCell(contentW, 5.5, title, "", "L", false)
	w.font("", 9)
}

// paragraph writes body text.
func (w *pdfWriter) paragraph(s string) {
	w.font("", 9)
	w.p.MultiCell(contentW, lineH, s, "", "L", false)
	w.p.Ln(1)
}

// note writes a line of grey small text.
func (w *pdfWriter) note(s string) {
	w.font("", 8)
	w.gray(80)
	w.p.MultiCell(contentW, 4, s, "", "L", false)
	w.gray(0)
	w.font("", 9)
}

// ensure starts a new page when less than h millimetres are left.
func (w *pdfWriter) ensure(h float64) {
	if w.p.GetY()+h > pageH-marginBottom {
		w.p.AddPage()
	}
}

// kv is a list of label and value rows, in a column of width wd at x.
// It returns the y below it.
func (w *pdfWriter) kv(x, wd float64, caption string, rows [][2]string) float64 {
	w.p.SetXY(x, w.p.GetY())
	if caption != "" {
		w.font("B", 9)
		w.p.CellFormat(wd, 5.5, caption, "B", 2, "L", false, 0, "")
	}
	labelW := min(wd*0.62, 62)
	for _, r := range rows {
		w.font("", 8.5)
		lines := len(w.p.SplitText(r[1], wd-labelW-2))
		lines = max(lines, len(w.p.SplitText(r[0], labelW-2)), 1)
		h := float64(lines)*4.2 + 0.8
		if w.p.GetY()+h > pageH-marginBottom {
			w.p.AddPage()
		}
		y := w.p.GetY()
		w.p.SetXY(x, y+0.4)
		w.p.MultiCell(labelW, 4.2, r[0], "", "L", false)
		w.p.SetXY(x+labelW, y+0.4)
		w.p.MultiCell(wd-labelW, 4.2, r[1], "", "R", false)
		w.p.SetDrawColor(226, 232, 240)
		w.p.SetLineWidth(0.15)
		w.p.Line(x, y+h, x+wd, y+h)
		w.p.SetXY(x, y+h)
	}
	return w.p.GetY()
}

// Formatting of the PDF's values.

func pInt(n int) string { return formatInt(int64(n)) }

func pUint(n uint64) string {
	if n > 1<<62 {
		return formatDecimal(float64(n), 0)
	}
	return formatInt(int64(n))
}

func pPct(v *float64) string {
	if v == nil {
		return noValue
	}
	return formatDecimal(*v, 2) + nbsp + "%"
}

func pSecs(v *float64) string {
	if v == nil {
		return noValue
	}
	return formatDecimal(*v, 1) + nbsp + "s"
}

func pInterval(iv *report.Interval) string {
	if iv == nil {
		return noValue
	}
	return formatDecimal(iv.Low, 2) + " – " + formatDecimal(iv.High, 2) + nbsp + "%"
}

// pDuration writes seconds as hours and minutes: "1 h 35 min", "5 min".
func pDuration(sec float64) string {
	if sec < 60 {
		return formatDecimal(sec, 0) + nbsp + "s"
	}
	m := int64(sec/60 + 0.5)
	if m < 60 {
		return fmt.Sprintf("%d%smin", m, nbsp)
	}
	return fmt.Sprintf("%s%sh %d%smin", formatInt(m/60), nbsp, m%60, nbsp)
}

// pIndicator writes an indicator's value in its unit.
func pIndicator(kind string, v *float64) string {
	if v == nil {
		return noValue
	}
	if kind == report.IndicatorASASeconds {
		return pSecs(v)
	}
	if strings.HasSuffix(kind, "_pct") {
		return pPct(v)
	}
	return formatDecimal(*v, 2)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return noValue
	}
	return s
}
