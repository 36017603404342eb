package report

import "context"

// FiguresService computes any month's figures over one store with fixed
// options: what the daemon hands the web layer and the command line.
type FiguresService struct {
	// Calls is the store read.
	Calls Calls
	// Options are the zone, receptionists and thresholds of every month.
	Options FiguresOptions
}

// NewFiguresService returns a service over calls; opts as for Figures.
func NewFiguresService(calls Calls, opts FiguresOptions) *FiguresService {
	return &FiguresService{Calls: calls, Options: opts}
}

// Figures computes the figures of month ("YYYY-MM").
func (s *FiguresService) Figures(ctx context.Context, month string) (*MonthFigures, error) {
	return Figures(ctx, s.Calls, month, s.Options)
}
