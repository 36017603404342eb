package daemon

import (
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/web"
)

// newFigures returns the month's figures over the store for the web
// layer (issue 10 §1): times in the configured zone, every configured
// receptionist present, short abandons up to report.short_abandon.
func newFigures(st *storage.Store, cfg config.Config, loc *time.Location, now func() time.Time) web.MonthFigures {
	return report.NewFiguresService(storeCalls{st}, report.FiguresOptions{
		Location:      loc,
		Receptionists: operatorNames(cfg),
		ShortAbandon:  cfg.Report.ShortAbandon,
		GreetingLimit: cfg.Report.GreetingLimit,
		Now:           now,
	})
}
