package report

import "time"

// Defaults of the sample design (issue 10 §2, domain.md §6.1–6.2); the
// config keys are sample.confidence, sample.margin, sample.p,
// sample.per_operator, sample.floor, sample.reserves and
// report.keep_months.
const (
	DefaultConfidence = 0.95
	DefaultMargin     = 0.10
	DefaultP          = 0.5
	DefaultFloor      = 5
	DefaultReserves   = 10
	DefaultKeepMonths = 12
)

// Sample design methods.
const (
	// MethodCochran sizes the sample by Cochran with the finite-population
	// correction and allocates it proportionally with a floor.
	MethodCochran = "cochran"
	// MethodFixed takes a fixed number of calls per receptionist.
	MethodFixed = "fixed"
)

// AllocationLargestRemainderV1 names the allocation rule recorded in a
// design; see Allocate.
const AllocationLargestRemainderV1 = "proportional-floor-largest-remainder-v1"

// SampleOptions is the configured design of the monthly sample. The zero
// value of a field means its default.
type SampleOptions struct {
	// Confidence, Margin and P feed Cochran: 0.95, 0.10, 0.5.
	Confidence float64
	Margin     float64
	P          float64
	// PerOperator, when > 0, replaces Cochran by that many calls per
	// receptionist (all of them when one has fewer).
	PerOperator int
	// Floor is the least number of calls per receptionist under
	// proportional allocation (5); one with fewer eligible calls gives all.
	// A negative value means no floor.
	Floor int
	// Reserves is the length of each receptionist's ranked reserve list
	// (10), bounded by the calls left in the stratum.
	Reserves int
	// KeepMonths is how long after the month's report is approved the
	// sampled recordings stay protected from retention (12).
	KeepMonths int
	// Generator names the draw algorithm (GeneratorPCGv1).
	Generator string
}

// withDefaults fills the zero fields.
func (o SampleOptions) withDefaults() SampleOptions {
	if o.Confidence == 0 {
		o.Confidence = DefaultConfidence
	}
	if o.Margin == 0 {
		o.Margin = DefaultMargin
	}
	if o.P == 0 {
		o.P = DefaultP
	}
	if o.Floor == 0 {
		o.Floor = DefaultFloor
	}
	if o.Floor < 0 {
		o.Floor = 0
	}
	if o.Reserves == 0 {
		o.Reserves = DefaultReserves
	}
	if o.Reserves < 0 {
		o.Reserves = 0
	}
	if o.KeepMonths == 0 {
		o.KeepMonths = DefaultKeepMonths
	}
	if o.Generator == "" {
		o.Generator = GeneratorPCGv1
	}
	return o
}

// design returns the design these options record.
func (o SampleOptions) design() Design {
	o = o.withDefaults()
	d := Design{
		Method:     MethodCochran,
		Confidence: o.Confidence,
		Margin:     o.Margin,
		P:          o.P,
		Z:          ZScore(o.Confidence),
		Floor:      o.Floor,
		Reserves:   o.Reserves,
		Strata:     "operator",
		Allocation: AllocationLargestRemainderV1,
	}
	if o.PerOperator > 0 {
		d = Design{Method: MethodFixed, PerOperator: o.PerOperator, Reserves: o.Reserves, Strata: "operator"}
	}
	return d
}

// Design is the sampling plan a sample was drawn with; with the frame and
// the seed it determines the draw (domain.md §6.3).
type Design struct {
	Method      string  `json:"method"`
	Confidence  float64 `json:"confidence,omitempty"`
	Margin      float64 `json:"margin,omitempty"`
	P           float64 `json:"p,omitempty"`
	Z           float64 `json:"z,omitempty"`
	PerOperator int     `json:"per_operator,omitempty"`
	Floor       int     `json:"floor"`
	Reserves    int     `json:"reserves"`
	Strata      string  `json:"strata"`
	Allocation  string  `json:"allocation,omitempty"`
}

// Sample is the month's random sample of calls to evaluate, as stored: one
// per month (issue 10 §2).
type Sample struct {
	Month    string `json:"month"`
	TimeZone string `json:"time_zone"`
	// FrameSize and FrameHash identify the frame: the hex SHA-256 of its
	// canonical encoding (FrameEncoding, see EncodeFrame).
	FrameSize     int    `json:"frame_size"`
	FrameHash     string `json:"frame_hash"`
	FrameEncoding string `json:"frame_encoding"`
	Design        Design `json:"design"`
	// NCochran is Cochran's size over the whole frame (0 for a fixed
	// design); N the number drawn, which floors may raise above it.
	NCochran   int       `json:"n_cochran"`
	N          int       `json:"n"`
	Allocation []Stratum `json:"allocation"`
	// Seed is a string in JSON: a 64-bit integer does not survive a
	// JavaScript number.
	Seed      uint64    `json:"seed,string"`
	Generator string    `json:"generator"`
	DrawnAt   time.Time `json:"drawn_at"`
	DrawnBy   string    `json:"drawn_by"`
	// Redraw is the reason given when this sample replaced an earlier
	// draw of the month (kept under its own key).
	Redraw string `json:"redraw_reason,omitempty"`
	// Items are the calls to evaluate, Reserves the ranked replacements,
	// both per receptionist by rank.
	Items        []Item        `json:"items"`
	Reserves     []Item        `json:"reserves"`
	Replacements []Replacement `json:"replacements"`
	// Keep records the intent for the recordings' retention: kept until
	// the month's report is approved plus KeepMonths months.
	Keep Keep `json:"keep"`
}

// Stratum is one receptionist's share of the frame and of the sample.
type Stratum struct {
	Operator string `json:"operator"`
	Frame    int    `json:"frame"`
	N        int    `json:"n"`
	Reserves int    `json:"reserves"`
}

// Item is one drawn call: its rank in its receptionist's draw (1 first).
type Item struct {
	Rank     int    `json:"rank"`
	Operator string `json:"operator"`
	ID       string `json:"id"`
	// Replaced is set on an item taken out of the sample, Replacement on
	// the reserve that took its place.
	Replaced    bool `json:"replaced,omitempty"`
	Replacement bool `json:"replacement,omitempty"`
}

// Replacement logs one reserve taking the place of a sampled call.
type Replacement struct {
	At          time.Time `json:"at"`
	By          string    `json:"by"`
	Reason      string    `json:"reason"`
	Operator    string    `json:"operator"`
	OldID       string    `json:"old_id"`
	NewID       string    `json:"new_id"`
	ReserveRank int       `json:"reserve_rank"`
}

// Keep is the retention intent of a sample's recordings.
type Keep struct {
	Reason     string `json:"reason"`
	KeepMonths int    `json:"keep_months"`
	// Until is the rule in words; the review workflow resolves it to a
	// date when the month's report is approved.
	Until string `json:"until"`
}
