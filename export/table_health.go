package export

import (
	"slices"
	"strings"
	"time"

	"github.com/switchtap/switchtap/report"
)

// healthTable is the tap's own health, one row per day: the days it ran
// (from its daily records) and the days it did not, with the capture
// gaps of each day.
func healthTable(d *report.Document, loc *time.Location) table {
	t := table{id: TableEstado, sheet: "Estado del equipo", cols: []column{
		dayCol("dia", "Día"),
		textCol("en_marcha", "En marcha", 9),
		secsCol("segundos_en_marcha", "Tiempo en marcha"),
		intCol("arranques", "Arranques"),
		intCol("paquetes", "Paquetes"),
		intCol("mensajes_sip", "Mensajes SIP"),
		textCol("sin_sip", "Sin SIP", 8),
		intCol("caidas_kernel", "Descartados por el kernel"),
		intCol("errores_almacen", "Errores de almacenamiento"),
		intCol("registros_perdidos", "Registros perdidos"),
		intCol("huecos", "Interrupciones"),
		secsCol("segundos_sin_captura", "Tiempo sin captura"),
		timeCol("ultimo_latido", "Último latido"),
		textCol("detalle_huecos", "Interrupciones (desde–hasta)", 40),
	}}
	h := d.Health
	if h == nil {
		return t
	}
	days := map[string]*report.HealthDay{}
	var keys []string
	for i := range h.ByDay {
		hd := &h.ByDay[i]
		if _, ok := days[hd.Day]; !ok {
			keys = append(keys, hd.Day)
		}
		days[hd.Day] = hd
	}
	for _, k := range h.DaysNotRunning {
		if _, ok := days[k]; !ok {
			days[k] = nil
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		hd := days[k]
		if hd == nil {
			t.rows = append(t.rows, []cell{day(k), boolCell(false), num(0), num(0), num(0), num(0),
				null(), null(), null(), null(), null(), null(), null(), txt("")})
			continue
		}
		gapSecs := 0.0
		for _, g := range hd.Gaps {
			gapSecs += g.Seconds
		}
		t.rows = append(t.rows, []cell{day(k), boolCell(true), num(hd.RunningSeconds), num(hd.Starts),
			num(hd.Packets), num(hd.SIPMessages), boolCell(slices.Contains(h.DaysWithoutSIP, k)),
			num(hd.KernelDrops), num(hd.StoreErrors), num(hd.DroppedRecords), num(len(hd.Gaps)),
			num(gapSecs), tm(hd.LastSeen), gapText(hd.Gaps, loc)})
	}
	return t
}

// gapText lists gaps: "from/to" in RFC 3339 for the CSV (coded), the
// local clock "HH:MM–HH:MM" for people.
func gapText(gs []report.Gap, loc *time.Location) cell {
	if len(gs) == 0 {
		return txt("")
	}
	var code, label []string
	for _, g := range gs {
		from, to := g.From.In(loc), g.To.In(loc)
		code = append(code, from.Format(time.RFC3339)+"/"+to.Format(time.RFC3339))
		label = append(label, from.Format("15:04")+"–"+to.Format("15:04"))
	}
	return enum(strings.Join(code, " "), strings.Join(label, ", "))
}
