package report

import (
	"errors"
	"time"
)

// The evaluation of the sampled calls, step 02 of ETAPA 2 (issue 10 §3):
// the seven points of the Protocolo de Atención (Anexo 1 of the seed
// document, ids in DESIGN.md), each Cumple / No cumple / No aplica with an
// observation and, optionally, the moment of the recording it refers to.
// The service is Evaluator (evaluate_service.go); the tabulation of the
// submitted evaluations is Tabulate (tabulate.go).

// Point ids of the seven protocol points (DESIGN.md).
const (
	PointInmediatez = "inmediatez"
	PointSaludo     = "saludo"
	PointTono       = "tono"
	PointConcision  = "concision"
	PointPaciencia  = "paciencia"
	PointTraslado   = "traslado"
	PointAmabilidad = "amabilidad"
)

// FormAnexo1V1 is the first version of the form: the seven points of
// Anexo 1 as the seed document words them. A later form gets a new
// version; an evaluation records the version it was made with, so the
// months evaluated with an older form keep it.
const FormAnexo1V1 = "anexo1-v1"

// FormPoint is one point of a form.
type FormPoint struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// Text is the point as the protocol states it, shown on the form.
	Text string `json:"text"`
	// Auto says the verdict is the measurement (inmediatez, from the
	// rings counted on the capture): the evaluator may add an
	// observation, not change the fact.
	Auto bool `json:"auto,omitempty"`
}

// Form is a versioned evaluation form.
type Form struct {
	Version string      `json:"version"`
	Title   string      `json:"title"`
	Points  []FormPoint `json:"points"`
}

// Verdict is the answer to one point.
type Verdict string

// Verdicts. Pending is the empty answer of a draft; a submitted
// evaluation has none.
const (
	VerdictPending  Verdict = ""
	VerdictCumple   Verdict = "cumple"
	VerdictNoCumple Verdict = "no_cumple"
	VerdictNoAplica Verdict = "no_aplica"
)

// Answer is the verdict on one point.
type Answer struct {
	Point       string  `json:"point"`
	Verdict     Verdict `json:"verdict"`
	Observation string  `json:"observation,omitempty"`
	// AtSeconds is the moment of the recording the answer refers to,
	// seconds from its start.
	AtSeconds *float64 `json:"at_seconds,omitempty"`
}

// EvalStatus is where an evaluation stands.
type EvalStatus string

// Evaluation statuses: a draft saves as typed; a submitted evaluation is
// immutable and changes only by a new revision with a reason.
const (
	EvalDraft     EvalStatus = "draft"
	EvalSubmitted EvalStatus = "submitted"
)

// EvalFacts are the measured facts of the call the evaluation is about,
// copied from its record when the evaluation is opened.
type EvalFacts struct {
	InviteAt    time.Time `json:"invite_at"`
	Rings       int       `json:"rings"`
	RingSeconds float64   `json:"ring_seconds"`
	WithinLimit bool      `json:"within_limit"`
	// MaxRings is the limit the record was measured against (4).
	MaxRings int `json:"max_rings"`
	// Transfer is the transfer of the call, nil when it was not
	// transferred: kind (blind, attended, redirect), target, result.
	Transfer *TransferFacts `json:"transfer"`
	// RecordingSeconds is the length of the recording, 0 when none.
	RecordingSeconds float64 `json:"recording_seconds"`
}

// TransferFacts is what the capture saw of a transfer.
type TransferFacts struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	Result string `json:"result"`
}

// Revision is one submitted state of an evaluation: revision 1 is the
// first submission, each later one a change with its reason.
type Revision struct {
	N       int       `json:"n"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Reason  string    `json:"reason,omitempty"`
	Answers []Answer  `json:"answers"`
	// Dispute says the revision resolved the receptionist's dispute.
	Dispute bool `json:"dispute,omitempty"`
}

// AckState is the receptionist's answer to a submitted evaluation.
type AckState string

// Acknowledgement states: none yet, acknowledged, disputed (with a
// comment), resolved by the técnico or the jefe (kept as a revision when
// the answers changed).
const (
	AckNone         AckState = ""
	AckAcknowledged AckState = "acknowledged"
	AckDisputed     AckState = "disputed"
	AckResolved     AckState = "resolved"
)

// Ack is the receptionist's acknowledgement or dispute and its resolution.
type Ack struct {
	State   AckState  `json:"state"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Comment string    `json:"comment,omitempty"`
	// Revision is the revision acknowledged or disputed.
	Revision int `json:"revision"`
	// ResolvedAt, ResolvedBy and Resolution are set when a dispute is
	// resolved; Changed says the resolution made a new revision.
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	Resolution string     `json:"resolution,omitempty"`
	Changed    bool       `json:"changed,omitempty"`
}

// Evaluation is the evaluation of one sampled call, as stored: one per
// month and record id.
type Evaluation struct {
	Month string `json:"month"`
	// ID is the call record's id (the sample item's id).
	ID       string     `json:"id"`
	Operator string     `json:"operator"`
	Form     string     `json:"form"`
	Status   EvalStatus `json:"status"`
	// Answers are the current answers, one per point of the form in its
	// order: the draft's while a draft, the last revision's after.
	Answers []Answer  `json:"answers"`
	Facts   EvalFacts `json:"facts"`
	// Revision is the number of the last revision, 0 before the first
	// submission.
	Revision  int        `json:"revision"`
	Revisions []Revision `json:"revisions"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	UpdatedAt time.Time  `json:"updated_at"`
	UpdatedBy string     `json:"updated_by"`
	// Ack is the receptionist's acknowledgement or dispute, nil before.
	Ack *Ack `json:"ack"`
	// AckHistory keeps the acknowledgements of earlier revisions, which a
	// new revision superseded, oldest first.
	AckHistory []Ack `json:"ack_history,omitempty"`
}

// DraftRequest saves a draft's answers as typed. Answers may be partial:
// a point absent keeps its earlier draft answer. Inmediatez's verdict is
// the measurement's whatever the request says; its observation is kept.
type DraftRequest struct {
	Month   string
	ID      string
	By      string
	Answers []Answer
}

// ReviseRequest changes a submitted evaluation: a new revision with its
// reason (required) and the complete answers.
type ReviseRequest struct {
	Month   string
	ID      string
	By      string
	Reason  string
	Answers []Answer
}

// AckRequest is a receptionist acknowledging (Dispute false) or disputing
// (Dispute true, Comment required) the last revision of an evaluation.
// Operator is the receptionist the account belongs to: only the
// evaluation of one of their own calls can be acknowledged.
type AckRequest struct {
	Month    string
	ID       string
	By       string
	Operator string
	Dispute  bool
	Comment  string
}

// ResolveRequest resolves a dispute: Resolution (required) says why;
// Answers, when not nil, are the corrected answers, stored as a new
// revision marked as the dispute's.
type ResolveRequest struct {
	Month      string
	ID         string
	By         string
	Resolution string
	Answers    []Answer
}

// Errors of the evaluations.
var (
	// ErrNoEvaluation: the month has no evaluation of that call.
	ErrNoEvaluation = errors.New("report: no evaluation of this call")
	// ErrSubmitted: a submitted evaluation changes only by a revision.
	ErrSubmitted = errors.New("report: the evaluation is submitted; change it with a revision and a reason")
	// ErrNotSubmitted: revisions, acknowledgements and disputes need a
	// submitted evaluation.
	ErrNotSubmitted = errors.New("report: the evaluation is not submitted")
	// ErrIncomplete: a submission needs a verdict on every point.
	ErrIncomplete = errors.New("report: every point needs a verdict")
	// ErrBadAnswer: an unknown point or verdict, a point answered twice,
	// a negative moment or one past the recording's end.
	ErrBadAnswer = errors.New("report: bad answer")
	// ErrNotYours: a receptionist acting on another's call.
	ErrNotYours = errors.New("report: not one of your calls")
	// ErrNoDispute: resolving an evaluation that is not disputed.
	ErrNoDispute = errors.New("report: the evaluation is not disputed")
	// ErrLocked: the month's report is submitted or approved; evaluations
	// change only after the jefe returns it (disputes excepted).
	ErrLocked = errors.New("report: the month's report is submitted or approved")
	// ErrUnknownForm: an evaluation names a form this build does not have.
	ErrUnknownForm = errors.New("report: unknown form version")
)
