package web

import (
	"fmt"
	"net/http"
	"strconv"
)

// handleReport is GET /api/v1/months/{month}/report: the whole
// report.Document.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	d, err := s.document(r, p, r.PathValue("month"))
	s.reply(w, r, http.StatusOK, d, err)
}

// handleTabulation is GET /api/v1/months/{month}/tabulation: the
// document's tabulation, 404 for a month without one (no sample).
func (s *Server) handleTabulation(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	month := r.PathValue("month")
	d, err := s.document(r, p, month)
	if err == nil && d.Tabulation == nil {
		err = fmt.Errorf("tabulation of %s: %w", month, ErrNotFound)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d.Tabulation)
}

// handleReportExport is GET
// /api/v1/months/{month}/report/export?format=xlsx|pdf|csv[&table=…]: the
// report as an attachment, audited (export_report) before it is sent.
func (s *Server) handleReportExport(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	q := r.URL.Query()
	f, err := s.reportExport(r, p, r.PathValue("month"), q.Get("format"), q.Get("table"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	setAttachment(w, f.ContentType, f.Name)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(f.Data); err != nil {
		s.log.Debug("report export: client gone", "err", err)
	}
}
