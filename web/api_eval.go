package web

import (
	"net/http"

	"github.com/switchtap/switchtap/report"
)

// procedureRoutes registers the API of the month's procedure (issue 10
// §3–5) over the shared operations of procedure.go. Every logged-in role
// reaches the handlers (a receptionist too); the operations decide, by
// procRules, what each may do and see. A service left nil in Config
// leaves its routes out.
func (a *api) procedureRoutes(mux *router) {
	s := a.s
	proc := func(h http.HandlerFunc) http.Handler { return s.need(h, procRoles...) }
	if s.cfg.Evaluations != nil {
		const ev = "/api/v1/months/{month}/evaluations"
		mux.Handle("GET /api/v1/forms", proc(s.handleForms))
		mux.Handle("GET "+ev, proc(s.handleEvalList))
		mux.Handle("POST "+ev+"/{id}", proc(s.handleEvalOpen))
		mux.Handle("GET "+ev+"/{id}", proc(s.handleEvalGet))
		mux.Handle("PUT "+ev+"/{id}/draft", proc(s.handleEvalDraft))
		mux.Handle("POST "+ev+"/{id}/submit", proc(s.handleEvalSubmit))
		mux.Handle("POST "+ev+"/{id}/revise", proc(s.handleEvalRevise))
		mux.Handle("POST "+ev+"/{id}/ack", proc(s.handleEvalAck))
		mux.Handle("POST "+ev+"/{id}/resolve", proc(s.handleEvalResolve))
	}
	if s.cfg.Documents != nil {
		mux.Handle("GET /api/v1/months/{month}/tabulation", proc(s.handleTabulation))
		mux.Handle("GET /api/v1/months/{month}/report", proc(s.handleReport))
		if s.cfg.Exports != nil {
			mux.Handle("GET /api/v1/months/{month}/report/export", proc(s.handleReportExport))
		}
	}
	if s.cfg.Review != nil {
		const rv = "/api/v1/months/{month}/review"
		mux.Handle("GET "+rv, proc(s.handleReview))
		mux.Handle("PUT "+rv+"/conclusions", proc(s.handleConclusions))
		mux.Handle("POST "+rv+"/submit", proc(s.handleReviewSubmit))
		mux.Handle("POST "+rv+"/return", proc(s.handleReviewReturn))
		mux.Handle("POST "+rv+"/approve", proc(s.handleReviewApprove))
		mux.Handle("GET /api/v1/calendar", proc(s.handleCalendar))
		mux.Handle("GET /api/v1/actions", proc(s.handleActions))
		mux.Handle("POST /api/v1/months/{month}/actions", proc(s.handleActionAdd))
		mux.Handle("POST /api/v1/actions/{id}/assess", proc(s.handleActionAssess))
		mux.Handle("POST /api/v1/actions/{id}/ack", proc(s.handleActionAck))
		mux.Handle("GET /api/v1/months/{month}/follow-ups", proc(s.handleFollowUps))
	}
}

// reply answers v with code, or err.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, code int, v any, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, code, v)
}

// decodeOptional reads a JSON body into v when there is one: a POST that
// needs nothing may come without.
func decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeJSON(r, v)
}

// handleForms is GET /api/v1/forms: every form version.
func (s *Server) handleForms(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	forms, err := s.forms(p)
	s.reply(w, r, http.StatusOK, forms, err)
}

// handleEvalList is GET /api/v1/months/{month}/evaluations.
func (s *Server) handleEvalList(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	evs, err := s.evalList(r, p, r.PathValue("month"))
	s.reply(w, r, http.StatusOK, evs, err)
}

// handleEvalOpen is POST /api/v1/months/{month}/evaluations/{id}: the
// draft, created when the call had none.
func (s *Server) handleEvalOpen(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	ev, err := s.evalOpen(r, p, r.PathValue("month"), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, ev, err)
}

// handleEvalGet is GET /api/v1/months/{month}/evaluations/{id}.
func (s *Server) handleEvalGet(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	ev, err := s.evalGet(r, p, r.PathValue("month"), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, ev, err)
}

// answersRequest is the body of PUT …/draft.
type answersRequest struct {
	Answers []report.Answer `json:"answers"`
}

// handleEvalDraft is PUT /api/v1/months/{month}/evaluations/{id}/draft.
func (s *Server) handleEvalDraft(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req answersRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.evalDraft(r, p, r.PathValue("month"), r.PathValue("id"), req.Answers)
	s.reply(w, r, http.StatusOK, ev, err)
}

// handleEvalSubmit is POST /api/v1/months/{month}/evaluations/{id}/submit.
func (s *Server) handleEvalSubmit(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	ev, err := s.evalSubmit(r, p, r.PathValue("month"), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, ev, err)
}

// reviseRequest is the body of POST …/revise.
type reviseRequest struct {
	Reason  string          `json:"reason"`
	Answers []report.Answer `json:"answers"`
}

// handleEvalRevise is POST /api/v1/months/{month}/evaluations/{id}/revise.
func (s *Server) handleEvalRevise(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req reviseRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.evalRevise(r, p, r.PathValue("month"), r.PathValue("id"), req.Reason, req.Answers)
	s.reply(w, r, http.StatusOK, ev, err)
}

// ackRequest is the body of POST …/ack (none: an acknowledgement).
type ackRequest struct {
	Dispute bool   `json:"dispute"`
	Comment string `json:"comment"`
}

// handleEvalAck is POST /api/v1/months/{month}/evaluations/{id}/ack.
func (s *Server) handleEvalAck(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req ackRequest
	if err := decodeOptional(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.evalAck(r, p, r.PathValue("month"), r.PathValue("id"), req.Dispute, req.Comment)
	s.reply(w, r, http.StatusOK, ev, err)
}

// resolveRequest is the body of POST …/resolve; answers null or absent
// keeps the evaluation as it is.
type resolveRequest struct {
	Resolution string          `json:"resolution"`
	Answers    []report.Answer `json:"answers"`
}

// handleEvalResolve is POST /api/v1/months/{month}/evaluations/{id}/resolve.
func (s *Server) handleEvalResolve(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req resolveRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.evalResolve(r, p, r.PathValue("month"), r.PathValue("id"), req.Resolution, req.Answers)
	s.reply(w, r, http.StatusOK, ev, err)
}
