package report

import (
	"context"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// transferNamed is the set of Call-IDs a transfer consulted (the leg its
// Refer-To's Replaces names) or created (its target): legs that are part
// of another call, not calls of their own.
type transferNamed map[string]bool

// note learns the legs c's transfer names.
func (n transferNamed) note(c sip.Call) {
	if t := c.Transfer; t != nil {
		if t.ReplacesCallID != "" {
			n[t.ReplacesCallID] = true
		}
		if t.TargetCallID != "" {
			n[t.TargetCallID] = true
		}
	}
}

// countedLegs walks the month [from, to) and the look-behind and
// look-ahead around it (walkRange) with Figures' exclusions, and returns
// what pick keeps of every leg that counts as a call of the month: its
// INVITE in the month, not derived by a transfer (transferred_from,
// replaces_call_id), not named by a transfer (learnt over the whole walk,
// so it is known only at its end), and kept by pick. The outgoing calls,
// the inmediatez census and the voice part all count this way.
func countedLegs[T any](ctx context.Context, calls Calls, from, to time.Time, pick func(sip.Call) (T, bool)) ([]T, error) {
	type kept struct {
		callID string
		v      T
	}
	var legs []kept
	named := transferNamed{}
	wfrom, wto := walkRange(from, to)
	err := calls.Calls(ctx, wfrom, wto, func(c sip.Call) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		named.note(c)
		inMonth := !c.InviteAt.Before(from) && c.InviteAt.Before(to)
		derived := c.TransferredFrom != "" || c.ReplacesCallID != ""
		if !inMonth || derived {
			return nil
		}
		if v, ok := pick(c); ok {
			legs = append(legs, kept{c.CallID, v})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(legs))
	for _, l := range legs {
		if !named[l.callID] {
			out = append(out, l.v)
		}
	}
	return out, nil
}
