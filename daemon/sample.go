package daemon

import (
	"log/slog"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/web"
)

// newSampler returns the month's sample service over the store: calls and
// retention protection from the store itself, the samples in its "report"
// bucket, with the design of the sample.* keys (95 %, ±10 %, p = 0.5,
// floor 5, 10 reserves by default; generator pcg-v1). A
// service that cannot be built leaves the Muestra page out (nil), logged:
// capture matters more.
func newSampler(st *storage.Store, cfg config.Config, loc *time.Location, now func() time.Time, log *slog.Logger) web.Sampler {
	s, err := report.NewSampler(st, st.KV("report"), st, loc, SampleOptions(cfg), log, report.WithSamplerClock(now))
	if err != nil {
		log.Error("sample service disabled", "err", err)
		return nil
	}
	return s
}

// SampleOptions are the sample's settings from the configuration. In the
// file 0 means none (no floor, no reserves); in package report 0 means
// the default, so zeros become negatives here.
func SampleOptions(cfg config.Config) report.SampleOptions {
	none := func(n int) int {
		if n == 0 {
			return -1
		}
		return n
	}
	return report.SampleOptions{
		Confidence:  cfg.Sample.Confidence,
		Margin:      cfg.Sample.Margin,
		P:           cfg.Sample.P,
		PerOperator: cfg.Sample.PerOperator,
		Floor:       none(cfg.Sample.Floor),
		Reserves:    none(cfg.Sample.Reserves),
		KeepMonths:  cfg.Report.KeepMonths,
	}
}
