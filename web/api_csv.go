package web

import (
	"encoding/csv"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// callsCSVHeader names the columns of the calls export: Spanish for the
// people who open it in a spreadsheet, stable for the scripts that read it
// (add columns at the end, never rename).
var callsCSVHeader = []string{
	"id", "call_id", "de", "nombre_de", "a", "direccion", "recepcionista",
	"invite", "timbrando", "contestada", "finalizada",
	"resultado", "detalle_fin", "colgo",
	"timbres", "segundos_timbrando", "dentro_limite",
	"traslado_tipo", "traslado_destino", "traslado_resultado", "traslado_call_id", "trasladada_desde",
	"grabacion", "duracion_grabacion", "no_grabable",
}

// exportCallsCSV answers the filtered records as CSV, audited as
// ActionExportCalls with the filter in Detail before any row is sent. Times
// are RFC 3339 with nanoseconds in cfg.Location (exact, and the local hour
// the people expect); booleans true/false.
func (s *Server) exportCallsCSV(w http.ResponseWriter, r *http.Request, f callFilter) {
	q := r.URL.Query()
	q.Del("format")
	from, to := f.window(s.now(), s.cfg.Location)
	q.Set("from", from.Format(dateLayout))
	q.Set("to", to.AddDate(0, 0, -1).Format(dateLayout))
	p, _ := principalFrom(r.Context())
	if err := s.audit(r, p, ActionExportCalls, "", q.Encode()); err != nil {
		s.writeError(w, r, err)
		return
	}
	setAttachment(w, "text/csv; charset=utf-8", "llamadas_"+q.Get("from")+"_"+q.Get("to")+".csv")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(callsCSVHeader)
	row := make([]string, len(callsCSVHeader))
	err := s.eachCall(r.Context(), f, func(_ int, c sip.Call) error {
		return cw.Write(s.callRow(row, &c))
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		s.log.Error("calls export failed mid-answer", "err", err)
	}
}

// callRow fills row with c's columns.
func (s *Server) callRow(row []string, c *sip.Call) []string {
	tm := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(s.cfg.Location).Format(time.RFC3339Nano)
	}
	row = row[:0]
	row = append(row, csvCell(c.ID), csvCell(c.CallID), csvCell(c.From), csvCell(c.FromName), csvCell(c.To),
		string(c.Direction), csvCell(c.Operator),
		tm(&c.InviteAt), tm(c.RingingAt), tm(c.AnsweredAt), tm(c.EndedAt),
		string(c.EndReason), csvCell(c.EndDetail), csvCell(c.HangupBy),
		strconv.Itoa(c.Rings), strconv.FormatFloat(c.RingSeconds, 'f', -1, 64), strconv.FormatBool(c.WithinLimit))
	if t := c.Transfer; t != nil {
		row = append(row, csvCell(t.Kind), csvCell(t.Target), csvCell(t.Result), csvCell(t.TargetCallID))
	} else {
		row = append(row, "", "", "", "")
	}
	row = append(row, csvCell(c.TransferredFrom))
	if rec := c.Recording; rec != nil {
		row = append(row, csvCell(rec.File), strconv.FormatFloat(rec.DurationSeconds, 'f', -1, 64), csvCell(rec.NotRecordable))
	} else {
		row = append(row, "", "", "")
	}
	return row
}

// csvCell defuses a value a spreadsheet would run as a formula (OWASP "CSV
// injection"): SIP headers such as From come from the network, so a leading
// = + - @ tab or CR gets a ' in front, which spreadsheets show as text.
// "+50322..." thus stays a phone number instead of becoming 50322....
func csvCell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}

// setAttachment sets the type and a download file name.
func setAttachment(w http.ResponseWriter, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
}
