package web

import (
	"slices"
	"strconv"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// maxTimelineRings bounds the rings listed one by one: a leg left ringing
// for an hour would otherwise list hundreds of identical lines.
const maxTimelineRings = 40

// timelineEvent is one line of the detail page's timeline.
type timelineEvent struct {
	// Kind is the li's data-event: invite, ringing, ring, answered,
	// transfer_requested, transfer_accepted, transfer_completed, bye, ended.
	Kind   string
	Label  string
	Detail string
	At     time.Time
	Offset string
	// Over marks a ring past the limit.
	Over bool
	// order breaks ties between events of one instant (INVITE first).
	order int
}

// buildTimeline lists the leg's facts in time order, relative to the INVITE.
// The ring starts are computed like the record's ring count (DESIGN.md,
// "rings": floor(ring_seconds / cycle) + 1, from ringing_at or invite_at).
func buildTimeline(c sip.Call, ring sip.RingPolicy) []timelineEvent {
	var ev []timelineEvent
	add := func(kind, label, detail string, at time.Time, order int) {
		ev = append(ev, timelineEvent{Kind: kind, Label: label, Detail: detail, At: at, order: order})
	}
	add("invite", "INVITE: llamada ofrecida", "de "+orDash(c.From)+" a "+orDash(c.To), c.InviteAt, 0)
	if c.RingingAt != nil {
		src := "180 Ringing"
		if c.RingSource == "183" {
			src = "183 Session Progress"
		}
		add("ringing", "Comienza a sonar", src, *c.RingingAt, 1)
	}
	base := c.InviteAt
	if c.RingingAt != nil {
		base = *c.RingingAt
	}
	rings := min(c.Rings, maxTimelineRings)
	if ring.Cycle() <= 0 {
		rings = min(rings, 1)
	}
	for k := 1; k <= rings; k++ {
		at := base.Add(time.Duration(k-1) * ring.Cycle())
		e := timelineEvent{Kind: "ring", Label: "Timbre " + strconv.Itoa(k), At: at, order: 2, Over: k > ring.MaxRings}
		if e.Over {
			e.Detail = "fuera del límite de " + strconv.Itoa(ring.MaxRings) + " timbres"
		}
		ev = append(ev, e)
	}
	if c.Rings > rings {
		at := base.Add(time.Duration(rings) * ring.Cycle())
		add("ring", "… y "+strconv.Itoa(c.Rings-rings)+" timbres más", "", at, 2)
		ev[len(ev)-1].Over = c.Rings > ring.MaxRings
	}
	if c.AnsweredAt != nil {
		detail := "tras " + formatSeconds(c.RingSeconds) + " de timbre"
		if c.Operator != "" {
			detail += ", por " + c.Operator
		}
		add("answered", "Contestada (200 OK)", detail, *c.AnsweredAt, 3)
	}
	if t := c.Transfer; t != nil {
		add("transfer_requested", "Traslado solicitado", transferKindLabel(t.Kind)+" hacia "+orDash(t.Target), t.RequestedAt, 4)
		if t.AcceptedAt != nil {
			add("transfer_accepted", "Traslado aceptado", "", *t.AcceptedAt, 5)
		}
		if t.CompletedAt != nil {
			add("transfer_completed", "Traslado completado", t.Result, *t.CompletedAt, 6)
		}
	}
	if c.ByeAt != nil && (c.EndedAt == nil || !c.ByeAt.Equal(*c.EndedAt)) {
		add("bye", "BYE", "", *c.ByeAt, 7)
	}
	if c.EndedAt != nil {
		detail := ""
		if c.HangupBy != "" {
			detail = "colgó " + hangupLabel(c.HangupBy)
		}
		if c.EndDetail != "" {
			detail = joinDetail(detail, endDetailLabel(c.EndDetail))
		}
		add("ended", "Fin: "+endReasonLabel(c.EndReason), detail, *c.EndedAt, 8)
	}
	slices.SortStableFunc(ev, func(a, b timelineEvent) int {
		if n := a.At.Compare(b.At); n != 0 {
			return n
		}
		return a.order - b.order
	})
	for i := range ev {
		ev[i].Offset = formatOffset(ev[i].At.Sub(c.InviteAt), 1)
	}
	return ev
}

func orDash(s string) string {
	if s == "" {
		return noValue
	}
	return s
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
