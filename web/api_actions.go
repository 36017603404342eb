package web

import (
	"net/http"

	"github.com/switchtap/switchtap/report"
)

// handleActions is GET /api/v1/actions?month=&to=&status=: a
// receptionist gets only the actions given to them or to everyone.
func (s *Server) handleActions(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	q := r.URL.Query()
	acts, err := s.actionList(r, p, report.ActionFilter{Month: q.Get("month"), To: q.Get("to"), Status: report.ActionStatus(q.Get("status"))})
	s.reply(w, r, http.StatusOK, acts, err)
}

// handleActionAdd is POST /api/v1/months/{month}/actions: 201 with the
// action.
func (s *Server) handleActionAdd(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req actionRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.actionAdd(r, p, r.PathValue("month"), req)
	s.reply(w, r, http.StatusCreated, a, err)
}

// handleActionAssess is POST /api/v1/actions/{id}/assess.
func (s *Server) handleActionAssess(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req assessRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.actionAssess(r, p, r.PathValue("id"), req)
	s.reply(w, r, http.StatusOK, a, err)
}

// handleActionAck is POST /api/v1/actions/{id}/ack.
func (s *Server) handleActionAck(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	a, err := s.actionAck(r, p, r.PathValue("id"))
	s.reply(w, r, http.StatusOK, a, err)
}

// handleFollowUps is GET /api/v1/months/{month}/follow-ups.
func (s *Server) handleFollowUps(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	fu, err := s.followUps(r, p, r.PathValue("month"))
	s.reply(w, r, http.StatusOK, fu, err)
}
