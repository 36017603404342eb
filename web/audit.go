package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Viewing the audit log (GET /api/v1/audit as JSON) is not itself audited:
// the log records who heard a recording or took data out of the box, and
// reading the log is neither. Exporting it (format=csv) takes the data out,
// so it is audited as ActionExportAudit.

// maxAuditEntries bounds a JSON answer; a longer range must be exported.
const maxAuditEntries = 100000

// auditCSVHeader names the CSV columns of the audit export (stable).
var auditCSVHeader = []string{"secuencia", "fecha", "usuario", "accion", "objeto", "detalle", "origen", "hash_anterior", "hash"}

// handleAudit is GET /api/v1/audit?from=&to= (jefe, admin).
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, err := parseDateRange(q, s.cfg.Location)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	from, end := callFilter{From: from, To: to}.window(s.now(), s.cfg.Location)
	switch q.Get("format") {
	case "", "json":
		s.auditJSON(w, r, from, end)
	case "csv":
		s.auditCSV(w, r, from, end)
	default:
		s.writeError(w, r, fmt.Errorf("%w: format debe ser json o csv", ErrInvalid))
	}
}

func (s *Server) auditJSON(w http.ResponseWriter, r *http.Request, from, to time.Time) {
	entries := []AuditEntry{}
	err := s.cfg.Auth.AuditEntries(r.Context(), from, to, func(e AuditEntry) error {
		if len(entries) >= maxAuditEntries {
			return fmt.Errorf("%w: más de %d entradas: exporte en CSV o acorte el rango", ErrInvalid, maxAuditEntries)
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		s.writeError(w, r, fmt.Errorf("read audit: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, entries)
}

func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, from, to time.Time) {
	p, _ := principalFrom(r.Context())
	detail := "from=" + from.Format(dateLayout) + "&to=" + to.AddDate(0, 0, -1).Format(dateLayout)
	if err := s.audit(r, p, ActionExportAudit, "", detail); err != nil {
		s.writeError(w, r, err)
		return
	}
	setAttachment(w, "text/csv; charset=utf-8", "auditoria_"+from.Format(dateLayout)+"_"+to.AddDate(0, 0, -1).Format(dateLayout)+".csv")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(auditCSVHeader)
	err := s.cfg.Auth.AuditEntries(r.Context(), from, to, func(e AuditEntry) error {
		return cw.Write([]string{
			strconv.FormatUint(e.Seq, 10), e.At.In(s.cfg.Location).Format(time.RFC3339Nano),
			csvCell(e.Actor), e.Action, csvCell(e.Target), csvCell(e.Detail), csvCell(e.Remote), e.Prev, e.Hash,
		})
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		s.log.Error("audit export failed mid-answer", "err", err)
	}
}

// audit writes an audit entry for r's principal; a failure wraps
// errAuditUnavailable (503): an action that cannot be recorded is refused.
func (s *Server) audit(r *http.Request, p Principal, action, target, detail string) error {
	err := s.cfg.Auth.Audit(r.Context(), AuditEvent{Actor: p.Name, Action: action, Target: target, Detail: detail, Remote: remoteAddr(r)})
	if err != nil {
		s.log.Error("audit write failed", "action", action, "target", target, "err", err)
		return fmt.Errorf("%w: %s: %v", errAuditUnavailable, action, err)
	}
	return nil
}
