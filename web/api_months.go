package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/switchtap/switchtap/report"
)

// MonthFigures computes a month's service figures (package report over the
// store, behind the daemon's adapter).
type MonthFigures interface {
	// Figures returns the figures of month "YYYY-MM"; a malformed month
	// is an error wrapping report.ErrBadMonth.
	Figures(ctx context.Context, month string) (*report.MonthFigures, error)
}

// errNoFigures is a server built without Config.Figures (404: the
// feature is not there, as for a path that does not exist).
var errNoFigures = fmt.Errorf("%w: cifras del mes no disponibles", ErrNotFound)

// monthFigures asks cfg.Figures for month, mapping a malformed month to
// ErrInvalid (400) with a Spanish fact.
func (s *Server) monthFigures(ctx context.Context, month string) (*report.MonthFigures, error) {
	if s.cfg.Figures == nil {
		return nil, errNoFigures
	}
	f, err := s.cfg.Figures.Figures(ctx, month)
	switch {
	case errors.Is(err, report.ErrBadMonth):
		return nil, fmt.Errorf("%w: mes inválido %q (use AAAA-MM)", ErrInvalid, month)
	case err != nil:
		return nil, fmt.Errorf("figures of %s: %w", month, err)
	}
	return f, nil
}

// handleMonthFigures is GET /api/v1/months/{month}/figures: the month's
// figures, the JSON contract of issue 10 §1 (every logged-in role).
func (s *Server) handleMonthFigures(w http.ResponseWriter, r *http.Request) {
	f, err := s.monthFigures(r.Context(), r.PathValue("month"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}
