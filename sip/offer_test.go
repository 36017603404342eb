package sip

import (
	"fmt"
	"testing"
)

// TestTrackerOfferRefused: a failure to an in-dialog INVITE or UPDATE that
// carried an offer is reported once, naming whose offer it was; an
// accepted offer, an offerless re-INVITE, a failure to another request and
// the initial INVITE's failure are not.
func TestTrackerOfferRefused(t *testing.T) {
	withSDP := func(m Message, body string) Message {
		m.ContentType, m.Body = "application/sdp", []byte(body)
		return m
	}
	// respFrom is a response to a request of the other side: a response
	// to the callee's request is sent by the caller.
	respFrom := func(code int, method string, cseq uint32, toCaller bool) Message {
		m := resp("of", code, method, cseq)
		m.Branch = fmt.Sprintf("%s%d", method, cseq)
		if !toCaller {
			m.FromTag, m.ToTag = "tt", "ft"
		}
		return m
	}
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{
		{
			name: "callee's hold refused with 488",
			steps: []step{
				{5000, withSDP(req("of", "INVITE", 1, false), "hold")},
				{5050, respFrom(488, "INVITE", 1, false)},
			},
			want: []string{"media@5000 caller=false", "offer_refused@5050 caller=false"},
		},
		{
			name: "caller's UPDATE refused with 491, retransmitted",
			steps: []step{
				{5000, withSDP(req("of", "UPDATE", 2, true), "hold")},
				{5050, respFrom(491, "UPDATE", 2, true)},
				{5550, respFrom(491, "UPDATE", 2, true)},
			},
			want: []string{"media@5000 caller=true", "offer_refused@5050 caller=true"},
		},
		{
			name: "accepted offer",
			steps: []step{
				{5000, withSDP(req("of", "INVITE", 2, true), "hold")},
				{5050, withSDP(respFrom(200, "INVITE", 2, true), "held")},
				{5100, respFrom(500, "INVITE", 2, true)}, // after the 2xx: not the offer's answer
			},
			want: []string{"media@5000 caller=true", "media@5050 caller=false"},
		},
		{
			name: "offerless re-INVITE refused",
			steps: []step{
				{5000, req("of", "INVITE", 2, true)},
				{5050, respFrom(488, "INVITE", 2, true)},
			},
			want: nil,
		},
		{
			name: "failure to another request",
			steps: []step{
				{5000, withSDP(req("of", "INVITE", 2, true), "hold")},
				{5050, respFrom(481, "INFO", 3, true)},
				{5060, respFrom(488, "INVITE", 7, true)},
				{5070, respFrom(488, "INVITE", 2, false)}, // sent by the offerer itself
			},
			want: []string{"media@5000 caller=true"},
		},
		{
			name: "callee's re-INVITE numbered like the first INVITE",
			steps: []step{
				{5000, withSDP(req("of", "INVITE", 1, false), "hold")},
				{5050, respFrom(491, "INVITE", 1, false)},
			},
			want: []string{"media@5000 caller=false", "offer_refused@5050 caller=false"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			cfg := TrackerConfig{OnEvent: func(e Event) {
				if e.Kind == EventMedia || e.Kind == EventOfferRefused {
					got = append(got, fmt.Sprintf("%s@%d caller=%v", e.Kind, e.At.Sub(t0).Milliseconds(), e.FromCaller))
				}
			}}
			steps := append([]step{
				{0, inv("of", 1)},
				{1000, resp("of", 200, "INVITE", 1)},
				{1010, req("of", "ACK", 1, true)},
			}, tt.steps...)
			runSteps(t, cfg, steps, 30000)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("events\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestTrackerInitialInviteFailureIsNoRefusal: the first INVITE's failure
// ends the leg; it is not an offer refused inside a dialog.
func TestTrackerInitialInviteFailureIsNoRefusal(t *testing.T) {
	var kinds []EventKind
	cfg := TrackerConfig{OnEvent: func(e Event) { kinds = append(kinds, e.Kind) }}
	m := inv("if", 1)
	m.ContentType, m.Body = "application/sdp", []byte("offer")
	runSteps(t, cfg, []step{{0, m}, {100, resp("if", 486, "INVITE", 1)}}, 30000)
	for _, k := range kinds {
		if k == EventOfferRefused {
			t.Fatalf("events %v: the first INVITE's failure reported as a refused offer", kinds)
		}
	}
	if len(kinds) == 0 || kinds[len(kinds)-1] != EventEnded {
		t.Fatalf("events %v, want the leg ended", kinds)
	}
}
