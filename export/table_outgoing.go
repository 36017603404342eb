package export

import (
	"slices"
	"strings"

	"github.com/switchtap/switchtap/report"
)

// outgoingTable is lineamiento 6a, the monthly check of the system on the
// outgoing calls: one row per fact (made, answered, each failure code,
// no audio, one-way audio, not recorded) with its count and the record
// ids where the document lists them.
func outgoingTable(d *report.Document) table {
	t := table{id: TableSalientes, sheet: "Salientes", cols: []column{
		textCol("concepto", "Concepto", 40),
		textCol("detalle", "Detalle", 16),
		intCol("llamadas", "Llamadas"),
		textCol("registros", "Registros", 60),
	}}
	o := d.Outgoing
	if o == nil {
		return t
	}
	row := func(code, label, detail string, n int, ids []string) {
		t.rows = append(t.rows, []cell{enum(code, label), txt(detail), num(n), txt(strings.Join(ids, " "))})
	}
	row("realizadas", "Realizadas", "", o.Made, nil)
	row("contestadas", "Contestadas", "", o.Answered, nil)
	codes := make([]string, 0, len(o.Failures))
	for k := range o.Failures {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	for _, k := range codes {
		row("fallo", "Sin contestar, por código o motivo", k, o.Failures[k], nil)
	}
	row("sin_audio", "Contestadas sin audio", "", o.NoAudio, o.NoAudioIDs)
	row("audio_un_sentido", "Contestadas con audio en un solo sentido", "", o.OneWayAudio, o.OneWayAudioIDs)
	row("sin_grabacion", "Contestadas sin grabación", "", o.NotRecorded, nil)
	return t
}
