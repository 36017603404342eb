package export

import "github.com/switchtap/switchtap/report"

// evaluationsTable is one row per evaluation and point: the current
// answers (the draft's while a draft, the last revision's after) and the
// receptionist's acknowledgement.
func evaluationsTable(d *report.Document) table {
	t := table{id: TableEvaluaciones, sheet: "Evaluaciones", cols: []column{
		textCol("registro", "Registro", 28),
		textCol("recepcionista", "Recepcionista", 24),
		timeCol("llamada", "Llamada"),
		intCol("revision", "Revisión"),
		textCol("estado", "Estado", 10),
		textCol("punto", "Punto", 36),
		textCol("veredicto", "Veredicto", 11),
		textCol("observacion", "Observación", 50),
		secsCol("momento_s", "Momento de la grabación"),
		textCol("conformidad", "Conformidad de la recepcionista", 18),
		textCol("comentario_conformidad", "Comentario de la recepcionista", 40),
		intCol("timbres", "Timbres"),
		textCol("formulario", "Formulario", 12),
	}}
	for _, e := range d.Evaluations {
		ack, comment := report.AckNone, ""
		if e.Ack != nil {
			ack, comment = e.Ack.State, e.Ack.Comment
		}
		for _, a := range e.Answers {
			t.rows = append(t.rows, []cell{
				txt(e.ID), txt(e.Operator), tm(e.Facts.InviteAt), num(e.Revision),
				enum(string(e.Status), evalStatusLabel(e.Status)),
				enum(a.Point, pointLabel(a.Point)),
				enum(string(a.Verdict), verdictLabel(a.Verdict)),
				txt(a.Observation), opt(a.AtSeconds),
				enum(string(ack), ackLabel(ack)), txt(comment),
				num(e.Facts.Rings), txt(e.Form),
			})
		}
	}
	return t
}
