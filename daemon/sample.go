package daemon

import (
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/report"
)

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
