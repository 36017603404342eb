package report

import "time"

// Document is the month's report as handed to the jefe and exported (issue
// 10 §4, §6): the figures, the sample design, the tabulation with its
// observations, the técnico's conclusions, the outgoing calls and the
// tap's health, the corrective actions and their follow-up, and the
// review history. It is computed when asked (BuildDocument); the parts that
// are stored (sample, evaluations, review, actions) are read, the figures
// recomputed from the records.
type Document struct {
	Month       string    `json:"month"`
	TimeZone    string    `json:"time_zone"`
	GeneratedAt time.Time `json:"generated_at"`
	// Office is the box's configured name of the place, "" when none.
	Office string `json:"office,omitempty"`

	Figures *MonthFigures `json:"figures"`
	// Sample is the month's sample (design, frame size and hash, n,
	// allocation, seed, generator), nil when none was drawn.
	Sample      *Sample       `json:"sample"`
	Tabulation  *Tabulation   `json:"tabulation"`
	Evaluations []Evaluation  `json:"evaluations"`
	Review      Review        `json:"review"`
	Outgoing    *OutgoingPart `json:"outgoing"`
	Health      *HealthPart   `json:"health"`
	// Voice is what the recordings of the answered inbound calls show
	// (issue 13: greeting latency, talk and silence, MOS), per
	// receptionist.
	Voice *VoicePart `json:"voice"`
	// Actions are the corrective actions recorded on this month's report;
	// FollowUps the actions of earlier months still open (or judged in
	// this month), with their indicator before and after.
	Actions   []Action   `json:"actions"`
	FollowUps []FollowUp `json:"follow_ups"`
	// Due is this month's place in the calendar.
	Due Due `json:"due"`
}

// OutgoingPart is lineamiento 6a: "en las llamadas salientes mensualmente
// se verificaría el buen funcionamiento del sistema".
type OutgoingPart struct {
	Made     int `json:"made"`
	Answered int `json:"answered"`
	// Failures counts the legs that ended without an answer by their final
	// status code ("486", "503"…) or end detail ("cancel", "timeout").
	Failures map[string]int `json:"failures"`
	// NoAudio counts answered calls with no RTP packet in either
	// direction; OneWay those with packets in one direction only (from
	// the recorder's per-direction counts). NotRecorded counts answered
	// calls with no recording at all. Each lists its record ids too.
	NoAudio        int      `json:"no_audio"`
	OneWayAudio    int      `json:"one_way_audio"`
	NotRecorded    int      `json:"not_recorded"`
	NoAudioIDs     []string `json:"no_audio_ids"`
	OneWayAudioIDs []string `json:"one_way_audio_ids"`
	// QualityJudged counts the answered calls whose one-way audio was
	// judged from the recorder's audio analysis (record key quality:
	// G.711 packets, comfort noise and events not counted as audio)
	// rather than from the raw packet counts.
	QualityJudged int `json:"quality_judged"`
	// LowMOS counts the answered calls with an E-model MOS estimate
	// below LowMOSThreshold in either direction, LowMOSIDs their record
	// ids (absent when none); MOSJudged the answered calls with an
	// estimate in at least one direction.
	MOSJudged int      `json:"mos_judged"`
	LowMOS    int      `json:"low_mos"`
	LowMOSIDs []string `json:"low_mos_ids,omitempty"`
}

// HealthPart is the tap's own health over the month, from the daily
// health records the daemon keeps (HealthDay).
type HealthPart struct {
	// Days is the month's days so far (up to today for the current
	// month); DaysRecorded those the daemon ran on; DaysWithoutSIP those
	// it ran on and saw no SIP message.
	Days           int      `json:"days"`
	DaysRecorded   int      `json:"days_recorded"`
	DaysWithoutSIP []string `json:"days_without_sip"`
	DaysNotRunning []string `json:"days_not_running"`
	// CaptureGaps are the spans of the month, longer than a minute, when
	// the tap was not capturing (daemon stopped or crashed, capture source
	// down), from the daemon's heartbeats; GapSeconds their total.
	CaptureGaps []Gap   `json:"capture_gaps"`
	GapSeconds  float64 `json:"gap_seconds"`
	// KernelDrops, StoreErrors, DroppedRecords and Restarts are summed
	// over the month.
	KernelDrops    uint64 `json:"kernel_drops"`
	StoreErrors    uint64 `json:"store_errors"`
	DroppedRecords uint64 `json:"dropped_records"`
	Restarts       int    `json:"restarts"`
	SIPMessages    uint64 `json:"sip_messages"`
	Packets        uint64 `json:"packets"`
	// ByDay are the daily records themselves.
	ByDay []HealthDay `json:"by_day"`
}

// Gap is a span with no capture.
type Gap struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Seconds float64   `json:"seconds"`
}

// HealthDay is the daemon's record of one local day: what it captured and
// what went wrong, as deltas of its counters over the day. The daemon adds
// to it while it runs; a day it never ran has no record.
type HealthDay struct {
	Day string `json:"day"` // YYYY-MM-DD, local
	// RunningSeconds is how long the daemon captured that day; Starts how
	// many times it started.
	RunningSeconds float64 `json:"running_seconds"`
	Starts         int     `json:"starts"`
	Packets        uint64  `json:"packets"`
	SIPMessages    uint64  `json:"sip_messages"`
	KernelDrops    uint64  `json:"kernel_drops"`
	StoreErrors    uint64  `json:"store_errors"`
	DroppedRecords uint64  `json:"dropped_records"`
	// Gaps are the day's capture gaps (see HealthPart.CaptureGaps),
	// recorded by the next start or by the capture source's recovery.
	Gaps []Gap `json:"gaps"`
	// LastSeen is the daemon's last heartbeat of the day (every minute).
	LastSeen time.Time `json:"last_seen"`
}
