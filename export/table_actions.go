package export

import "github.com/switchtap/switchtap/report"

// Origins of an action row.
const (
	originMonth    = "mes"
	originFollowUp = "seguimiento"
)

// actionsTable is the corrective actions recorded on this month's report
// (their indicator's value in the month is the baseline), then the
// follow-up of earlier months' actions, indicator before and after.
func actionsTable(d *report.Document) table {
	t := table{id: TableAcciones, sheet: "Acciones", cols: []column{
		textCol("origen", "Origen", 16),
		textCol("id", "Acción", 14),
		textCol("mes_accion", "Mes de la acción", 10),
		textCol("para", "Para", 24),
		textCol("instruccion", "Instrucción", 50),
		textCol("indicador", "Indicador", 28),
		textCol("indicador_punto", "Punto", 24),
		textCol("indicador_recepcionista", "Medido en", 20),
		dayCol("fecha_limite", "Fecha límite"),
		textCol("estado", "Estado", 12),
		decCol("antes", "Antes", 2),
		decCol("despues", "Después", 2),
		decCol("diferencia", "Diferencia", 2),
		textCol("mejoro", "Mejoró", 8),
		timeCol("registrada", "Registrada"),
		textCol("registrada_por", "Registrada por", 16),
		textCol("ultima_valoracion", "Última valoración", 40),
	}}
	for _, a := range d.Actions {
		t.rows = append(t.rows, actionRow(enum(originMonth, "Acción del mes"), a, a.Baseline, nil, nil, nil))
	}
	for _, f := range d.FollowUps {
		t.rows = append(t.rows, actionRow(enum(originFollowUp, "Seguimiento"), f.Action, f.Before, f.After, f.Delta, f.Improved))
	}
	return t
}

func actionRow(origin cell, a report.Action, before, after, delta *float64, improved *bool) []cell {
	better := enum("", noValue)
	if improved != nil {
		better = boolCell(*improved)
	}
	point := txt("")
	if a.Indicator.Point != "" {
		point = enum(a.Indicator.Point, pointLabel(a.Indicator.Point))
	}
	measured := enum("", "Todas")
	if a.Indicator.Operator != "" {
		measured = txt(a.Indicator.Operator)
	}
	last := ""
	if n := len(a.Assessments); n > 0 {
		as := a.Assessments[n-1]
		last = as.Month + ": " + actionStatusLabel(as.Status)
		if as.Comment != "" {
			last += " — " + as.Comment
		}
	}
	return []cell{origin, txt(a.ID), txt(a.Month), enum(a.To, toName(a.To)), txt(a.Instruction),
		enum(a.Indicator.Kind, indicatorLabel(a.Indicator.Kind)), point, measured,
		day(a.DueDate), enum(string(a.Status), actionStatusLabel(a.Status)),
		opt(before), opt(after), opt(delta), better, tm(a.CreatedAt), txt(a.CreatedBy), txt(last)}
}
