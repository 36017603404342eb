package pcapgen

import "time"

// Expect is what a correct tap must report for one call leg (one Call-ID)
// of a scenario. Field names and JSON names follow the call record of
// DESIGN.md. All times are capture times of the first copy of the message
// that carried the event.
type Expect struct {
	CallID   string `json:"call_id"`
	From     string `json:"from"`
	To       string `json:"to"`
	FromName string `json:"from_name"`

	InviteAt   time.Time  `json:"invite_at"`
	RingingAt  *time.Time `json:"ringing_at"`
	AnsweredAt *time.Time `json:"answered_at"`
	EndedAt    *time.Time `json:"ended_at"`

	// EndReason is completed, abandoned, busy, rejected, redirected,
	// failed or unknown.
	EndReason string `json:"end_reason"`
	// HangupBy is caller or callee for a BYE or CANCEL, empty otherwise
	// (final error responses, calls never ended).
	HangupBy string `json:"hangup_by"`

	Transfer *ExpectTransfer `json:"transfer"`

	ReplacesCallID string `json:"replaces_call_id,omitempty"`
	ReferredBy     string `json:"referred_by,omitempty"`
	// Transport is udp or tcp.
	Transport string `json:"transport"`
}

// ExpectTransfer is the transfer (REFER) or redirect (3xx) expected on a leg.
type ExpectTransfer struct {
	// Kind is blind, attended or redirect.
	Kind        string     `json:"kind"`
	RequestedAt time.Time  `json:"requested_at"`
	Target      string     `json:"target"`
	AcceptedAt  *time.Time `json:"accepted_at"`
	CompletedAt *time.Time `json:"completed_at"`
	// Result is the status code of the final NOTIFY sipfrag, e.g. "200".
	Result         string `json:"result"`
	TargetCallID   string `json:"target_call_id"`
	ReplacesCallID string `json:"replaces_call_id,omitempty"`
}

func ptr(t time.Time) *time.Time { return &t }
