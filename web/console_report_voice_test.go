package web

import (
	"strings"
	"testing"

	"github.com/switchtap/switchtap/report"
)

// TestConsoleReportVoice: the Informe page shows the month's voice part
// (issue 13: greeting latency per receptionist, silence and overtalk,
// MOS), a row for everyone and one per receptionist, numbers in es-SV; a
// month without it says so.
func TestConsoleReportVoice(t *testing.T) {
	e := newCPEnv(t)
	doc := e.reportPage(t, "admin", procMonth)
	if find(doc, byID("voice-empty")) == nil || find(doc, byID("voice-table")) != nil {
		t.Fatal("a month without voice figures must say so and show no table")
	}
	f := func(v float64) *float64 { return &v }
	e.docs.voice = &report.VoicePart{
		GreetingLimitSeconds: 3,
		All: report.VoiceBlock{Calls: 15, Greeting: report.Dist{N: 14, P10: f(0.8), P50: f(2.2), P90: f(5)},
			NoGreeting: 1, GreetingOverLimit: 3, Silence: report.Dist{N: 15, P50: f(31.25)},
			Overtalk: report.Dist{N: 15, P50: f(1.5)}, MOSReceptionist: report.Dist{N: 15, P10: f(4.29)}},
		ByOperator: map[string]*report.VoiceBlock{
			"201": {Calls: 10, Greeting: report.Dist{N: 10, P10: f(0.5), P50: f(2.2), P90: f(4.1)}, GreetingOverLimit: 2},
			"202": nil,
		},
	}
	doc = e.reportPage(t, "admin", procMonth)
	table := find(doc, byID("voice-table"))
	if table == nil {
		t.Fatal("no voice table")
	}
	all := find(table, tag("tr", "data-operator", ""))
	for _, want := range []string{"Todas", "15", "0,80", "2,20", "5,00", "31,25", "1,50", "4,29"} {
		if !strings.Contains(textOf(all), want) {
			t.Errorf("row Todas %q lacks %q", textOf(all), want)
		}
	}
	op := find(table, tag("tr", "data-operator", "201"))
	if op == nil || !strings.Contains(textOf(op), "4,10") {
		t.Errorf("row 201 %q", textOf(op))
	}
	if find(table, tag("tr", "data-operator", "202")) != nil {
		t.Error("a receptionist without a block got a row")
	}
}
