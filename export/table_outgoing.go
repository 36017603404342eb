package export

import (
	"slices"
	"strconv"
	"strings"

	"github.com/switchtap/switchtap/report"
)

// outgoingTable is lineamiento 6a, the monthly check of the system on the
// outgoing calls: one row per fact (made, answered, each failure code,
// no audio, one-way audio, not recorded, judged by the recording's audio
// analysis, with a MOS estimate, low MOS) with its count and the record
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
	row("juzgadas_por_analisis", "Contestadas con audio juzgado por el análisis de la grabación", "", o.QualityJudged, nil)
	row("con_mos", "Contestadas con estimación de MOS", "", o.MOSJudged, nil)
	// The threshold's detail keeps a decimal point in the CSV and the
	// es-SV comma for people.
	t.rows = append(t.rows, []cell{enum("mos_bajo", "Contestadas con MOS bajo"),
		enum("mos<"+strconv.FormatFloat(report.LowMOSThreshold, 'f', -1, 64), "MOS < "+formatDecimal(report.LowMOSThreshold, 1)),
		num(o.LowMOS), txt(strings.Join(o.LowMOSIDs, " "))})
	return t
}
