package report

import (
	"context"
	"reflect"
	"testing"

	"github.com/switchtap/switchtap/rtpquality"
	"github.com/switchtap/switchtap/sip"
)

// TestOutgoingQuality: the recorder's quality analysis decides one-way
// audio when present, the packet counts when not; MOS under 3.6 in either
// direction is "MOS bajo".
func TestOutgoingQuality(t *testing.T) {
	loc := hlLoc(t)
	at := "2026-03-09 10:00:00"
	q := func(oneWay bool, caller, callee *sip.StreamQuality) *sip.Quality {
		return &sip.Quality{Caller: caller, Callee: callee, OneWayAudio: oneWay}
	}
	specs := []hlOut{
		// Packets both ways, but the callee sent only comfort noise: the
		// analysis says one-way.
		{id: "cn", at: at, answered: true, rec: hlRec("a.wav", 500, 40)},
		// Packets both ways, analysis agrees; MOS 4.41 and 3.59: low.
		{id: "lo", at: at, answered: true, rec: hlRec("b.wav", 500, 500)},
		// Exactly the threshold is not below it.
		{id: "eq", at: at, answered: true, rec: hlRec("c.wav", 500, 500)},
		// No analysis (an older record): the counts alone, one-way.
		{id: "old", at: at, answered: true, rec: hlRec("d.wav", 500, 0)},
		// Counts one-way, analysis (impossibly) not: a direction with no
		// packet has no audio, the counts stand.
		{id: "cnt", at: at, answered: true, rec: hlRec("e.wav", 0, 500)},
		// Rebuilt after a crash (no counts) but analysed: one-way.
		{id: "reb", at: at, answered: true, rec: &sip.Recording{File: "f.wav"}},
		// No packets at all: no audio, whatever the analysis.
		{id: "none", at: at, answered: true, rec: hlRec("g.wav", 0, 0)},
		// MOS 0 is "not estimated" (not G.711): not judged.
		{id: "g729", at: at, answered: true, rec: hlRec("h.wav", 500, 500)},
	}
	quality := map[string]*sip.Quality{
		"cn":   q(true, mos(4.41), nil),
		"lo":   q(false, mos(4.41), mos(3.59)),
		"eq":   q(false, mos(3.6), mos(4.41)),
		"cnt":  q(false, nil, mos(4.41)),
		"reb":  q(true, mos(2.1), nil),
		"none": q(false, nil, nil),
		"g729": q(false, mos(0), mos(0)),
	}
	calls := hlOutCalls(t, loc, specs)
	for i := range calls {
		calls[i].Quality = quality[calls[i].CallID]
	}
	got, err := Outgoing(context.Background(), &figCalls{calls: calls}, "2026-03", FiguresOptions{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	want := OutgoingPart{Made: 8, Answered: 8, Failures: map[string]int{},
		NoAudio: 1, NoAudioIDs: []string{"r-none"},
		OneWayAudio: 4, OneWayAudioIDs: []string{"r-cn", "r-cnt", "r-old", "r-reb"},
		// cn, lo, eq, reb and g729 were judged by the analysis.
		QualityJudged: 5,
		MOSJudged:     5, LowMOS: 2, LowMOSIDs: []string{"r-lo", "r-reb"}}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Outgoing:\n got %+v\nwant %+v", *got, want)
	}
}

// TestLowMOSThreshold: the threshold is the E-model's MOS at R = 70, the
// lower edge of G.109's "medium" band, to two decimals.
func TestLowMOSThreshold(t *testing.T) {
	if m := rtpquality.MOSFromR(70); roundTo(m, 100) != LowMOSThreshold {
		t.Errorf("MOS(R = 70) = %v, LowMOSThreshold %v", m, LowMOSThreshold)
	}
}
