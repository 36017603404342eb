package web

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Bounds of the hub.
const (
	// maxLiveCalls bounds the set of calls offered or ringing: a flood of
	// INVITEs must not grow it without limit. Calls beyond it are still
	// published as they come, only not kept for snapshots and rings.
	maxLiveCalls = 10000
	// subscriberBuffer is each subscriber's queue; one that falls this far
	// behind is dropped.
	subscriberBuffer = 256
)

// Kinds of live events (the SSE event names).
const (
	LiveKindOffered  = "offered"
	LiveKindRinging  = "ringing"
	LiveKindRings    = "rings"
	LiveKindAnswered = "answered"
	LiveKindEnded    = "ended"
	LiveKindLamp     = "lamp"
)

// LiveCall is a call as the live page shows it.
type LiveCall struct {
	ID        string        `json:"id"`
	CallID    string        `json:"call_id"`
	From      string        `json:"from"`
	To        string        `json:"to"`
	Operator  string        `json:"operator"`
	Direction sip.Direction `json:"direction"`
	// At is the capture time of the event (of the INVITE in a snapshot).
	At time.Time `json:"at"`
	// RingingAt is nil until the call rings; it points to a value never
	// changed after the event is made.
	RingingAt   *time.Time    `json:"ringing_at"`
	Rings       int           `json:"rings"`
	WithinLimit bool          `json:"within_limit"`
	EndReason   sip.EndReason `json:"end_reason"`
}

// LiveLamp is the status lamp and the four-ring alarm.
type LiveLamp struct {
	Lamp  string `json:"lamp"`
	Alarm string `json:"alarm"`
}

// LiveEvent is one event sent to subscribers: Call for the call kinds,
// Lamp for LiveKindLamp.
type LiveEvent struct {
	Kind string
	Call LiveCall
	Lamp LiveLamp
}

// LiveSnapshot is the state a new subscriber starts from: the calls offered
// or ringing now (rings 0 and ringing_at null for one not yet ringing), in
// INVITE order, and the lamp.
type LiveSnapshot struct {
	Ringing []LiveCall `json:"ringing"`
	Lamp    string     `json:"lamp"`
	Alarm   string     `json:"alarm"`
}

// liveEntry is a call of the ringing set.
type liveEntry struct {
	call LiveCall
	// next is the capture time (Unix ns) at which the ring count grows,
	// noRing while the call does not ring.
	next int64
	// idx is the entry's place in Hub.list.
	idx int
}

// noRing is the next ring of a call that does not ring.
const noRing = math.MaxInt64

// subscriber is one /api/v1/live client.
type subscriber struct {
	ch chan LiveEvent
}

// Hub fans the capture's live events out to /api/v1/live clients. It
// publishes every leg (inbound, outbound, internal, transfer legs): the
// record tells the console what each is, and the hub decides nothing.
//
// The daemon feeds it from the capture pipeline under the pipeline's lock,
// so Event, Advance and SetLamp never block and never wait for a client: a
// subscriber whose buffer is full is dropped (its channel closed).
type Hub struct {
	ring sip.RingPolicy
	now  func() time.Time

	mu    sync.Mutex
	calls map[string]*liveEntry
	// list holds the same entries as calls, for a sweep that does not
	// iterate a map.
	list []*liveEntry
	// next is the earliest time (Unix ns) a ringing call's count grows,
	// so Advance costs one comparison until then.
	next     int64
	subs     map[*subscriber]struct{}
	lamp     LiveLamp
	dropped  uint64
	overflow uint64
}

// NewHub returns a hub counting rings with ring; now is the wall clock
// (kept for the daemon's use, the capture clock comes with each event).
func NewHub(ring sip.RingPolicy, now func() time.Time) *Hub {
	if now == nil {
		now = time.Now
	}
	return &Hub{
		ring:  ring,
		now:   now,
		calls: make(map[string]*liveEntry),
		subs:  make(map[*subscriber]struct{}),
		lamp:  LiveLamp{Lamp: "ok", Alarm: "off"},
		next:  noRing,
	}
}

// Event publishes a leg's change (offered, ringing, answered, ended; other
// kinds are ignored). It copies what it needs: e.Call is shared.
func (h *Hub) Event(e sip.Event) {
	if e.Call == nil {
		return
	}
	var kind string
	switch e.Kind {
	case sip.EventOffered:
		kind = LiveKindOffered
	case sip.EventRinging:
		kind = LiveKindRinging
	case sip.EventAnswered:
		kind = LiveKindAnswered
	case sip.EventEnded:
		kind = LiveKindEnded
	default:
		return
	}
	c := e.Call
	h.mu.Lock()
	defer h.mu.Unlock()
	ent := h.calls[c.ID]
	lc := LiveCall{
		ID: c.ID, CallID: c.CallID, From: c.From, To: c.To, Operator: c.Operator,
		Direction: c.Direction, At: e.At, Rings: c.Rings, WithinLimit: c.WithinLimit, EndReason: c.EndReason,
	}
	if ent != nil {
		lc.RingingAt = ent.call.RingingAt
	}
	switch e.Kind {
	case sip.EventOffered:
		if ent == nil {
			if len(h.calls) >= maxLiveCalls {
				h.overflow++
			} else {
				ent = h.add(c.ID)
				ent.call = lc
				ent.call.At = c.InviteAt
			}
		}
	case sip.EventRinging:
		if c.RingingAt != nil {
			if lc.RingingAt == nil || !lc.RingingAt.Equal(*c.RingingAt) {
				t := *c.RingingAt
				lc.RingingAt = &t
			}
			d := e.At.Sub(*lc.RingingAt)
			lc.Rings = h.ring.Rings(d)
			lc.WithinLimit = h.ring.WithinLimit(d)
		}
		if ent == nil && len(h.calls) >= maxLiveCalls {
			h.overflow++
		} else if lc.RingingAt != nil {
			if ent == nil {
				ent = h.add(c.ID)
			}
			ent.call = lc
			ent.call.At = c.InviteAt
			ent.next = h.ringAt(*lc.RingingAt, lc.Rings)
			h.next = min(h.next, ent.next)
		}
	case sip.EventAnswered, sip.EventEnded:
		if c.RingingAt != nil && lc.RingingAt == nil {
			t := *c.RingingAt
			lc.RingingAt = &t
		}
		if ent != nil {
			h.remove(ent, c.ID)
		}
	}
	h.publish(LiveEvent{Kind: kind, Call: lc})
}

// add puts a new entry in the set; h.mu held.
func (h *Hub) add(id string) *liveEntry {
	ent := &liveEntry{next: noRing, idx: len(h.list)}
	h.calls[id] = ent
	h.list = append(h.list, ent)
	return ent
}

// remove takes ent out of the set; h.mu held.
func (h *Hub) remove(ent *liveEntry, id string) {
	delete(h.calls, id)
	last := h.list[len(h.list)-1]
	h.list[ent.idx], last.idx = last, ent.idx
	h.list[len(h.list)-1] = nil
	h.list = h.list[:len(h.list)-1]
}

// ringAt is when (Unix ns) ring n+1 starts for a call ringing since start.
func (h *Hub) ringAt(start time.Time, n int) int64 {
	return start.Add(time.Duration(n) * h.ring.Cycle()).UnixNano()
}

// Advance moves the capture clock: each ringing call whose ring count grew
// is published as LiveKindRings. Until the next ring of any call it costs one
// comparison; then O(ringing calls).
func (h *Hub) Advance(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ns := now.UnixNano()
	if ns < h.next {
		return
	}
	next := int64(noRing)
	for _, ent := range h.list {
		if ns >= ent.next {
			d := now.Sub(*ent.call.RingingAt)
			ent.call.Rings = h.ring.Rings(d)
			ent.call.WithinLimit = h.ring.WithinLimit(d)
			ent.next = h.ringAt(*ent.call.RingingAt, ent.call.Rings)
			ev := LiveEvent{Kind: LiveKindRings, Call: ent.call}
			ev.Call.At = now
			h.publish(ev)
		}
		next = min(next, ent.next)
	}
	h.next = next
}

// SetLamp publishes the lamp ("ok", "no_sip", "fault") and alarm ("off",
// "warning", "alarm") when either changed.
func (h *Hub) SetLamp(lamp, alarm string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := LiveLamp{Lamp: lamp, Alarm: alarm}
	if l == h.lamp {
		return
	}
	h.lamp = l
	h.publish(LiveEvent{Kind: LiveKindLamp, Lamp: l})
}

// publish hands ev to every subscriber without waiting: one whose buffer
// is full is dropped. Called with h.mu held.
func (h *Hub) publish(ev LiveEvent) {
	for sub := range h.subs {
		select {
		case sub.ch <- ev:
		default:
			delete(h.subs, sub)
			close(sub.ch)
			h.dropped++
		}
	}
}

// Subscribe returns a channel of events and the function that ends the
// subscription. The channel is closed when the subscription ends or the
// subscriber is dropped for falling behind.
func (h *Hub) Subscribe() (<-chan LiveEvent, func()) {
	sub := &subscriber{ch: make(chan LiveEvent, subscriberBuffer)}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub.ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[sub]; ok {
			delete(h.subs, sub)
			close(sub.ch)
		}
	}
}

// Snapshot returns the calls offered or ringing now and the lamp.
func (h *Hub) Snapshot() LiveSnapshot {
	h.mu.Lock()
	snap := LiveSnapshot{Ringing: make([]LiveCall, 0, len(h.calls)), Lamp: h.lamp.Lamp, Alarm: h.lamp.Alarm}
	for _, ent := range h.list {
		snap.Ringing = append(snap.Ringing, ent.call)
	}
	h.mu.Unlock()
	slices.SortFunc(snap.Ringing, func(a, b LiveCall) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return snap
}

// Dropped counts subscribers dropped for falling behind.
func (h *Hub) Dropped() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}

// Overflow counts calls not kept because the ringing set was full.
func (h *Hub) Overflow() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.overflow
}

// Subscribers returns the number of subscribers.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
