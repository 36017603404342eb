package web

import (
	"net/http"
	"strconv"
)

// handleReview is GET /api/v1/months/{month}/review.
func (s *Server) handleReview(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	rv, err := s.reviewGet(r, p, r.PathValue("month"))
	s.reply(w, r, http.StatusOK, rv, err)
}

// conclusionsRequest is the body of PUT …/review/conclusions.
type conclusionsRequest struct {
	Conclusions string `json:"conclusions"`
}

// handleConclusions is PUT /api/v1/months/{month}/review/conclusions.
func (s *Server) handleConclusions(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req conclusionsRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	rv, err := s.reviewConclusions(r, p, r.PathValue("month"), req.Conclusions)
	s.reply(w, r, http.StatusOK, rv, err)
}

// handleReviewSubmit is POST /api/v1/months/{month}/review/submit.
func (s *Server) handleReviewSubmit(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	rv, err := s.reviewSubmit(r, p, r.PathValue("month"))
	s.reply(w, r, http.StatusOK, rv, err)
}

// returnRequest is the body of POST …/review/return.
type returnRequest struct {
	Observations string `json:"observations"`
}

// handleReviewReturn is POST /api/v1/months/{month}/review/return.
func (s *Server) handleReviewReturn(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req returnRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	rv, err := s.reviewReturn(r, p, r.PathValue("month"), req.Observations)
	s.reply(w, r, http.StatusOK, rv, err)
}

// handleReviewApprove is POST /api/v1/months/{month}/review/approve.
func (s *Server) handleReviewApprove(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	rv, err := s.reviewApprove(r, p, r.PathValue("month"))
	s.reply(w, r, http.StatusOK, rv, err)
}

// defaultCalendarMonths is the calendar's length when months= is not
// given.
const defaultCalendarMonths = 12

// handleCalendar is GET /api/v1/calendar?months=12.
func (s *Server) handleCalendar(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	months := defaultCalendarMonths
	if v := r.URL.Query().Get("months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1 // calendar names the bounds
		}
		months = n
	}
	due, err := s.calendar(r, p, months)
	s.reply(w, r, http.StatusOK, due, err)
}
