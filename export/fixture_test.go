package export

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
)

// The fixture is a November 2026 report built by hand, so every value the
// tests look for is written here once: two receptionists with calls and
// one without (zeros and null averages), accents and ñ in names and
// observations, two review rounds, an action of the month and a follow-up
// of October's, outgoing failures and days the tap did not run.

const (
	opAna  = "Ana Peña"
	opJose = "José Martínez"
	opRosa = "Rosa Núñez" // no calls this month
)

func fp(v float64) *float64 { return &v }

func bp(v bool) *bool { return &v }

func tp(t time.Time) *time.Time { return &t }

// sv is a local time in America/El_Salvador (UTC−6, no DST).
func sv(t testing.TB, y int, m time.Month, d, h, mi int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, m, d, h, mi, 0, 0, loc)
}

func tally(point string, cumple, noCumple, noAplica int, pct *float64, lo, hi float64) report.PointTally {
	p := report.PointTally{Point: point, Label: pointLabel(point), Evaluated: cumple + noCumple,
		Cumple: cumple, NoCumple: noCumple, NoAplica: noAplica, NoCumplePct: pct}
	if pct != nil {
		p.Wilson95 = &report.Interval{Low: lo, High: hi}
	}
	return p
}

func fixture(t testing.TB) *report.Document {
	t.Helper()
	gen := sv(t, 2026, 12, 3, 9, 4)
	d := &report.Document{
		Month:       "2026-11",
		TimeZone:    "America/El_Salvador",
		GeneratedAt: gen,
		Office:      "Oficina de Atención Ciudadana, San Miguel",
	}
	ana := &report.Inbound{Offered: 70, Answered: 60, WithinLimit: 55, Late: 5, Abandoned: 7, ShortAbandoned: 2,
		Busy: 1, Rejected: 1, ServiceLevelPct: fp(80.88), ASASeconds: fp(8.512), AnswerP50Seconds: fp(7.9),
		AnswerP90Seconds: fp(15.25), Rings: report.Rings{R1: 20, R2: 22, R3: 10, R4: 3, R5Up: 5},
		Transferred:      report.Transferred{Blind: 6, Attended: 3, Redirect: 1, Completed: 9, Failed: 1},
		TalkSecondsTotal: 7345.5, Recorded: 59}
	jose := &report.Inbound{Offered: 50, Answered: 40, WithinLimit: 33, Late: 7, Abandoned: 8, ShortAbandoned: 2,
		Busy: 1, Failed: 1, ServiceLevelPct: fp(68.75), ASASeconds: fp(11.922), AnswerP50Seconds: fp(9.4),
		AnswerP90Seconds: fp(21.0), Rings: report.Rings{R1: 10, R2: 13, R3: 5, R4: 5, R5Up: 7},
		Transferred:      report.Transferred{Blind: 4, Attended: 2, Completed: 5, Failed: 1},
		TalkSecondsTotal: 5000.178, Recorded: 39}
	f := &report.MonthFigures{
		Month: "2026-11", TimeZone: "America/El_Salvador", GeneratedAt: gen, CallsTotal: 171,
		Inbound: report.Inbound{Offered: 120, Answered: 100, WithinLimit: 88, Late: 12, Abandoned: 15,
			ShortAbandoned: 4, Busy: 2, Rejected: 1, Failed: 1, ServiceLevelPct: fp(75.86),
			ASASeconds: fp(9.873), AnswerP50Seconds: fp(8.0), AnswerP90Seconds: fp(17.5),
			Rings:            report.Rings{R1: 30, R2: 35, R3: 15, R4: 8, R5Up: 12},
			Transferred:      report.Transferred{Blind: 10, Attended: 5, Redirect: 1, Completed: 14, Failed: 2},
			TalkSecondsTotal: 12345.678, Recorded: 98},
		Outbound:   report.Outbound{Made: 40, Answered: 31, Busy: 3, Rejected: 1, Failed: 1, NoAnswer: 4},
		ByOperator: map[string]*report.Inbound{opAna: ana, opJose: jose, opRosa: {}},
		ByDay:      map[string]*report.Slot{},
		ByHour:     map[string]*report.Slot{},
	}
	// Working days carry calls, weekends none (no bar on the chart).
	for dd := 1; dd <= 30; dd++ {
		k := fmt.Sprintf("2026-11-%02d", dd)
		wd := time.Date(2026, 11, dd, 0, 0, 0, 0, time.UTC).Weekday()
		if wd == time.Saturday || wd == time.Sunday {
			f.ByDay[k] = &report.Slot{}
			continue
		}
		f.ByDay[k] = &report.Slot{Offered: 6, Answered: 5, WithinLimit: 3 + dd%3, Abandoned: 1}
	}
	for h := range 24 {
		s := &report.Slot{}
		if h >= 7 && h < 17 {
			s = &report.Slot{Offered: 12, Answered: 10, WithinLimit: 9, Abandoned: 1 + h%2}
		}
		f.ByHour[fmt.Sprintf("%02d", h)] = s
	}
	d.Figures = f

	d.Sample = &report.Sample{
		Month: "2026-11", TimeZone: "America/El_Salvador", FrameSize: 98,
		FrameHash:     "3f7a9c0d5e2b41a8b6c7d8e9f00112233445566778899aabbccddeeff0011223",
		FrameEncoding: "netstring-v1",
		Design: report.Design{Method: report.MethodCochran, Confidence: 0.95, Margin: 0.10, P: 0.5,
			Z: 1.959964, Floor: 5, Reserves: 10, Strata: "operator", Allocation: report.AllocationLargestRemainderV1},
		NCochran: 49, N: 50,
		Allocation: []report.Stratum{{Operator: opAna, Frame: 58, N: 29, Reserves: 10},
			{Operator: opJose, Frame: 40, N: 21, Reserves: 10}, {Operator: opRosa}},
		Seed: 18446744073709551557, Generator: report.GeneratorPCGv1,
		DrawnAt: sv(t, 2026, 12, 1, 8, 30), DrawnBy: "técnico",
		Items: []report.Item{
			{Rank: 1, Operator: opAna, ID: "r-0101"},
			{Rank: 2, Operator: opAna, ID: "r-0102", Replaced: true},
			{Rank: 3, Operator: opAna, ID: "r-0103"},
			{Rank: 1, Operator: opAna, ID: "r-0190", Replacement: true},
			{Rank: 1, Operator: opJose, ID: "r-0201"},
			{Rank: 2, Operator: opJose, ID: "r-0202"},
		},
		Replacements: []report.Replacement{{At: sv(t, 2026, 12, 1, 10, 0), By: "técnico",
			Reason: "grabación inaudible", Operator: opAna, OldID: "r-0102", NewID: "r-0190", ReserveRank: 1}},
		Keep: report.Keep{Reason: "muestra 2026-11", KeepMonths: 12, Until: "aprobación del informe + 12 meses"},
	}

	points := []string{report.PointInmediatez, report.PointSaludo, report.PointTono, report.PointConcision,
		report.PointPaciencia, report.PointTraslado, report.PointAmabilidad}
	answers := func(no map[string]string) []report.Answer {
		var as []report.Answer
		for _, p := range points {
			a := report.Answer{Point: p, Verdict: report.VerdictCumple}
			if obs, ok := no[p]; ok {
				a.Verdict, a.Observation, a.AtSeconds = report.VerdictNoCumple, obs, fp(3.5)
			}
			if p == report.PointTraslado {
				a.Verdict = report.VerdictNoAplica
			}
			as = append(as, a)
		}
		return as
	}
	e1 := report.Evaluation{Month: "2026-11", ID: "r-0101", Operator: opAna, Form: report.FormAnexo1V1,
		Status: report.EvalSubmitted, Revision: 2,
		Answers: answers(map[string]string{report.PointSaludo: "No dijo el nombre de la institución; la atención fue cortés."}),
		Facts: report.EvalFacts{InviteAt: sv(t, 2026, 11, 3, 9, 15), Rings: 2, RingSeconds: 7.5, WithinLimit: true, MaxRings: 4,
			RecordingSeconds: 95},
		Ack: &report.Ack{State: report.AckResolved, At: sv(t, 2026, 12, 2, 11, 0), By: "ana", Revision: 1,
			Comment: "Sí saludé, el audio se corta al inicio.", ResolvedAt: tp(sv(t, 2026, 12, 2, 15, 0)),
			ResolvedBy: "jefe", Resolution: "Se escuchó de nuevo: se mantiene.", Changed: false}}
	e2 := report.Evaluation{Month: "2026-11", ID: "r-0201", Operator: opJose, Form: report.FormAnexo1V1,
		Status: report.EvalSubmitted, Revision: 1,
		Answers: answers(map[string]string{report.PointInmediatez: "Contestó al sexto timbre.", report.PointAmabilidad: "No se despidió."}),
		Facts:   report.EvalFacts{InviteAt: sv(t, 2026, 11, 20, 14, 40), Rings: 6, RingSeconds: 27, MaxRings: 4, RecordingSeconds: 120},
		Ack:     &report.Ack{State: report.AckAcknowledged, At: sv(t, 2026, 12, 2, 9, 0), By: "jose", Revision: 1}}
	e3 := report.Evaluation{Month: "2026-11", ID: "r-0103", Operator: opAna, Form: report.FormAnexo1V1,
		Status: report.EvalDraft,
		Answers: []report.Answer{{Point: report.PointInmediatez, Verdict: report.VerdictCumple},
			{Point: report.PointSaludo, Verdict: report.VerdictPending}},
		Facts: report.EvalFacts{InviteAt: sv(t, 2026, 11, 25, 8, 5), Rings: 1, MaxRings: 4}}
	d.Evaluations = []report.Evaluation{e1, e2, e3}

	d.Tabulation = &report.Tabulation{
		Month: "2026-11", Form: report.FormAnexo1V1, Sampled: 5, Submitted: 2, Drafts: 1, Pending: 2,
		Points: []report.PointTally{
			tally(report.PointInmediatez, 1, 1, 0, fp(50), 9.45, 90.55),
			tally(report.PointSaludo, 1, 1, 0, fp(50), 9.45, 90.55),
			tally(report.PointTono, 2, 0, 0, fp(0), 0, 65.76),
			tally(report.PointConcision, 2, 0, 0, fp(0), 0, 65.76),
			tally(report.PointPaciencia, 2, 0, 0, fp(0), 0, 65.76),
			tally(report.PointTraslado, 0, 0, 2, nil, 0, 0),
			tally(report.PointAmabilidad, 1, 1, 0, fp(50), 9.45, 90.55),
		},
		ByOperator: map[string][]report.PointTally{
			opAna:  {tally(report.PointSaludo, 0, 1, 0, fp(100), 20.65, 100)},
			opJose: {tally(report.PointInmediatez, 0, 1, 0, fp(100), 20.65, 100)},
			opRosa: {tally(report.PointSaludo, 0, 0, 0, nil, 0, 0)},
		},
		WithNonCompliance: 2,
		InmediatezAll:     tally(report.PointInmediatez, 88, 15, 12, fp(14.56), 9.05, 22.6),
		InmediatezAllByOperator: map[string]report.PointTally{
			opAna:  tally(report.PointInmediatez, 55, 6, 6, fp(9.84), 4.59, 19.85),
			opJose: tally(report.PointInmediatez, 33, 9, 6, fp(21.43), 11.71, 35.94),
			opRosa: tally(report.PointInmediatez, 0, 0, 0, nil, 0, 0),
		},
		Acknowledged: 1, Disputed: 1, Changed: 1,
		Observations: []report.Observation{
			{ID: "r-0101", Operator: opAna, Point: report.PointSaludo, Verdict: report.VerdictNoCumple,
				Text: "No dijo el nombre de la institución; la atención fue cortés.", AtSeconds: fp(3.5), InviteLocal: "03/11/2026 09:15"},
			{ID: "r-0201", Operator: opJose, Point: report.PointAmabilidad, Verdict: report.VerdictNoCumple,
				Text: "No se despidió.", InviteLocal: "20/11/2026 14:40"},
		},
	}

	r1sub, r1ret := sv(t, 2026, 12, 2, 8, 0), sv(t, 2026, 12, 2, 10, 30)
	r2sub, r2app := sv(t, 2026, 12, 3, 7, 45), sv(t, 2026, 12, 3, 8, 50)
	d.Review = report.Review{Month: "2026-11", State: report.ReviewApproved,
		Conclusions: "La atención mejoró respecto de octubre; persisten abandonos en la hora del almuerzo.",
		Rounds: []report.Round{
			{N: 1, SubmittedAt: r1sub, SubmittedBy: "técnico", Conclusions: "Atención adecuada.",
				ReturnedAt: &r1ret, ReturnedBy: "jefe", Observations: "Falta la conclusión sobre los abandonos."},
			{N: 2, SubmittedAt: r2sub, SubmittedBy: "técnico",
				Conclusions: "La atención mejoró respecto de octubre; persisten abandonos en la hora del almuerzo.",
				ApprovedAt:  &r2app, ApprovedBy: "jefe"},
		},
		History: []report.Event{
			{At: r1sub, By: "técnico", Action: report.EventSubmitted, Detail: "ronda 1"},
			{At: r1ret, By: "jefe", Action: report.EventReturned, Detail: "Falta la conclusión sobre los abandonos."},
			{At: r2sub, By: "técnico", Action: report.EventSubmitted, Detail: "ronda 2"},
			{At: r2app, By: "jefe", Action: report.EventApproved, Detail: "ronda 2"},
			{At: sv(t, 2026, 12, 3, 9, 0), By: "jefe", Action: report.EventActionAdded, Detail: "a-2026-11-1"},
		},
		DueAt: sv(t, 2026, 12, 3, 23, 59), ApprovedAt: &r2app, UpdatedAt: r2app, UpdatedBy: "jefe"}
	d.Due = report.Due{Month: "2026-11", State: report.ReviewApproved, DueAt: sv(t, 2026, 12, 3, 23, 59), SubmittedAt: &r1sub}

	d.Actions = []report.Action{{ID: "a-2026-11-1", Month: "2026-11", To: opAna,
		Instruction: "Saludar con el nombre de la institución y el propio en cada llamada.",
		Indicator:   report.Indicator{Kind: report.IndicatorPointNoCumplePct, Point: report.PointSaludo, Operator: opAna},
		DueDate:     "2026-12-31", Status: report.ActionOpen, CreatedAt: sv(t, 2026, 12, 3, 9, 0), CreatedBy: "jefe",
		Baseline: fp(100)}}
	d.FollowUps = []report.FollowUp{{Action: report.Action{ID: "a-2026-10-1", Month: "2026-10", To: report.ToEveryone,
		Instruction: "Contestar antes del quinto timbre; cubrir la hora del almuerzo.",
		Indicator:   report.Indicator{Kind: report.IndicatorServiceLevelPct}, DueDate: "2026-11-30",
		Status: report.ActionEffective, CreatedAt: sv(t, 2026, 11, 4, 9, 0), CreatedBy: "jefe", Baseline: fp(70.5),
		Assessments: []report.Assessment{{At: r2app, By: "jefe", Month: "2026-11", Status: report.ActionEffective,
			Comment: "Subió el nivel de servicio.", Value: fp(75.86)}}},
		Before: fp(70.5), After: fp(75.86), Delta: fp(5.36), Improved: bp(true)}}

	d.Outgoing = &report.OutgoingPart{Made: 40, Answered: 31, Failures: map[string]int{"486": 3, "503": 2, "cancel": 4},
		NoAudio: 1, OneWayAudio: 2, NotRecorded: 1, NoAudioIDs: []string{"r-0301"}, OneWayAudioIDs: []string{"r-0302", "r-0303"},
		QualityJudged: 25, MOSJudged: 24, LowMOS: 2, LowMOSIDs: []string{"r-0304", "r-0305"}}

	// The voice part: Ana and José with analysed calls, Rosa none (zeros
	// and dashes).
	dist := func(n int, p10, p50, p90 float64) report.Dist {
		return report.Dist{N: n, P10: fp(p10), P50: fp(p50), P90: fp(p90)}
	}
	vAna := &report.VoiceBlock{Calls: 58, Greeting: dist(57, 0.62, 1.84, 3.42), NoGreeting: 1,
		GreetingOverLimit: 7, GreetingOverLimitPct: fp(12.28),
		TalkCaller: dist(58, 18.2, 38.5, 55.1), TalkReceptionist: dist(58, 22.4, 41.25, 60.3),
		Silence: dist(58, 5.5, 14.75, 30.2), Overtalk: dist(58, 0, 2.1, 6.66),
		MOSCaller: dist(58, 3.91, 4.38, 4.41), MOSReceptionist: dist(57, 3.55, 4.36, 4.41)}
	vJose := &report.VoiceBlock{Calls: 38, Greeting: dist(38, 0.9, 2.65, 4.9),
		GreetingOverLimit: 11, GreetingOverLimitPct: fp(28.95),
		TalkCaller: dist(38, 15, 35, 52), TalkReceptionist: dist(38, 20, 40, 58),
		Silence: dist(38, 8, 18.5, 35), Overtalk: dist(38, 0.5, 3, 8.25),
		MOSCaller: dist(38, 4.02, 4.39, 4.41), MOSReceptionist: dist(38, 4.1, 4.4, 4.41)}
	d.Voice = &report.VoicePart{GreetingLimitSeconds: 3,
		All: report.VoiceBlock{Calls: 96, Greeting: dist(95, 0.7, 2.05, 4.1), NoGreeting: 1,
			GreetingOverLimit: 18, GreetingOverLimitPct: fp(18.95),
			TalkCaller: dist(96, 16.5, 37.2, 54), TalkReceptionist: dist(96, 21, 40.8, 59.5),
			Silence: dist(96, 6, 16.1, 33), Overtalk: dist(96, 0, 2.5, 7.4),
			MOSCaller: dist(96, 3.95, 4.38, 4.41), MOSReceptionist: dist(95, 3.6, 4.37, 4.41)},
		ByOperator: map[string]*report.VoiceBlock{opAna: vAna, opJose: vJose, opRosa: {}}}

	h := &report.HealthPart{Days: 30, DaysRecorded: 28, DaysWithoutSIP: []string{"2026-11-15"},
		DaysNotRunning: []string{"2026-11-08", "2026-11-09"},
		KernelDrops:    12, StoreErrors: 1, Restarts: 3, SIPMessages: 52000, Packets: 1234567}
	for dd := 1; dd <= 30; dd++ {
		k := fmt.Sprintf("2026-11-%02d", dd)
		if dd == 8 || dd == 9 {
			continue
		}
		hd := report.HealthDay{Day: k, RunningSeconds: 86400, Starts: 0, Packets: 44000, SIPMessages: 1900,
			LastSeen: sv(t, 2026, 11, dd, 23, 59)}
		if dd == 15 {
			hd.SIPMessages = 0
		}
		if dd == 10 {
			g := report.Gap{From: sv(t, 2026, 11, 10, 0, 0), To: sv(t, 2026, 11, 10, 1, 30), Seconds: 5400}
			hd.Gaps, hd.Starts, hd.RunningSeconds, hd.KernelDrops = []report.Gap{g}, 1, 81000, 12
			h.CaptureGaps = append(h.CaptureGaps, g)
		}
		if dd == 21 {
			g := report.Gap{From: sv(t, 2026, 11, 21, 14, 0), To: sv(t, 2026, 11, 21, 14, 5), Seconds: 300}
			hd.Gaps, hd.Starts, hd.RunningSeconds, hd.StoreErrors = []report.Gap{g}, 2, 86100, 1
			h.CaptureGaps = append(h.CaptureGaps, g)
		}
		h.ByDay = append(h.ByDay, hd)
	}
	h.GapSeconds = 5700
	d.Health = h
	return d
}
