package export

import "github.com/switchtap/switchtap/report"

// operatorsTable is the by_operator inbound block, one row per
// receptionist, with the inmediatez census of all their calls and their
// share of the sample.
func operatorsTable(d *report.Document) table {
	t := table{id: TableRecepcionistas, sheet: "Por recepcionista"}
	for _, name := range operators(d) {
		var b rowBuilder
		b.add(textCol("recepcionista", "Recepcionista", 24), txt(name))
		var in *report.Inbound
		if d.Figures != nil {
			in = d.Figures.ByOperator[name]
		}
		b.inbound(in)
		var census *report.PointTally
		if d.Tabulation != nil {
			if c, ok := d.Tabulation.InmediatezAllByOperator[name]; ok {
				census = &c
			}
		}
		b.tally("inmediatez_", "Inmediatez (todas las llamadas): ", census)
		var st *report.Stratum
		if d.Sample != nil {
			for i := range d.Sample.Allocation {
				if d.Sample.Allocation[i].Operator == name {
					st = &d.Sample.Allocation[i]
				}
			}
		}
		if st != nil {
			b.add(intCol("en_marco", "En el marco"), num(st.Frame))
			b.add(intCol("en_muestra", "En la muestra"), num(st.N))
			b.add(intCol("reservas", "Reservas"), num(st.Reserves))
		} else {
			b.add(intCol("en_marco", "En el marco"), null())
			b.add(intCol("en_muestra", "En la muestra"), null())
			b.add(intCol("reservas", "Reservas"), null())
		}
		t.cols = b.cols
		t.rows = append(t.rows, b.row)
	}
	if t.cols == nil {
		// No receptionist: the header is still the contract.
		var b rowBuilder
		b.add(textCol("recepcionista", "Recepcionista", 24), null())
		b.inbound(nil)
		b.tally("inmediatez_", "Inmediatez (todas las llamadas): ", nil)
		b.add(intCol("en_marco", "En el marco"), null())
		b.add(intCol("en_muestra", "En la muestra"), null())
		b.add(intCol("reservas", "Reservas"), null())
		t.cols = b.cols
	}
	return t
}
