package web

import "net/http"

// handleStatus is GET /api/v1/status: the daemon's StatusInfo as is.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Status())
}
