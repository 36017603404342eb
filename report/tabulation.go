package report

// The tabulation by type of non-compliance, step 02–03 of ETAPA 2 (issue
// 10 §4): per point, how many submitted evaluations answered it (No aplica
// excluded), how many did not comply, the percentage and its Wilson 95 %
// interval; overall and per receptionist. Inmediatez is also tabulated
// over every inbound call of the month, not only the sample (domain.md
// §6.2: measured on 100 % of calls). Computed by Tabulate (tabulate.go).

// Interval is a confidence interval of a percentage, both ends in percent.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// PointTally is one point's count over a set of evaluations.
type PointTally struct {
	Point string `json:"point"`
	Label string `json:"label"`
	// Evaluated counts Cumple + No cumple (No aplica is not evaluated).
	Evaluated int `json:"evaluated"`
	Cumple    int `json:"cumple"`
	NoCumple  int `json:"no_cumple"`
	NoAplica  int `json:"no_aplica"`
	// NoCumplePct is NoCumple ÷ Evaluated × 100, nil when nothing was
	// evaluated; Wilson95 its Wilson score interval (z = 1.96), nil then
	// too.
	NoCumplePct *float64  `json:"no_cumple_pct"`
	Wilson95    *Interval `json:"wilson95"`
}

// Observation is one evaluator's observation on a point, for the report.
type Observation struct {
	ID          string   `json:"id"`
	Operator    string   `json:"operator"`
	Point       string   `json:"point"`
	Verdict     Verdict  `json:"verdict"`
	Text        string   `json:"text"`
	AtSeconds   *float64 `json:"at_seconds,omitempty"`
	InviteLocal string   `json:"invite_local"`
}

// Tabulation is the month's tabulation of the submitted evaluations.
type Tabulation struct {
	Month string `json:"month"`
	Form  string `json:"form"`
	// Sampled is the number of calls in the sample (replaced ones
	// excluded), Submitted how many have a submitted evaluation, Drafts
	// how many are still drafts, Pending how many have none.
	Sampled   int `json:"sampled"`
	Submitted int `json:"submitted"`
	Drafts    int `json:"drafts"`
	Pending   int `json:"pending"`
	// Points is the overall tally, one per point of the form in its
	// order; ByOperator the same per configured receptionist (every one
	// present, zeros for one without evaluations).
	Points     []PointTally            `json:"points"`
	ByOperator map[string][]PointTally `json:"by_operator"`
	// Calls with at least one No cumple, overall.
	WithNonCompliance int `json:"with_non_compliance"`
	// InmediatezAll is inmediatez over every inbound call of the month:
	// Evaluated = answered + abandoned after the limit; NoCumple = answered
	// late + abandoned after the limit; NoAplica = abandoned within the
	// limit (the caller gave up before the receptionist could fail). Per
	// receptionist in InmediatezAllByOperator.
	InmediatezAll           PointTally            `json:"inmediatez_all"`
	InmediatezAllByOperator map[string]PointTally `json:"inmediatez_all_by_operator"`
	// Acknowledged, Disputed and Changed count the receptionists'
	// answers: evaluations acknowledged, disputed (resolved or not),
	// and changed after their first submission.
	Acknowledged int `json:"acknowledged"`
	Disputed     int `json:"disputed"`
	Unresolved   int `json:"unresolved"`
	Changed      int `json:"changed"`
	// Observations are the submitted evaluations' observations, by
	// receptionist, call and point order.
	Observations []Observation `json:"observations"`
}
