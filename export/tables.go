package export

import (
	"fmt"
	"slices"
	"time"

	"github.com/switchtap/switchtap/report"
)

// buildTable builds the table of that id from the document.
func buildTable(d *report.Document, loc *time.Location, id string) (table, error) {
	switch id {
	case TableResumen:
		return resumenTable(d), nil
	case TableRecepcionistas:
		return operatorsTable(d), nil
	case TableMuestra:
		return sampleTable(d), nil
	case TableEvaluaciones:
		return evaluationsTable(d), nil
	case TableTabulacion:
		return tabulationTable(d), nil
	case TableAcciones:
		return actionsTable(d), nil
	case TableSalientes:
		return outgoingTable(d), nil
	case TableEstado:
		return healthTable(d, loc), nil
	case TableVoz:
		return voiceTable(d), nil
	}
	return table{}, fmt.Errorf("%w: %q", ErrUnknownTable, id)
}

// Column constructors, with the precision the console uses: two decimals
// for a percentage, one for seconds.

func textCol(id, head string, width float64) column {
	return column{id: id, head: head, kind: kText, width: width}
}

func intCol(id, head string) column { return column{id: id, head: head, kind: kInt, width: 12} }

func pctCol(id, head string) column {
	return column{id: id, head: head, kind: kPct, prec: 2, width: 12}
}

func secsCol(id, head string) column {
	return column{id: id, head: head, kind: kSecs, prec: 1, width: 12}
}

func decCol(id, head string, prec int) column {
	return column{id: id, head: head, kind: kDec, prec: prec, width: 12}
}

func timeCol(id, head string) column { return column{id: id, head: head, kind: kTime, width: 18} }

func dayCol(id, head string) column { return column{id: id, head: head, kind: kDay, width: 12} }

// rowBuilder builds a table's columns and one row together, so a column
// and its value are written side by side and cannot drift apart.
type rowBuilder struct {
	cols []column
	row  []cell
}

func (b *rowBuilder) add(c column, v cell) {
	b.cols = append(b.cols, c)
	b.row = append(b.row, v)
}

// inbound adds the columns of an inbound block (issue 10 §1), with the
// console's words.
func (b *rowBuilder) inbound(in *report.Inbound) {
	if in == nil {
		in = &report.Inbound{}
	}
	b.add(intCol("ofrecidas", "Ofrecidas"), num(in.Offered))
	b.add(intCol("contestadas", "Contestadas"), num(in.Answered))
	b.add(intCol("dentro_limite", "Dentro del límite"), num(in.WithinLimit))
	b.add(intCol("fuera_limite", "Fuera del límite"), num(in.Late))
	b.add(intCol("abandonadas", "Abandonadas"), num(in.Abandoned))
	b.add(intCol("abandonos_cortos", "Abandonos cortos"), num(in.ShortAbandoned))
	b.add(intCol("ocupado", "Ocupado"), num(in.Busy))
	b.add(intCol("rechazadas", "Rechazadas"), num(in.Rejected))
	b.add(intCol("fallidas", "Fallidas"), num(in.Failed))
	b.add(intCol("final_desconocido", "Final desconocido"), num(in.Unknown))
	b.add(pctCol("nivel_servicio_pct", "Nivel de servicio"), opt(in.ServiceLevelPct))
	b.add(secsCol("respuesta_media_s", "Tiempo medio de respuesta"), opt(in.ASASeconds))
	b.add(secsCol("respuesta_p50_s", "Mediana de respuesta"), opt(in.AnswerP50Seconds))
	b.add(secsCol("respuesta_p90_s", "Percentil 90 de respuesta"), opt(in.AnswerP90Seconds))
	b.add(intCol("timbre_1", "Contestadas al 1.er timbre"), num(in.Rings.R1))
	b.add(intCol("timbre_2", "Contestadas al 2.º timbre"), num(in.Rings.R2))
	b.add(intCol("timbre_3", "Contestadas al 3.er timbre"), num(in.Rings.R3))
	b.add(intCol("timbre_4", "Contestadas al 4.º timbre"), num(in.Rings.R4))
	b.add(intCol("timbre_5_mas", "Contestadas al 5.º timbre o después"), num(in.Rings.R5Up))
	b.add(intCol("traslados_ciegos", "Traslados ciegos"), num(in.Transferred.Blind))
	b.add(intCol("traslados_atendidos", "Traslados atendidos (con consulta)"), num(in.Transferred.Attended))
	b.add(intCol("desvios", "Desvíos (3xx)"), num(in.Transferred.Redirect))
	b.add(intCol("traslados_completados", "Traslados completados"), num(in.Transferred.Completed))
	b.add(intCol("traslados_fallidos", "Traslados fallidos"), num(in.Transferred.Failed))
	b.add(secsCol("conversacion_s", "Tiempo de conversación total"), num(in.TalkSecondsTotal))
	b.add(intCol("grabadas", "Contestadas con grabación"), num(in.Recorded))
}

// tally adds the columns of a point's tally under a prefix.
func (b *rowBuilder) tally(prefix, headPrefix string, t *report.PointTally) {
	if t == nil {
		t = &report.PointTally{}
	}
	b.add(intCol(prefix+"evaluadas", headPrefix+"evaluadas"), num(t.Evaluated))
	b.add(intCol(prefix+"cumple", headPrefix+"cumple"), num(t.Cumple))
	b.add(intCol(prefix+"no_cumple", headPrefix+"no cumple"), num(t.NoCumple))
	b.add(intCol(prefix+"no_aplica", headPrefix+"no aplica"), num(t.NoAplica))
	b.add(pctCol(prefix+"pct_no_cumple", headPrefix+"% no cumple"), opt(t.NoCumplePct))
	lo, hi := wilson(t)
	b.add(pctCol(prefix+"wilson_bajo", headPrefix+"Wilson 95 % inferior"), lo)
	b.add(pctCol(prefix+"wilson_alto", headPrefix+"Wilson 95 % superior"), hi)
}

func wilson(t *report.PointTally) (lo, hi cell) {
	if t.Wilson95 == nil {
		return null(), null()
	}
	return num(t.Wilson95.Low), num(t.Wilson95.High)
}

// operators lists the receptionists the document names anywhere (the
// figures, the tabulation, the sample's allocation), sorted; the
// configured ones are all in the figures (every one is present, zeros for
// one with no calls).
func operators(d *report.Document) []string {
	var names []string
	if d.Figures != nil {
		for k := range d.Figures.ByOperator {
			names = append(names, k)
		}
	}
	if d.Tabulation != nil {
		for k := range d.Tabulation.ByOperator {
			names = append(names, k)
		}
		for k := range d.Tabulation.InmediatezAllByOperator {
			names = append(names, k)
		}
	}
	if d.Sample != nil {
		for _, s := range d.Sample.Allocation {
			names = append(names, s.Operator)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
