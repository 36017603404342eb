package export

import "github.com/switchtap/switchtap/report"

// sampleTable is the calls drawn and their replacements: one row per
// sampled call (by receptionist and rank, as drawn), a replaced one with
// who replaced it, when and why, a reserve that took a place with the
// call it replaced.
func sampleTable(d *report.Document) table {
	t := table{id: TableMuestra, sheet: "Muestra", cols: []column{
		textCol("recepcionista", "Recepcionista", 24),
		intCol("orden", "Orden"),
		textCol("registro", "Registro", 28),
		textCol("estado", "Estado", 14),
		textCol("reemplazada_por", "Reemplazada por", 28),
		textCol("reemplaza_a", "Reemplaza a", 28),
		intCol("orden_reserva", "Orden en la reserva"),
		timeCol("fecha_reemplazo", "Fecha del reemplazo"),
		textCol("reemplazo_hecho_por", "Reemplazo hecho por", 16),
		textCol("motivo_reemplazo", "Motivo del reemplazo", 40),
	}}
	if d.Sample == nil {
		return t
	}
	for _, it := range d.Sample.Items {
		state := enum("sorteada", "Sorteada")
		var r *report.Replacement
		for i := range d.Sample.Replacements {
			rp := &d.Sample.Replacements[i]
			if (it.Replaced && rp.OldID == it.ID) || (it.Replacement && rp.NewID == it.ID) {
				r = rp
			}
		}
		switch {
		case it.Replaced:
			state = enum("reemplazada", "Reemplazada")
		case it.Replacement:
			state = enum("reserva", "Reserva")
		}
		row := []cell{txt(it.Operator), num(it.Rank), txt(it.ID), state}
		if r == nil {
			row = append(row, txt(""), txt(""), null(), null(), txt(""), txt(""))
		} else {
			by, from := txt(""), txt("")
			if it.Replaced {
				by = txt(r.NewID)
			} else {
				from = txt(r.OldID)
			}
			row = append(row, by, from, num(r.ReserveRank), tm(r.At), txt(r.By), txt(r.Reason))
		}
		t.rows = append(t.rows, row)
	}
	return t
}
