package main

import (
	"bytes"
	"flag"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
)

var updateReport = flag.Bool("update-report", false, "rewrite testdata/report/*.golden")

// TestPrintDocumentVoice: `report show` prints the month's voice part
// (issue 13) — greeting percentiles, late and missing greetings, the
// median silence and overtalk, the receptionists' MOS p10 — for everyone
// and each receptionist in name order, a receptionist without a block
// left out; a month without the part says so. Golden text in
// testdata/report.
func TestPrintDocumentVoice(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	base := report.Document{Month: "2026-03", TimeZone: "UTC",
		Due: report.Due{DueAt: time.Date(2026, 4, 4, 6, 0, 0, 0, time.UTC)}}
	withVoice := base
	withVoice.Voice = &report.VoicePart{
		GreetingLimitSeconds: 3,
		All: report.VoiceBlock{Calls: 15, Greeting: report.Dist{N: 14, P10: f(0.8), P50: f(2.2), P90: f(5)},
			NoGreeting: 1, GreetingOverLimit: 3, GreetingOverLimitPct: f(21.43), Silence: report.Dist{N: 15, P50: f(31.25)},
			Overtalk: report.Dist{N: 15, P50: f(1.5)}, MOSReceptionist: report.Dist{N: 15, P10: f(4.29)}},
		ByOperator: map[string]*report.VoiceBlock{
			"202": {Calls: 5, Greeting: report.Dist{N: 4, P10: f(1.1), P50: f(2.6), P90: f(5)}, NoGreeting: 1,
				GreetingOverLimit: 1, GreetingOverLimitPct: f(25)},
			"201": {Calls: 10, Greeting: report.Dist{N: 10, P10: f(0.5), P50: f(2.2), P90: f(4.1)}, GreetingOverLimit: 2,
				GreetingOverLimitPct: f(20), MOSReceptionist: report.Dist{N: 10, P10: f(4.3)}},
			"203": nil,
		},
	}
	for _, tc := range []struct {
		name string
		doc  report.Document
	}{{"voice", withVoice}, {"no-voice", base}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			printDocument(&b, &tc.doc)
			matchGolden(t, "testdata/report/show-"+tc.name+".golden", b.String(), *updateReport)
		})
	}
}
