package tap

import (
	"slices"
	"strings"

	"github.com/switchtap/switchtap/sip"
)

// Collector keeps the latest version of every record emitted (records are
// upserts by ID) for callers that want them all at the end, such as replay.
type Collector struct {
	byID map[string]int
	list []sip.Call
	aggs []sip.Aggregate
}

// AddAggregates keeps the aggregates of a period (use with WithAggregates).
func (c *Collector) AddAggregates(as []sip.Aggregate) {
	c.aggs = append(c.aggs, as...)
}

// Aggregates returns the aggregates kept, in the order they came (by
// period, then source and reason).
func (c *Collector) Aggregates() []sip.Aggregate {
	return slices.Clone(c.aggs)
}

// Add stores c, replacing an earlier record with the same ID. The SIP
// messages are not kept: replay prints records, not ladders, and a month's
// capture would hold them all in memory.
func (c *Collector) Add(call sip.Call) {
	call.Messages = nil
	if c.byID == nil {
		c.byID = make(map[string]int)
	}
	if i, ok := c.byID[call.ID]; ok {
		c.list[i] = call
		return
	}
	c.byID[call.ID] = len(c.list)
	c.list = append(c.list, call)
}

// Calls returns the records ordered by invite_at, then Call-ID
// (DESIGN.md, replay --json).
func (c *Collector) Calls() []sip.Call {
	out := slices.Clone(c.list)
	slices.SortStableFunc(out, func(a, b sip.Call) int {
		if d := a.InviteAt.Compare(b.InviteAt); d != 0 {
			return d
		}
		return strings.Compare(a.CallID, b.CallID)
	})
	return out
}
