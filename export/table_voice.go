package export

import (
	"slices"

	"github.com/switchtap/switchtap/report"
)

// voiceTable is what the recordings of the answered inbound calls show
// without listening (issue 13): one row for all receptionists, then one
// per receptionist, with the greeting latency, the shares of talk,
// silence and overtalk, and the MOS estimate per direction. Percentiles
// are the report's nearest-rank ones (report.VoiceBlock).
func voiceTable(d *report.Document) table {
	t := table{id: TableVoz, sheet: "Voz y calidad"}
	v := d.Voice
	if v == nil {
		// No voice part: the header is still the contract.
		var b rowBuilder
		b.voice(null(), null(), nil, nil)
		t.cols = b.cols
		return t
	}
	limit := num(v.GreetingLimitSeconds)
	var b rowBuilder
	b.voice(enum("todas", "Todas las recepcionistas"), limit, nil, &v.All)
	t.cols = b.cols
	t.rows = append(t.rows, b.row)
	names := make([]string, 0, len(v.ByOperator))
	for k := range v.ByOperator {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		var b rowBuilder
		n := txt(name)
		b.voice(enum("recepcionista", "Recepcionista"), limit, &n, v.ByOperator[name])
		t.rows = append(t.rows, b.row)
	}
	return t
}

// voice adds the columns of a voice block.
func (b *rowBuilder) voice(scope, limit cell, name *cell, v *report.VoiceBlock) {
	if v == nil {
		v = &report.VoiceBlock{}
	}
	op := null()
	if name != nil {
		op = *name
	}
	lat := func(id, head string) column { return column{id: id, head: head, kind: kSecs, prec: 2, width: 12} }
	b.add(textCol("ambito", "Ámbito", 24), scope)
	b.add(textCol("recepcionista", "Recepcionista", 24), op)
	b.add(intCol("llamadas", "Contestadas con análisis de voz"), num(v.Calls))
	b.add(intCol("saludo_n", "Con saludo medido"), num(v.Greeting.N))
	b.add(intCol("sin_saludo", "La recepcionista no habló"), num(v.NoGreeting))
	b.add(lat("saludo_p50_s", "Demora del saludo: mediana"), opt(v.Greeting.P50))
	b.add(lat("saludo_p90_s", "Demora del saludo: percentil 90"), opt(v.Greeting.P90))
	b.add(lat("limite_saludo_s", "Límite del saludo"), limit)
	b.add(intCol("saludo_sobre_limite", "Saludos después del límite"), num(v.GreetingOverLimit))
	b.add(pctCol("saludo_sobre_limite_pct", "% de saludos después del límite"), opt(v.GreetingOverLimitPct))
	share := func(prefix, head string, dist report.Dist) {
		b.add(pctCol(prefix+"_p50_pct", head+": mediana"), opt(dist.P50))
		b.add(pctCol(prefix+"_p90_pct", head+": percentil 90"), opt(dist.P90))
	}
	share("habla_llamante", "Habla del llamante", v.TalkCaller)
	share("habla_recepcionista", "Habla de la recepcionista", v.TalkReceptionist)
	share("silencio", "Silencio de ambos", v.Silence)
	share("habla_simultanea", "Habla simultánea", v.Overtalk)
	mos := func(prefix, head string, dist report.Dist) {
		b.add(intCol(prefix+"_n", head+": llamadas"), num(dist.N))
		b.add(decCol(prefix+"_p50", head+": mediana", 2), opt(dist.P50))
		b.add(decCol(prefix+"_p10", head+": percentil 10", 2), opt(dist.P10))
	}
	mos("mos_llamante", "MOS del audio del llamante", v.MOSCaller)
	mos("mos_recepcionista", "MOS del audio de la recepcionista", v.MOSReceptionist)
}
