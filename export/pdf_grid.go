package export

// gcol is a column of a PDF table: its header, width in millimetres
// (0 shares what the others leave) and alignment ("L", "R", "C").
type gcol struct {
	head  string
	w     float64
	align string
}

// maxCellLines bounds the lines of one cell, so a row always fits on a
// page (an observation longer than that is cut with an ellipsis).
const maxCellLines = 30

// grid draws a table whose rows break across pages, the header row
// repeated at the top of each page the table continues on.
func (w *pdfWriter) grid(cols []gcol, rows [][]string) {
	cols = fitCols(cols)
	const lh = 3.9
	head := func() {
		w.font("B", 7)
		h := w.rowHeight(cols, headTexts(cols), lh)
		w.drawRow(cols, headTexts(cols), h, lh, true)
		w.font("", 8)
	}
	w.ensure(12)
	head()
	for _, r := range rows {
		w.font("", 8)
		h := w.rowHeight(cols, r, lh)
		if w.p.GetY()+h > pageH-marginBottom {
			w.p.AddPage()
			head()
		}
		w.drawRow(cols, r, h, lh, false)
	}
	w.p.Ln(2)
}

func headTexts(cols []gcol) []string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = c.head
	}
	return s
}

// fitCols gives the columns of width 0 an equal share of the rest of the
// page, and scales all of them down when they are wider than it.
func fitCols(cols []gcol) []gcol {
	out := make([]gcol, len(cols))
	copy(out, cols)
	fixed, free := 0.0, 0
	for _, c := range out {
		if c.w <= 0 {
			free++
		}
		fixed += max(c.w, 0)
	}
	if free > 0 {
		share := max((contentW-fixed)/float64(free), 12)
		for i := range out {
			if out[i].w <= 0 {
				out[i].w = share
			}
		}
	}
	total := 0.0
	for _, c := range out {
		total += c.w
	}
	if total > contentW {
		for i := range out {
			out[i].w *= contentW / total
		}
	}
	return out
}

// lines splits a cell's text to its width, at most maxCellLines.
func (w *pdfWriter) lines(s string, wd float64) []string {
	ls := w.p.SplitText(s, wd-1.6)
	if len(ls) == 0 {
		return []string{""}
	}
	if len(ls) > maxCellLines {
		ls = append(ls[:maxCellLines-1:maxCellLines-1], ls[maxCellLines-1]+"…")
	}
	return ls
}

func (w *pdfWriter) rowHeight(cols []gcol, r []string, lh float64) float64 {
	n := 1
	for i, c := range cols {
		if i < len(r) {
			n = max(n, len(w.lines(r[i], c.w)))
		}
	}
	return float64(n)*lh + 1.6
}

// drawRow draws one row at the current y: a filled band for the header,
// a hairline under every row.
func (w *pdfWriter) drawRow(cols []gcol, r []string, h, lh float64, isHead bool) {
	y := w.p.GetY()
	x := marginL
	if isHead {
		w.p.SetFillColor(226, 232, 240)
		w.p.Rect(marginL, y, contentW, h, "F")
	}
	for i, c := range cols {
		s := ""
		if i < len(r) {
			s = r[i]
		}
		align := c.align
		if align == "" || isHead {
			align = "L"
			if c.align == "R" {
				align = "R"
			}
		}
		for k, l := range w.lines(s, c.w) {
			w.p.SetXY(x, y+0.8+float64(k)*lh)
			w.p.CellFormat(c.w, lh, l, "", 0, align, false, 0, "")
		}
		x += c.w
	}
	w.p.SetDrawColor(203, 213, 224)
	w.p.SetLineWidth(0.15)
	w.p.Line(marginL, y+h, marginL+contentW, y+h)
	w.p.SetXY(marginL, y+h)
}
