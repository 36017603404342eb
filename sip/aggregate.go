package sip

import (
	"slices"
	"strings"
	"time"
)

// End details the tracker sets besides status codes (Call.EndDetail).
const (
	// EndDetailTimeout: closed by the setup or idle timeout.
	EndDetailTimeout = "timeout"
	// EndDetailEvicted: closed early to make room for a new leg when
	// MaxCalls legs were open.
	EndDetailEvicted = "evicted"
)

// DefaultAggregatePeriod is how much capture time one Aggregate covers.
const DefaultAggregatePeriod = time.Minute

// maxAggregateKeys bounds the (source, reason) pairs of one period; past
// it legs are counted under AggregateOther, so spoofed sources cannot grow
// memory.
const maxAggregateKeys = 1024

// AggregateOther is the Source of the legs counted past maxAggregateKeys.
const AggregateOther = "other"

// Aggregate counts the legs of one source that never rang and ended for
// one reason, closed within one period of capture time. Such legs (an
// INVITE answered by nothing or only by 100 Trying, then a final error or
// a timeout) are what a flood is made of: they are counted here instead
// of each becoming a record (issue 9 §2). A leg that rang, was answered,
// was part of a transfer, was placed by a receptionist, or was offered to
// one by a source at a normal rate is always a record, never counted
// here: an aggregate must not hide a real call.
type Aggregate struct {
	// Period is the start of the period (UTC), a multiple of its length.
	Period time.Time `json:"period"`
	// Source is the IP address that sent the INVITEs, or AggregateOther.
	Source string `json:"source"`
	// Reason is the legs' end detail: the final status code ("486",
	// "503"), "timeout", "evicted", "cancel", "shutdown"...
	Reason string `json:"reason"`
	// Legs is how many legs; First and Last are the earliest and latest
	// invite_at among them.
	Legs  int       `json:"legs"`
	First time.Time `json:"first_invite_at"`
	Last  time.Time `json:"last_invite_at"`
	// Flood says at least one of the legs came from a flooding source.
	Flood bool `json:"flood"`
}

type aggKey struct{ source, reason string }

// aggregator sums the legs of the current period.
type aggregator struct {
	period time.Duration
	start  time.Time
	m      map[aggKey]*Aggregate
}

func (a *aggregator) add(l *leg, now time.Time) {
	if a.m == nil {
		a.m = make(map[aggKey]*Aggregate)
	}
	if len(a.m) == 0 {
		a.start = now.UTC().Truncate(a.period)
	}
	k := aggKey{source: l.src.addr.String(), reason: l.call.EndDetail}
	if k.reason == "" {
		k.reason = string(l.call.EndReason)
	}
	g := a.m[k]
	if g == nil {
		if len(a.m) >= maxAggregateKeys {
			k.source = AggregateOther
			g = a.m[k]
		}
		if g == nil {
			g = &Aggregate{Period: a.start, Source: k.source, Reason: k.reason, First: l.call.InviteAt, Last: l.call.InviteAt}
			a.m[k] = g
		}
	}
	g.Legs++
	if l.call.InviteAt.Before(g.First) {
		g.First = l.call.InviteAt
	}
	if l.call.InviteAt.After(g.Last) {
		g.Last = l.call.InviteAt
	}
	g.Flood = g.Flood || l.flood
}

// due says the period being summed has ended at now.
func (a *aggregator) due(now time.Time) bool {
	return len(a.m) > 0 && !now.Before(a.start.Add(a.period))
}

// take returns the period's aggregates, ordered by source then reason,
// and starts a new period.
func (a *aggregator) take() []Aggregate {
	out := make([]Aggregate, 0, len(a.m))
	for _, g := range a.m {
		out = append(out, *g)
	}
	clear(a.m)
	slices.SortFunc(out, func(x, y Aggregate) int {
		if c := strings.Compare(x.Source, y.Source); c != 0 {
			return c
		}
		return strings.Compare(x.Reason, y.Reason)
	})
	return out
}

// aggregable says a leg being closed is counted in an Aggregate rather
// than stored as a record.
func (t *Tracker) aggregable(l *leg) bool {
	c := &l.call
	if l.emitted != nil || c.RingingAt != nil || c.AnsweredAt != nil ||
		c.Transfer != nil || c.TransferredFrom != "" || c.ReplacesCallID != "" || c.ReInvites > 0 {
		return false
	}
	switch c.Direction {
	case DirectionOutbound, DirectionInternal:
		// Placed by a receptionist: always a record.
		return false
	case DirectionInbound:
		// Offered to a receptionist: a record unless its source floods.
		return l.flood
	}
	if l.flood {
		return true
	}
	// A leg between parties we do not watch, at a normal rate: counted
	// only when it failed on its own (a final error or a timeout, not the
	// caller giving up), and only when receptionists are configured; with
	// none, every leg is "unknown" and only the rate tells junk apart.
	if len(t.cfg.Receptionists) == 0 || l.cancelled {
		return false
	}
	return l.ended || c.EndDetail == EndDetailTimeout || c.EndDetail == EndDetailEvicted
}

// mayAggregate says an ended leg's record waits until the leg is closed,
// when aggregable decides: a leg that never rang and could still turn out
// to be a flood's (its source found flooding within the linger) is not
// stored at once. Legs placed by a receptionist, that rang, or that belong
// to a transfer are emitted at once as before.
func (t *Tracker) mayAggregate(l *leg) bool {
	c := &l.call
	if l.emitted != nil || c.RingingAt != nil || c.AnsweredAt != nil ||
		c.Transfer != nil || c.TransferredFrom != "" || c.ReplacesCallID != "" || c.ReInvites > 0 {
		return false
	}
	return c.Direction != DirectionOutbound && c.Direction != DirectionInternal
}

// aggregate counts a closed leg in the current period.
func (t *Tracker) aggregate(l *leg, now time.Time) {
	if t.aggs.due(now) {
		t.emitAggregates()
	}
	t.aggs.add(l, now)
	t.stats.Aggregated++
	l.src.aggregated++
}

// emitAggregates hands out the period's aggregates.
func (t *Tracker) emitAggregates() {
	as := t.aggs.take()
	if len(as) > 0 && t.cfg.OnAggregate != nil {
		t.cfg.OnAggregate(as)
	}
}
