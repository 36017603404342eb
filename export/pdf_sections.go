package export

import (
	"slices"
	"strconv"
	"strings"

	"github.com/switchtap/switchtap/report"
)

// sections draws the report's body, numbered like the procedure.
func (w *pdfWriter) sections() {
	w.figures()
	w.voice()
	w.sample()
	w.tabulation()
	w.observations()
	w.conclusions()
	w.outgoingHealth()
	w.actions()
	w.history()
}

// 1 Cifras del mes.
func (w *pdfWriter) figures() {
	w.section(1, "Cifras del mes", 60)
	f := w.d.Figures
	if f == nil {
		w.paragraph("El mes no tiene cifras calculadas.")
		return
	}
	w.note("Llamadas en total: " + pInt(f.CallsTotal) + " (los tramos de un traslado cuentan en el traslado). " +
		"Nivel de servicio = dentro del límite ÷ (ofrecidas − abandonos cortos) × 100.")
	w.p.Ln(1)
	in := f.Inbound
	top := w.p.GetY()
	left := w.kv(marginL, 86, "Llamadas entrantes a recepción", [][2]string{
		{"Ofrecidas", pInt(in.Offered)},
		{"Contestadas", pInt(in.Answered)},
		{"Dentro del límite de timbres", pInt(in.WithinLimit)},
		{"Fuera del límite", pInt(in.Late)},
		{"Nivel de servicio", pPct(in.ServiceLevelPct)},
		{"Abandonadas", pInt(in.Abandoned)},
		{"de ellas, abandonos cortos", pInt(in.ShortAbandoned)},
		{"Ocupado", pInt(in.Busy)},
		{"Rechazadas", pInt(in.Rejected)},
		{"Fallidas", pInt(in.Failed)},
		{"Final desconocido", pInt(in.Unknown)},
		{"Tiempo medio de respuesta", pSecs(in.ASASeconds)},
		{"Mediana de respuesta", pSecs(in.AnswerP50Seconds)},
		{"Percentil 90 de respuesta", pSecs(in.AnswerP90Seconds)},
		{"Tiempo de conversación total", pDuration(in.TalkSecondsTotal)},
		{"Contestadas con grabación", pInt(in.Recorded)},
	})
	leftPage := w.p.PageNo()
	w.p.SetY(top)
	tr := in.Transferred
	w.kv(marginL+94, 86, "Traslados de llamadas entrantes", [][2]string{
		{"Ciegos", pInt(tr.Blind)},
		{"Atendidos (con consulta)", pInt(tr.Attended)},
		{"Desvíos (3xx)", pInt(tr.Redirect)},
		{"Completados", pInt(tr.Completed)},
		{"Fallidos", pInt(tr.Failed)},
	})
	w.p.Ln(3)
	o := f.Outbound
	right := w.kv(marginL+94, 86, "Llamadas salientes de recepción", [][2]string{
		{"Realizadas", pInt(o.Made)},
		{"Contestadas", pInt(o.Answered)},
		{"Ocupado", pInt(o.Busy)},
		{"Rechazadas", pInt(o.Rejected)},
		{"Fallidas", pInt(o.Failed)},
		{"Sin respuesta", pInt(o.NoAnswer)},
	})
	if w.p.PageNo() == leftPage {
		w.p.SetY(max(left, right) + 3)
	}

	w.subsection("Por recepcionista", 20)
	var rows [][]string
	for _, name := range operators(w.d) {
		b := f.ByOperator[name]
		if b == nil {
			b = &report.Inbound{}
		}
		var census *report.PointTally
		if w.d.Tabulation != nil {
			if c, ok := w.d.Tabulation.InmediatezAllByOperator[name]; ok {
				census = &c
			}
		}
		inm := noValue
		if census != nil {
			inm = pPct(census.NoCumplePct)
		}
		rows = append(rows, []string{name, pInt(b.Offered), pInt(b.Answered), pInt(b.WithinLimit),
			pInt(b.Abandoned), pPct(b.ServiceLevelPct), pSecs(b.ASASeconds), pSecs(b.AnswerP90Seconds), inm})
	}
	w.grid([]gcol{{head: "Recepcionista", w: 32}, {head: "Ofrecidas", w: 16, align: "R"},
		{head: "Contestadas", w: 20, align: "R"}, {head: "Dentro del límite", w: 17, align: "R"},
		{head: "Abandonadas", w: 21, align: "R"}, {head: "Nivel de servicio", w: 18, align: "R"},
		{head: "Respuesta media", w: 18, align: "R"}, {head: "P90 de respuesta", w: 18, align: "R"},
		{head: "Inmediatez, todas las llamadas: % no cumple", align: "R"}}, rows)

	w.subsection("Gráficos", 70)
	for _, c := range monthCharts(f) {
		w.chart(c, 66)
		w.p.Ln(3)
	}
}

// voice is the last part of section 1, what the recordings give (issue
// 13), printed
// from the same table as the CSV and the workbook: per receptionist, the
// greeting latency, the silence and overtalk, and the MOS per direction.
func (w *pdfWriter) voice() {
	w.subsection("Voz y calidad de las grabaciones", 30)
	v := w.d.Voice
	if v == nil {
		w.paragraph("El mes no tiene análisis de voz de las grabaciones.")
		return
	}
	w.note("Llamadas entrantes contestadas con análisis de voz. Demora del saludo: desde la contestación hasta que " +
		"la recepcionista empieza a hablar; límite " + formatDecimal(v.GreetingLimitSeconds, 1) + nbsp + "s. " +
		"Percentiles por rango más cercano. MOS: estimación del modelo E (UIT-T G.107) por sentido; P10, el 10 % peor.")
	w.p.Ln(1)
	t := voiceTable(w.d)
	at := func(id string) int { return slices.IndexFunc(t.cols, func(c column) bool { return c.id == id }) }
	// Each printed column is one or two of the table's ("mediana / P10"
	// for the MOS), so the PDF cannot print a figure the CSV lacks.
	show := []struct {
		head string
		ids  []string
	}{
		{"Llamadas", []string{"llamadas"}}, {"Saludo: mediana", []string{"saludo_p50_s"}},
		{"Saludo: P90", []string{"saludo_p90_s"}}, {"Saludo tardío", []string{"saludo_sobre_limite_pct"}},
		{"Sin saludo", []string{"sin_saludo"}}, {"Silencio: mediana", []string{"silencio_p50_pct"}},
		{"Habla simultánea: mediana", []string{"habla_simultanea_p50_pct"}},
		{"MOS del llamante: mediana / P10", []string{"mos_llamante_p50", "mos_llamante_p10"}},
		{"MOS de recepción: mediana / P10", []string{"mos_recepcionista_p50", "mos_recepcionista_p10"}},
	}
	// Widths in mm, 176 in all, so no header breaks inside a word.
	widths := []float64{16, 14, 14, 15, 13, 15, 19, 21, 21}
	cols := []gcol{{head: "Recepcionista", w: 28}}
	for i, s := range show {
		cols = append(cols, gcol{head: s.head, w: widths[i], align: "R"})
	}
	name, scope := at("recepcionista"), at("ambito")
	var rows [][]string
	for _, r := range t.rows {
		row := []string{r[name].text}
		if r[name].null {
			row[0] = r[scope].text // the row of all receptionists
		}
		for _, s := range show {
			var parts []string
			all := true
			for _, id := range s.ids {
				j := at(id)
				parts = append(parts, r[j].display(t.cols[j], w.loc))
				all = all && r[j].null
			}
			if all {
				parts = []string{noValue}
			}
			row = append(row, strings.Join(parts, " / "))
		}
		rows = append(rows, row)
	}
	w.grid(cols, rows)
}

// 2 Muestra.
func (w *pdfWriter) sample() {
	w.section(2, "Muestra", 40)
	s := w.d.Sample
	if s == nil {
		w.paragraph("El mes aún no tiene muestra.")
		return
	}
	rows := [][2]string{}
	if s.Design.Method == report.MethodFixed {
		rows = append(rows, [2]string{"Tamaño", pInt(s.Design.PerOperator) + " llamadas por recepcionista"})
	} else {
		rows = append(rows,
			[2]string{"Tamaño", methodLabel(s.Design.Method) + ": confianza " + formatDecimal(s.Design.Confidence*100, 0) +
				nbsp + "%, margen ±" + formatDecimal(s.Design.Margin*100, 0) + nbsp + "%, p = " +
				formatDecimal(s.Design.P, 2) + " (z = " + formatDecimal(s.Design.Z, 3) + ")"},
			[2]string{"n de Cochran", pInt(s.NCochran)},
			[2]string{"Mínimo por recepcionista", pInt(s.Design.Floor)})
	}
	rows = append(rows,
		[2]string{"Llamadas en la muestra", pInt(s.N)},
		[2]string{"Marco", pInt(s.FrameSize) + " llamadas contestadas con grabación"},
		[2]string{"Huella del marco (SHA-256)", orDash(s.FrameHash)},
		[2]string{"Asignación", orDash(s.Design.Allocation)},
		[2]string{"Reservas por recepcionista", pInt(s.Design.Reserves)},
		[2]string{"Semilla · generador", strconv.FormatUint(s.Seed, 10) + " · " + orDash(s.Generator)},
		[2]string{"Sorteada", w.when(s.DrawnAt) + " por " + orDash(s.DrawnBy)},
	)
	if s.Redraw != "" {
		rows = append(rows, [2]string{"Nuevo sorteo", s.Redraw})
	}
	if s.Keep.Until != "" {
		rows = append(rows, [2]string{"Retención", "Grabaciones protegidas hasta la " + s.Keep.Until})
	}
	w.kv(marginL, contentW, "Diseño", rows)
	w.p.Ln(2)

	w.subsection("Asignación por recepcionista", 20)
	var alloc [][]string
	for _, a := range s.Allocation {
		alloc = append(alloc, []string{a.Operator, pInt(a.Frame), pInt(a.N), pInt(a.Reserves)})
	}
	w.grid([]gcol{{head: "Recepcionista"}, {head: "En el marco", w: 30, align: "R"},
		{head: "En la muestra", w: 30, align: "R"}, {head: "Reservas", w: 30, align: "R"}}, alloc)

	w.subsection("Llamadas a evaluar", 20)
	st := sampleTable(w.d)
	var items [][]string
	for _, r := range st.rows {
		items = append(items, []string{r[0].text, r[1].display(st.cols[1], w.loc), r[2].text, r[3].text})
	}
	w.grid([]gcol{{head: "Recepcionista"}, {head: "Orden", w: 16, align: "R"}, {head: "Registro", w: 56},
		{head: "Estado", w: 28}}, items)
	if len(s.Replacements) > 0 {
		w.subsection("Reemplazos", 20)
		var reps [][]string
		for _, r := range s.Replacements {
			reps = append(reps, []string{w.when(r.At), r.By, r.OldID, r.NewID, r.Reason})
		}
		w.grid([]gcol{{head: "Fecha", w: 28}, {head: "Por", w: 24}, {head: "Sale", w: 32},
			{head: "Entra", w: 32}, {head: "Motivo"}}, reps)
	}
}

// 3 Evaluación y tabulación por tipo de incumplimiento.
func (w *pdfWriter) tabulation() {
	w.section(3, "Evaluación y tabulación por tipo de incumplimiento", 40)
	t := w.d.Tabulation
	if t == nil {
		w.paragraph("El mes no tiene evaluaciones tabuladas.")
		return
	}
	w.paragraph("Llamadas de la muestra: " + pInt(t.Sampled) + " · evaluaciones enviadas: " + pInt(t.Submitted) +
		" · en borrador: " + pInt(t.Drafts) + " · pendientes: " + pInt(t.Pending) +
		" · llamadas con algún incumplimiento: " + pInt(t.WithNonCompliance) + ".")
	w.note("Respuesta de las recepcionistas: " + pInt(t.Acknowledged) + " aceptadas, " + pInt(t.Disputed) +
		" disputadas (" + pInt(t.Unresolved) + " sin resolver), " + pInt(t.Changed) +
		" modificadas después del envío. % no cumple = no cumple ÷ evaluadas (no aplica no se evalúa), con su intervalo de Wilson al 95 %.")
	w.p.Ln(1)
	cols := []gcol{{head: "Punto"}, {head: "Evaluadas", w: 17, align: "R"}, {head: "Cumple", w: 15, align: "R"},
		{head: "No cumple", w: 16, align: "R"}, {head: "No aplica", w: 16, align: "R"},
		{head: "% no cumple", w: 19, align: "R"}, {head: "Intervalo 95 % (Wilson)", w: 32, align: "R"}}
	tallyRows := func(ps []report.PointTally) [][]string {
		var rows [][]string
		for _, p := range ps {
			label := p.Label
			if label == "" {
				label = pointLabel(p.Point)
			}
			rows = append(rows, []string{label, pInt(p.Evaluated), pInt(p.Cumple), pInt(p.NoCumple),
				pInt(p.NoAplica), pPct(p.NoCumplePct), pInterval(p.Wilson95)})
		}
		return rows
	}
	w.subsection("Todas las recepcionistas (muestra)", 20)
	w.grid(cols, tallyRows(t.Points))

	w.subsection("Inmediatez sobre todas las llamadas del mes", 20)
	w.note("Medida en el 100 % de las llamadas entrantes: evaluadas = contestadas + abandonadas después del límite; " +
		"no aplica = abandonadas dentro del límite.")
	all := []report.PointTally{census(t.InmediatezAll)}
	names := []string{"Todas"}
	var ops []string
	for k := range t.InmediatezAllByOperator {
		ops = append(ops, k)
	}
	slices.Sort(ops)
	for _, k := range ops {
		all = append(all, census(t.InmediatezAllByOperator[k]))
		names = append(names, k)
	}
	rows := tallyRows(all)
	for i := range rows {
		rows[i][0] = names[i]
	}
	cols0 := slices.Clone(cols)
	cols0[0].head = "Recepcionista"
	w.grid(cols0, rows)

	ops = ops[:0]
	for k := range t.ByOperator {
		ops = append(ops, k)
	}
	slices.Sort(ops)
	for _, k := range ops {
		w.subsection("Muestra de "+k, 20)
		w.grid(cols, tallyRows(t.ByOperator[k]))
	}
}

// 4 Observaciones.
func (w *pdfWriter) observations() {
	w.section(4, "Observaciones", 20)
	var obs []report.Observation
	if w.d.Tabulation != nil {
		obs = w.d.Tabulation.Observations
	}
	if len(obs) == 0 {
		w.paragraph("Las evaluaciones enviadas no tienen observaciones.")
		return
	}
	var rows [][]string
	for _, o := range obs {
		at := noValue
		if o.AtSeconds != nil {
			at = formatDecimal(*o.AtSeconds, 1) + nbsp + "s"
		}
		rows = append(rows, []string{orDash(o.InviteLocal), o.Operator, pointLabel(o.Point),
			verdictLabel(o.Verdict), at, o.Text})
	}
	w.grid([]gcol{{head: "Llamada", w: 25}, {head: "Recepcionista", w: 27}, {head: "Punto", w: 30},
		{head: "Veredicto", w: 17}, {head: "Momento", w: 16, align: "R"}, {head: "Observación"}}, rows)
}

// 5 Conclusiones del técnico.
func (w *pdfWriter) conclusions() {
	w.section(5, "Conclusiones del técnico", 20)
	w.paragraph(orDash(w.d.Review.Conclusions))
}

// 6 Llamadas salientes y estado del equipo.
func (w *pdfWriter) outgoingHealth() {
	w.section(6, "Llamadas salientes y estado del equipo", 40)
	w.note("Lineamiento 6a: en las llamadas salientes se verifica mensualmente el buen funcionamiento del sistema.")
	w.p.Ln(1)
	if o := w.d.Outgoing; o != nil {
		rows := [][2]string{
			{"Realizadas", pInt(o.Made)},
			{"Contestadas", pInt(o.Answered)},
			{"Contestadas sin audio", pInt(o.NoAudio) + ids(o.NoAudioIDs)},
			{"Contestadas con audio en un solo sentido", pInt(o.OneWayAudio) + ids(o.OneWayAudioIDs)},
			{"Contestadas sin grabación", pInt(o.NotRecorded)},
			{"Contestadas con audio juzgado por el análisis de la grabación", pInt(o.QualityJudged)},
			{"Contestadas con estimación de MOS", pInt(o.MOSJudged)},
			{"Contestadas con MOS bajo (menor que " + formatDecimal(report.LowMOSThreshold, 1) + ")", pInt(o.LowMOS) + ids(o.LowMOSIDs)},
		}
		codes := make([]string, 0, len(o.Failures))
		for k := range o.Failures {
			codes = append(codes, k)
		}
		slices.Sort(codes)
		for _, k := range codes {
			rows = append(rows, [2]string{"Sin contestar: " + k, pInt(o.Failures[k])})
		}
		w.kv(marginL, contentW, "Llamadas salientes", rows)
	} else {
		w.paragraph("Sin datos de llamadas salientes.")
	}
	w.p.Ln(3)
	h := w.d.Health
	if h == nil {
		w.paragraph("Sin registros del estado del equipo.")
		return
	}
	w.kv(marginL, contentW, "Estado del equipo", [][2]string{
		{"Días del mes", pInt(h.Days)},
		{"Días con registro del equipo", pInt(h.DaysRecorded)},
		{"Días sin el equipo en marcha", dayList(h.DaysNotRunning)},
		{"Días sin mensajes SIP", dayList(h.DaysWithoutSIP)},
		{"Interrupciones de la captura", pInt(len(h.CaptureGaps)) + " (" + pDuration(h.GapSeconds) + " en total)"},
		{"Paquetes descartados por el kernel", pUint(h.KernelDrops)},
		{"Errores de almacenamiento", pUint(h.StoreErrors)},
		{"Registros perdidos", pUint(h.DroppedRecords)},
		{"Reinicios", pInt(h.Restarts)},
		{"Mensajes SIP", pUint(h.SIPMessages)},
		{"Paquetes capturados", pUint(h.Packets)},
	})
	w.p.Ln(2)
	if len(h.CaptureGaps) > 0 {
		w.subsection("Interrupciones de la captura", 20)
		var rows [][]string
		for _, g := range h.CaptureGaps {
			rows = append(rows, []string{w.when(g.From), w.when(g.To), pDuration(g.Seconds)})
		}
		w.grid([]gcol{{head: "Desde"}, {head: "Hasta"}, {head: "Duración", align: "R"}}, rows)
	}
}

// ids lists record ids after a count.
func ids(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return ": " + strings.Join(s, ", ")
}

// dayList writes local days "YYYY-MM-DD" as dd/mm, the dash for none.
func dayList(days []string) string {
	if len(days) == 0 {
		return noValue
	}
	out := make([]string, len(days))
	for i, k := range days {
		out[i] = day(k).display(dayCol("", ""), nil)
	}
	return pInt(len(days)) + ": " + strings.Join(out, ", ")
}

// 7 Acciones correctivas y seguimiento.
func (w *pdfWriter) actions() {
	w.section(7, "Acciones correctivas y seguimiento", 30)
	indicator := func(in report.Indicator) string {
		s := indicatorLabel(in.Kind)
		if in.Point != "" {
			s += ": " + pointLabel(in.Point)
		}
		if in.Operator != "" {
			s += " (" + in.Operator + ")"
		}
		return s
	}
	due := func(s string) string { return day(s).display(dayCol("", ""), nil) }
	w.subsection("Acciones registradas en este informe", 20)
	if len(w.d.Actions) == 0 {
		w.paragraph("Ninguna.")
	} else {
		var rows [][]string
		for _, a := range w.d.Actions {
			rows = append(rows, []string{toName(a.To), a.Instruction, indicator(a.Indicator), due(a.DueDate),
				actionStatusLabel(a.Status), pIndicator(a.Indicator.Kind, a.Baseline)})
		}
		w.grid([]gcol{{head: "Para", w: 28}, {head: "Instrucción"}, {head: "Indicador", w: 38},
			{head: "Fecha límite", w: 19}, {head: "Estado", w: 17}, {head: "Valor del mes", w: 18, align: "R"}}, rows)
	}
	w.subsection("Seguimiento de acciones de meses anteriores", 20)
	if len(w.d.FollowUps) == 0 {
		w.paragraph("Ninguna acción anterior en seguimiento.")
		return
	}
	var rows [][]string
	for _, f := range w.d.FollowUps {
		a := f.Action
		better := noValue
		if f.Improved != nil {
			better = yesNo(*f.Improved)
		}
		rows = append(rows, []string{a.Month + " · " + toName(a.To), a.Instruction, indicator(a.Indicator),
			pIndicator(a.Indicator.Kind, f.Before), pIndicator(a.Indicator.Kind, f.After),
			pIndicator(a.Indicator.Kind, f.Delta), better, actionStatusLabel(a.Status)})
	}
	w.grid([]gcol{{head: "Mes · para", w: 26}, {head: "Instrucción"}, {head: "Indicador", w: 30},
		{head: "Antes", w: 16, align: "R"}, {head: "Después", w: 16, align: "R"},
		{head: "Diferencia", w: 18, align: "R"}, {head: "Mejoró", w: 13}, {head: "Estado", w: 16}}, rows)
}

// 8 Historial de revisión.
func (w *pdfWriter) history() {
	w.section(8, "Historial de revisión", 30)
	r := w.d.Review
	if len(r.Rounds) == 0 {
		w.paragraph("El informe aún no se ha enviado al jefe UACT.")
	} else {
		var rows [][]string
		for _, rd := range r.Rounds {
			answer := "Pendiente"
			switch {
			case rd.ApprovedAt != nil:
				answer = "Aprobado el " + w.whenPtr(rd.ApprovedAt) + " por " + orDash(rd.ApprovedBy)
			case rd.ReturnedAt != nil:
				answer = "Devuelto el " + w.whenPtr(rd.ReturnedAt) + " por " + orDash(rd.ReturnedBy)
			}
			rows = append(rows, []string{pInt(rd.N), w.when(rd.SubmittedAt), rd.SubmittedBy, answer, orDash(rd.Observations)})
		}
		w.grid([]gcol{{head: "Ronda", w: 13, align: "R"}, {head: "Enviado", w: 28}, {head: "Por", w: 22},
			{head: "Respuesta del jefe", w: 50}, {head: "Observaciones"}}, rows)
	}
	if len(r.History) > 0 {
		w.subsection("Pasos", 20)
		var rows [][]string
		for _, e := range r.History {
			rows = append(rows, []string{w.when(e.At), e.By, eventLabel(e.Action), e.Detail})
		}
		w.grid([]gcol{{head: "Fecha", w: 28}, {head: "Por", w: 26}, {head: "Paso", w: 40}, {head: "Detalle"}}, rows)
	}
}

// eventLabel is a history step in words.
func eventLabel(a string) string {
	switch a {
	case report.EventConclusions:
		return "Conclusiones guardadas"
	case report.EventSubmitted:
		return "Enviado al jefe UACT"
	case report.EventReturned:
		return "Devuelto con observaciones"
	case report.EventApproved:
		return "Aprobado"
	case report.EventActionAdded:
		return "Acción correctiva registrada"
	case report.EventActionAssessed:
		return "Acción correctiva valorada"
	case report.EventActionRead:
		return "Acción leída por la recepcionista"
	case report.EventKeepReleased:
		return "Retención de grabaciones liberada"
	}
	return a
}
