package export

import (
	"strconv"

	"github.com/switchtap/switchtap/report"
)

// resumenTable is the month in one row: the report's place in the
// calendar and its review, the inbound and outbound figures, the sample
// design, the counts of the evaluation, the conclusions and the totals of
// the tap's health. The workbook shows it as a list of concept and value.
func resumenTable(d *report.Document) table {
	var b rowBuilder
	b.add(textCol("mes", "Mes", 10), txt(d.Month))
	b.add(textCol("zona_horaria", "Zona horaria", 22), txt(d.TimeZone))
	b.add(timeCol("generado", "Generado"), tm(d.GeneratedAt))
	b.add(textCol("oficina", "Oficina", 24), txt(d.Office))
	state := d.Review.State
	if state == "" {
		state = report.ReviewDraft
	}
	b.add(textCol("estado_informe", "Estado del informe", 24), enum(string(state), reviewStateLabel(state)))
	b.add(intCol("rondas_revision", "Rondas de revisión"), num(len(d.Review.Rounds)))
	due := d.Due.DueAt
	if due.IsZero() {
		due = d.Review.DueAt
	}
	b.add(timeCol("fecha_limite", "Fecha límite de entrega"), tm(due))
	b.add(textCol("vencido", "Vencido", 6), boolCell(d.Due.Overdue))
	b.add(timeCol("enviado", "Enviado"), optTime(d.Due.SubmittedAt))
	b.add(textCol("enviado_tarde", "Enviado fuera de plazo", 6), boolCell(d.Due.SubmittedLate))
	b.add(timeCol("aprobado", "Aprobado"), optTime(d.Review.ApprovedAt))

	f := d.Figures
	if f == nil {
		f = &report.MonthFigures{}
	}
	b.add(intCol("llamadas_total", "Llamadas en total"), num(f.CallsTotal))
	b.inbound(&f.Inbound)
	o := f.Outbound
	b.add(intCol("salientes_realizadas", "Salientes realizadas"), num(o.Made))
	b.add(intCol("salientes_contestadas", "Salientes contestadas"), num(o.Answered))
	b.add(intCol("salientes_ocupado", "Salientes con ocupado"), num(o.Busy))
	b.add(intCol("salientes_rechazadas", "Salientes rechazadas"), num(o.Rejected))
	b.add(intCol("salientes_fallidas", "Salientes fallidas"), num(o.Failed))
	b.add(intCol("salientes_sin_respuesta", "Salientes sin respuesta"), num(o.NoAnswer))

	b.sampleDesign(d.Sample)

	t := d.Tabulation
	if t == nil {
		t = &report.Tabulation{}
	}
	b.add(textCol("formulario", "Formulario de evaluación", 12), txt(t.Form))
	b.add(intCol("muestra_vigentes", "Llamadas de la muestra"), num(t.Sampled))
	b.add(intCol("evaluaciones_enviadas", "Evaluaciones enviadas"), num(t.Submitted))
	b.add(intCol("evaluaciones_borrador", "Evaluaciones en borrador"), num(t.Drafts))
	b.add(intCol("evaluaciones_pendientes", "Evaluaciones pendientes"), num(t.Pending))
	b.add(intCol("con_incumplimiento", "Llamadas con algún incumplimiento"), num(t.WithNonCompliance))
	b.add(intCol("aceptadas", "Evaluaciones aceptadas por la recepcionista"), num(t.Acknowledged))
	b.add(intCol("disputadas", "Evaluaciones disputadas"), num(t.Disputed))
	b.add(intCol("disputas_sin_resolver", "Disputas sin resolver"), num(t.Unresolved))
	b.add(intCol("modificadas", "Evaluaciones modificadas después del envío"), num(t.Changed))
	b.add(textCol("conclusiones", "Conclusiones del técnico", 60), txt(d.Review.Conclusions))

	h := d.Health
	if h == nil {
		h = &report.HealthPart{}
	}
	b.add(intCol("dias", "Días del mes"), num(h.Days))
	b.add(intCol("dias_registrados", "Días con registro del equipo"), num(h.DaysRecorded))
	b.add(intCol("dias_sin_registro", "Días sin el equipo en marcha"), num(len(h.DaysNotRunning)))
	b.add(intCol("dias_sin_sip", "Días sin mensajes SIP"), num(len(h.DaysWithoutSIP)))
	b.add(intCol("huecos_captura", "Interrupciones de la captura"), num(len(h.CaptureGaps)))
	b.add(secsCol("segundos_sin_captura", "Tiempo sin captura"), num(h.GapSeconds))
	b.add(intCol("caidas_kernel", "Paquetes descartados por el kernel"), num(h.KernelDrops))
	b.add(intCol("errores_almacen", "Errores de almacenamiento"), num(h.StoreErrors))
	b.add(intCol("registros_perdidos", "Registros perdidos"), num(h.DroppedRecords))
	b.add(intCol("reinicios", "Reinicios"), num(h.Restarts))
	b.add(intCol("mensajes_sip", "Mensajes SIP"), num(h.SIPMessages))
	b.add(intCol("paquetes", "Paquetes capturados"), num(h.Packets))
	return table{id: TableResumen, sheet: "Resumen", cols: b.cols, rows: [][]cell{b.row}}
}

// sampleDesign adds the sample's design (issue 10 §2, domain.md §6.3):
// with the frame and the seed it determines the draw, so each is written.
func (b *rowBuilder) sampleDesign(s *report.Sample) {
	has := s != nil
	if s == nil {
		s = &report.Sample{}
	}
	or := func(c cell) cell {
		if !has {
			return null()
		}
		return c
	}
	b.add(textCol("muestra_sorteada", "Muestra sorteada", 6), boolCell(has))
	b.add(intCol("marco_llamadas", "Marco: llamadas contestadas con grabación"), or(num(s.FrameSize)))
	b.add(textCol("marco_sha256", "Huella del marco (SHA-256)", 66), txt(s.FrameHash))
	b.add(textCol("marco_codificacion", "Codificación del marco", 20), txt(s.FrameEncoding))
	b.add(textCol("metodo", "Tamaño de la muestra", 40), enum(s.Design.Method, methodLabel(s.Design.Method)))
	cochran := has && s.Design.Method == report.MethodCochran
	orC := func(c cell) cell {
		if !cochran {
			return null()
		}
		return c
	}
	b.add(pctCol("confianza_pct", "Confianza"), orC(num(s.Design.Confidence*100)))
	b.add(pctCol("margen_pct", "Margen de error (±)"), orC(num(s.Design.Margin*100)))
	b.add(decCol("p", "Proporción esperada (p)", 2), orC(num(s.Design.P)))
	b.add(decCol("z", "z", 3), orC(num(s.Design.Z)))
	b.add(intCol("n_cochran", "n de Cochran"), orC(num(s.NCochran)))
	b.add(intCol("minimo_por_recepcionista", "Mínimo por recepcionista"), orC(num(s.Design.Floor)))
	fixed := has && s.Design.Method == report.MethodFixed
	pp := null()
	if fixed {
		pp = num(s.Design.PerOperator)
	}
	b.add(intCol("fijo_por_recepcionista", "Llamadas fijas por recepcionista"), pp)
	b.add(intCol("n_muestra", "Llamadas en la muestra"), or(num(s.N)))
	b.add(intCol("reservas_por_recepcionista", "Reservas por recepcionista"), or(num(s.Design.Reserves)))
	b.add(textCol("estratos", "Estratos", 12), txt(s.Design.Strata))
	b.add(textCol("regla_asignacion", "Regla de asignación", 40), txt(s.Design.Allocation))
	// The seed is text: a 64-bit integer does not survive a spreadsheet's
	// double (the sample's JSON keeps it as a string for the same reason).
	seed := null()
	if has {
		seed = txt(strconv.FormatUint(s.Seed, 10))
	}
	b.add(textCol("semilla", "Semilla", 22), seed)
	b.add(textCol("generador", "Generador", 16), txt(s.Generator))
	b.add(timeCol("sorteada", "Sorteada"), tm(s.DrawnAt))
	b.add(textCol("sorteada_por", "Sorteada por", 16), txt(s.DrawnBy))
	b.add(textCol("motivo_nuevo_sorteo", "Motivo del nuevo sorteo", 30), txt(s.Redraw))
	b.add(textCol("retencion", "Retención de las grabaciones", 40), txt(s.Keep.Until))
}
