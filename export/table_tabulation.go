package export

import (
	"slices"

	"github.com/switchtap/switchtap/report"
)

// Scopes of a tabulation row.
const (
	scopeSample = "muestra"
	scopeAll    = "todas_las_llamadas"
)

// tabulationTable is the tabulation by type of non-compliance: the
// overall tally of the sample, then each receptionist's, then inmediatez
// over every call, overall and per receptionist.
func tabulationTable(d *report.Document) table {
	t := table{id: TableTabulacion, sheet: "Tabulación", cols: []column{
		textCol("ambito", "Ámbito", 18),
		textCol("recepcionista", "Recepcionista", 24),
		textCol("punto", "Punto", 36),
		intCol("evaluadas", "Evaluadas"),
		intCol("cumple", "Cumple"),
		intCol("no_cumple", "No cumple"),
		intCol("no_aplica", "No aplica"),
		pctCol("pct_no_cumple", "% no cumple"),
		pctCol("wilson_bajo", "Wilson 95 % inferior"),
		pctCol("wilson_alto", "Wilson 95 % superior"),
	}}
	tab := d.Tabulation
	if tab == nil {
		return t
	}
	sample := enum(scopeSample, "Muestra")
	all := enum(scopeAll, "Todas las llamadas")
	everyone := enum("", "Todas")
	for _, p := range tab.Points {
		t.rows = append(t.rows, tallyRow(sample, everyone, p))
	}
	names := make([]string, 0, len(tab.ByOperator))
	for k := range tab.ByOperator {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, p := range tab.ByOperator[name] {
			t.rows = append(t.rows, tallyRow(sample, txt(name), p))
		}
	}
	t.rows = append(t.rows, tallyRow(all, everyone, census(tab.InmediatezAll)))
	names = names[:0]
	for k := range tab.InmediatezAllByOperator {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		t.rows = append(t.rows, tallyRow(all, txt(name), census(tab.InmediatezAllByOperator[name])))
	}
	return t
}

func tallyRow(scope, who cell, p report.PointTally) []cell {
	label := p.Label
	if label == "" {
		label = pointLabel(p.Point)
	}
	lo, hi := wilson(&p)
	return []cell{scope, who, enum(p.Point, label), num(p.Evaluated), num(p.Cumple),
		num(p.NoCumple), num(p.NoAplica), opt(p.NoCumplePct), lo, hi}
}

// census is an inmediatez tally over every call, named as the point.
func census(p report.PointTally) report.PointTally {
	if p.Point == "" {
		p.Point = report.PointInmediatez
	}
	return p
}
