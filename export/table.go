package export

import (
	"strconv"
	"strings"
	"time"
)

// A table is one part of the report as rows of typed cells: the CSV
// writes it as it is, the workbook puts it on a sheet with its Spanish
// headers, the PDF prints some of its columns. Keeping the values typed
// until the end is what lets the workbook hold real numbers and dates
// while the PDF writes them the es-SV way.
type table struct {
	// id is the CSV table's name, sheet the workbook's sheet.
	id    string
	sheet string
	cols  []column
	rows  [][]cell
}

// kind is how a column's values are written.
type kind uint8

const (
	// kText is text; an enumeration keeps its stable code for the CSV
	// and its Spanish label for people.
	kText kind = iota
	// kInt is a count.
	kInt
	// kDec is a decimal number written with the column's prec decimals.
	kDec
	// kPct is a percentage 0–100, written with prec decimals and "%".
	kPct
	// kSecs is seconds, written with prec decimals and "s".
	kSecs
	// kTime is an instant, written in the report's zone.
	kTime
	// kDay is a local calendar day "YYYY-MM-DD".
	kDay
)

// column is one column of a table. Its id is the CSV header (snake_case
// Spanish, a contract: add columns at the end, never rename), head the
// header people read.
type column struct {
	id    string
	head  string
	kind  kind
	prec  int
	width float64 // workbook width, in characters
}

// cell is one value. A null cell (an average of nothing, a time never
// reached) is empty in the CSV and a dash elsewhere.
type cell struct {
	text  string
	code  string
	coded bool
	num   float64
	t     time.Time
	null  bool
}

// Cell constructors.

func txt(s string) cell { return cell{text: s} }

// enum is a value with a stable code (CSV) and a Spanish label.
func enum(code, label string) cell { return cell{text: label, code: code, coded: true} }

func boolCell(b bool) cell { return enum(strconv.FormatBool(b), yesNo(b)) }

func num[T int | int64 | uint64 | float64](v T) cell { return cell{num: float64(v)} }

func opt(v *float64) cell {
	if v == nil {
		return cell{null: true}
	}
	return cell{num: *v}
}

func tm(t time.Time) cell {
	if t.IsZero() {
		return cell{null: true}
	}
	return cell{t: t}
}

func optTime(t *time.Time) cell {
	if t == nil {
		return cell{null: true}
	}
	return tm(*t)
}

func day(s string) cell {
	if s == "" {
		return cell{null: true}
	}
	return cell{text: s}
}

func null() cell { return cell{null: true} }

// csvValue is the cell as the CSV writes it: codes, a decimal point,
// RFC 3339 with nanoseconds in loc (exact, and the local hour people
// expect, as the calls export does).
func (c cell) csvValue(k kind, loc *time.Location) string {
	if c.null {
		return ""
	}
	switch k {
	case kInt, kDec, kPct, kSecs:
		return strconv.FormatFloat(c.num, 'f', -1, 64)
	case kTime:
		return c.t.In(loc).Format(time.RFC3339Nano)
	}
	if c.coded {
		return c.code
	}
	return guardFormula(c.text)
}

// guardFormula prefixes an apostrophe to a text a spreadsheet would read
// as a formula (OWASP "CSV injection"): observations and comments are
// typed by people.
func guardFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// display is the cell as the PDF prints it.
func (c cell) display(col column, loc *time.Location) string {
	if c.null {
		return noValue
	}
	switch col.kind {
	case kInt:
		return formatInt(int64(c.num))
	case kDec:
		return formatDecimal(c.num, col.prec)
	case kPct:
		return formatDecimal(c.num, col.prec) + nbsp + "%"
	case kSecs:
		return formatDecimal(c.num, col.prec) + nbsp + "s"
	case kTime:
		return c.t.In(loc).Format(layoutDateTime)
	case kDay:
		if t, err := time.Parse(layoutDay, c.text); err == nil {
			return t.Format(layoutDate)
		}
	}
	return c.text
}
