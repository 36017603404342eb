package export

import (
	"fmt"
	"math"
	"time"

	"github.com/switchtap/switchtap/internal/esnum"
	"github.com/switchtap/switchtap/report"
)

// The PDF writes numbers and dates the way the console does (web
// console_format.go): decimal comma, digits grouped by three with a
// non-breaking space only from five digits on (RAE, Ortografía 2010
// §8.2.1.2), dates dd/mm/aaaa HH:MM in the report's zone, and a dash for
// a value that does not exist (an average of no calls).

const (
	layoutDateTime = "02/01/2006 15:04"
	layoutDate     = "02/01/2006"
	layoutDay      = "2006-01-02"
	nbsp           = "\u00a0"
	noValue        = "—"
)

// location is the zone of the document: its time_zone, the default zone
// when empty (the embedded tzdata of package report makes it load on a
// board without zoneinfo).
func location(d *report.Document) (*time.Location, error) {
	name := d.TimeZone
	if name == "" {
		name = report.DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("export: time zone %q: %w", name, err)
	}
	return loc, nil
}

// formatInt writes n with its digits grouped (esnum).
func formatInt(n int64) string { return esnum.Int(n) }

// formatDecimal writes x with prec decimals and a decimal comma; a value
// that is not a number prints as the dash.
func formatDecimal(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return noValue
	}
	return esnum.Decimal(x, prec)
}

// monthNames are the months as a title writes them.
func monthName(m time.Month) string {
	names := [12]string{"Enero", "Febrero", "Marzo", "Abril", "Mayo", "Junio", "Julio",
		"Agosto", "Septiembre", "Octubre", "Noviembre", "Diciembre"}
	if m < time.January || m > time.December {
		return ""
	}
	return names[m-1]
}

// monthLabel is "Noviembre 2026" for "2026-11", the month as given when
// it does not parse.
func monthLabel(month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return monthName(t.Month()) + " " + t.Format("2006")
}

// Spanish labels of the document's enumerations, the console's wording;
// an unknown value is shown as it is, never dropped.

func verdictLabel(v report.Verdict) string { return v.Label() }

func evalStatusLabel(s report.EvalStatus) string { return s.Label() }

func ackLabel(s report.AckState) string { return s.Label() }

func reviewStateLabel(s report.ReviewState) string { return s.Label() }

func actionStatusLabel(s report.ActionStatus) string { return s.Label() }

func indicatorLabel(kind string) string { return report.IndicatorKindLabel(kind) }

// pointLabel is a point's Spanish label from the forms this build knows.
func pointLabel(id string) string { return report.PointLabel(id) }

func methodLabel(m string) string {
	switch m {
	case report.MethodCochran:
		return "Cochran con corrección por población finita"
	case report.MethodFixed:
		return "Número fijo por recepcionista"
	}
	return m
}

func yesNo(b bool) string {
	if b {
		return "Sí"
	}
	return "No"
}

// toName is an action's addressee as the report words it.
func toName(to string) string {
	if to == report.ToEveryone {
		return "Todas las recepcionistas"
	}
	return to
}
