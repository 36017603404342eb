package report

import (
	"errors"
	"time"
)

// The month's report and its review, steps 03–06 of ETAPA 2 (issue 10
// §4–5): the técnico writes the conclusions and submits the report; the
// jefe returns it with observations (every round is kept) or approves it;
// on an approved report the jefe records corrective actions, and each
// later month's report follows each open action's indicator. The service
// is Reviewer (review_service.go).

// ReviewState is where a month's report stands.
type ReviewState string

// Review states. A month with nothing stored is a draft.
const (
	ReviewDraft     ReviewState = "draft"
	ReviewSubmitted ReviewState = "submitted"
	ReviewReturned  ReviewState = "returned"
	ReviewApproved  ReviewState = "approved"
)

// DueDays is how many days after the month ends the report is due
// (lineamiento 6b of the seed document: "tres días posteriores de
// finalizado el mes").
const DueDays = 3

// Round is one submission of the report and the jefe's answer to it.
type Round struct {
	N           int       `json:"n"`
	SubmittedAt time.Time `json:"submitted_at"`
	SubmittedBy string    `json:"submitted_by"`
	// Conclusions are the técnico's conclusions as submitted.
	Conclusions string `json:"conclusions"`
	// ReturnedAt, ReturnedBy and Observations are set when the jefe
	// returned this round; ApprovedAt and ApprovedBy when he approved it.
	ReturnedAt   *time.Time `json:"returned_at,omitempty"`
	ReturnedBy   string     `json:"returned_by,omitempty"`
	Observations string     `json:"observations,omitempty"`
	ApprovedAt   *time.Time `json:"approved_at,omitempty"`
	ApprovedBy   string     `json:"approved_by,omitempty"`
}

// Event is one step of the report's history, for the history view; the
// audit log has the same steps with the client's address.
type Event struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"`
	// Detail is the comment, observation, or the action's id.
	Detail string `json:"detail,omitempty"`
}

// Review is a month's report as stored: its state, the técnico's
// conclusions (the draft's while not submitted), the rounds and the
// history.
type Review struct {
	Month       string      `json:"month"`
	State       ReviewState `json:"state"`
	Conclusions string      `json:"conclusions"`
	Rounds      []Round     `json:"rounds"`
	History     []Event     `json:"history"`
	// DueAt is the end of the third day after the month ends, in the
	// configured zone.
	DueAt      time.Time  `json:"due_at"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
	// KeepUntil is when the sampled recordings' protection ends: the
	// approval plus report.keep_months months.
	KeepUntil *time.Time `json:"keep_until,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
	UpdatedBy string     `json:"updated_by"`
}

// Due is one month in the calendar of reports.
type Due struct {
	Month string      `json:"month"`
	State ReviewState `json:"state"`
	DueAt time.Time   `json:"due_at"`
	// Overdue: DueAt has passed and the report was never submitted. Once
	// submitted it is no longer overdue; SubmittedLate says the first
	// submission came at or after DueAt.
	Overdue       bool       `json:"overdue"`
	SubmittedAt   *time.Time `json:"submitted_at,omitempty"`
	SubmittedLate bool       `json:"submitted_late"`
}

// Indicator kinds a corrective action can aim to move.
const (
	// IndicatorPointNoCumplePct is a point's non-compliance % in the
	// sample (Point required; inmediatez over every call).
	IndicatorPointNoCumplePct = "point_no_cumple_pct"
	// IndicatorServiceLevelPct is the inbound service level %.
	IndicatorServiceLevelPct = "service_level_pct"
	// IndicatorAbandonedPct is abandoned ÷ offered × 100 of inbound calls.
	IndicatorAbandonedPct = "abandoned_pct"
	// IndicatorASASeconds is the mean ring time of answered calls.
	IndicatorASASeconds = "asa_seconds"
)

// Indicator is what an action should move: a kind, the point for a
// point's %, and the receptionist it is measured on ("" for everyone).
type Indicator struct {
	Kind     string `json:"kind"`
	Point    string `json:"point,omitempty"`
	Operator string `json:"operator,omitempty"`
}

// ActionStatus is where a corrective action stands.
type ActionStatus string

// Action statuses: open until the jefe marks it effective or not, or
// closes it.
const (
	ActionOpen         ActionStatus = "open"
	ActionEffective    ActionStatus = "effective"
	ActionNotEffective ActionStatus = "not_effective"
	ActionClosed       ActionStatus = "closed"
)

// ToEveryone is the To of an action given to every receptionist.
const ToEveryone = "todos"

// Action is a corrective action recorded by the jefe on an approved report
// (step 05), followed month by month (step 06).
type Action struct {
	ID string `json:"id"`
	// Month is the approved report's month it came from.
	Month string `json:"month"`
	// To is a configured receptionist or ToEveryone.
	To          string       `json:"to"`
	Instruction string       `json:"instruction"`
	Indicator   Indicator    `json:"indicator"`
	DueDate     string       `json:"due_date"` // YYYY-MM-DD, local
	Status      ActionStatus `json:"status"`
	CreatedAt   time.Time    `json:"created_at"`
	CreatedBy   string       `json:"created_by"`
	// Baseline is the indicator's value in Month, nil when it had none.
	Baseline *float64 `json:"baseline"`
	// Assessments are the jefe's judgements, in order.
	Assessments []Assessment `json:"assessments"`
	// Acknowledged lists the receptionists who read it, with when.
	Acknowledged []ActionAck `json:"acknowledged"`
}

// Assessment is the jefe marking an action effective or not, or closing
// it, in a later month's report.
type Assessment struct {
	At      time.Time    `json:"at"`
	By      string       `json:"by"`
	Month   string       `json:"month"`
	Status  ActionStatus `json:"status"`
	Comment string       `json:"comment,omitempty"`
	// Value is the indicator's value in Month when it was judged.
	Value *float64 `json:"value"`
}

// ActionAck is a receptionist acknowledging an action given to them.
type ActionAck struct {
	Operator string    `json:"operator"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// ActionRequest records a corrective action on an approved report.
type ActionRequest struct {
	Month       string
	By          string
	To          string
	Instruction string
	Indicator   Indicator
	DueDate     string
}

// AssessRequest judges an action in the report of Month (later than the
// action's): Status is effective, not_effective or closed.
type AssessRequest struct {
	ID      string
	Month   string
	By      string
	Status  ActionStatus
	Comment string
}

// FollowUp is an action as a later month's report shows it: the
// indicator before (the action's month) and after (the report's month).
type FollowUp struct {
	Action Action   `json:"action"`
	Before *float64 `json:"before"`
	After  *float64 `json:"after"`
	// Delta is After − Before, nil when either is.
	Delta *float64 `json:"delta"`
	// Improved says the indicator moved the right way (down for a %
	// of non-compliance, abandons and ASA, up for the service level).
	Improved *bool `json:"improved"`
}

// Errors of the review.
var (
	// ErrState: the step does not apply to the report's state (submit
	// an approved report, return a draft…); the error says the state.
	ErrState = errors.New("report: not possible in the report's state")
	// ErrNotApproved: actions are recorded on approved reports only.
	ErrNotApproved = errors.New("report: the month's report is not approved")
	// ErrNoAction: no action with that id.
	ErrNoAction = errors.New("report: no such corrective action")
	// ErrBadAction: an action without instruction, with an unknown
	// receptionist or indicator, or a bad due date.
	ErrBadAction = errors.New("report: bad corrective action")
	// ErrPendingEvaluations: a report is submitted only when every
	// sampled call has a submitted evaluation.
	ErrPendingEvaluations = errors.New("report: sampled calls without a submitted evaluation")
)
