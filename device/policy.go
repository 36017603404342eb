package device

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Level is the state of one ringing call, or of the panel: the worst over
// the calls.
type Level uint8

// Levels, from quiet to loud.
const (
	// LevelIdle: nothing to show.
	LevelIdle Level = iota
	// LevelWarning: the last allowed ring has started (amber).
	LevelWarning
	// LevelAlarm: the ring limit has passed (red and buzzer).
	LevelAlarm
)

// String names the level as in the edges' "panel" field.
func (l Level) String() string {
	switch l {
	case LevelIdle:
		return "idle"
	case LevelWarning:
		return "warning"
	case LevelAlarm:
		return "alarm"
	}
	return "unknown"
}

// Edge states (Edge.State).
const (
	EdgeWarning = "warning"
	EdgeAlarm   = "alarm"
	EdgeClear   = "clear"
	// EdgeMuted: the silence button muted a call in alarm (its red lamp
	// stays). Only Mute returns it, so a replay never prints it.
	EdgeMuted = "muted"
)

// Watch says which ringing calls the alarm counts.
type Watch string

// Watch modes.
const (
	// WatchAll counts every ringing call, whatever its direction: with no
	// receptionist configured every call is "unknown", and a fresh install
	// must still alarm.
	WatchAll Watch = "all"
	// WatchReceptionists counts only calls ringing at a receptionist:
	// inbound and internal.
	WatchReceptionists Watch = "receptionists"
)

// WatchFor returns the mode for a configuration with n receptionists.
func WatchFor(n int) Watch {
	if n > 0 {
		return WatchReceptionists
	}
	return WatchAll
}

// PolicyConfig configures the alarm policy.
type PolicyConfig struct {
	// Ring gives max_rings and the ring cycle.
	Ring sip.RingPolicy
	// Watch selects the calls that count (empty means WatchAll).
	Watch Watch
	// MaxRinging is how long a call counts at most after its ringing
	// started (0 means DefaultMaxRinging).
	MaxRinging time.Duration
}

// Validate reports a policy that could never warn or alarm.
func (c PolicyConfig) Validate() error {
	if err := c.Ring.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	switch c.Watch {
	case "", WatchAll, WatchReceptionists:
	default:
		return fmt.Errorf("%w: watch %q: want all or receptionists", ErrConfig, c.Watch)
	}
	if c.MaxRinging < 0 || (c.MaxRinging > 0 && c.MaxRinging <= c.Ring.Limit()) {
		return fmt.Errorf("%w: max_ringing %s must exceed the ring limit %s", ErrConfig, c.MaxRinging, c.Ring.Limit())
	}
	return nil
}

// Edge is a change of one call's alarm state. At is the capture time of
// the change: for a threshold, exactly ringing_at + (max_rings−1)·cycle
// (warning), ringing_at + max_rings·cycle (alarm) or ringing_at +
// max_ringing (a clear by timeout); for an event, the event's time.
type Edge struct {
	At     time.Time `json:"at"`
	CallID string    `json:"call_id"`
	// State is "warning", "alarm", "clear" or "muted".
	State string `json:"state"`
	// Panel is the panel's level after the edge: "idle", "warning" or
	// "alarm".
	Panel string `json:"panel"`
	// Buzzer says the panel's buzzer sounds after the edge.
	Buzzer bool `json:"buzzer"`
	// Operator is the receptionist the call rings at, if known.
	Operator string `json:"operator,omitempty"`
	// Reason says what caused the edge: "rings", "answered", "ended",
	// "redirected", "transferred", "timeout", "ringing moved", "button".
	// Not part of the replay's JSON contract.
	Reason string `json:"-"`
}

// PanelState is what the panel should show.
type PanelState struct {
	// Level is the worst level over the counted calls.
	Level Level
	// Buzzer says some call in alarm is not muted (the driver plays the
	// on/off pattern over it).
	Buzzer bool
	// Operators holds the worst level of each receptionist with a call at
	// warning or alarm; receptionists not listed are idle.
	Operators map[string]Level
	// Ringing is the number of calls counted now.
	Ringing int
	// TimedOut is the number of calls that rang past max_ringing with no
	// end seen yet: they no longer count.
	TimedOut int
}

// ringing is one call the policy watches.
type ringing struct {
	callID   string
	operator string
	at       time.Time // ringing_at
	seq      uint64    // order of arrival, to break ties
	level    Level
	muted    bool
	timedOut bool
}

// Policy is the four-ring alarm policy. It is pure: it has no goroutines
// and no clock of its own; it is fed call events and the capture clock, and
// returns the edges they cause. It is not safe for concurrent use.
type Policy struct {
	cfg        PolicyConfig
	warnAfter  time.Duration
	alarmAfter time.Duration
	calls      map[string]*ringing
	seq        uint64
	now        time.Time // latest capture time seen
	next       time.Time // earliest pending threshold; zero when none
}

// NewPolicy returns a policy with no call ringing. Defaults fill a zero
// Watch and MaxRinging; call cfg.Validate first to reject a bad one.
func NewPolicy(cfg PolicyConfig) *Policy {
	if cfg.Watch == "" {
		cfg.Watch = WatchAll
	}
	if cfg.MaxRinging <= 0 {
		cfg.MaxRinging = DefaultMaxRinging
	}
	cycle := cfg.Ring.Cycle()
	return &Policy{
		cfg:        cfg,
		warnAfter:  time.Duration(cfg.Ring.MaxRings-1) * cycle,
		alarmAfter: time.Duration(cfg.Ring.MaxRings) * cycle,
		calls:      make(map[string]*ringing),
	}
}

// Event applies a call event. Thresholds that passed before the event's
// time are reported first, with their own times, so a call answered 18.5 s
// into ringing still shows its warning at 18 s before the clear.
func (p *Policy) Event(e sip.Event) []Edge {
	edges := p.Advance(e.At)
	c := e.Call
	if c == nil {
		return edges
	}
	r := p.calls[c.CallID]
	if r != nil {
		if reason := over(e); reason != "" {
			delete(p.calls, c.CallID)
			if r.level > LevelIdle && !r.timedOut {
				edges = append(edges, p.edge(r, e.At, EdgeClear, reason))
			}
		} else if e.Kind == sip.EventRinging && c.RingingAt != nil && !c.RingingAt.Equal(r.at) {
			edges = p.move(r, *c.RingingAt, e.At, edges)
		}
	} else if e.Kind == sip.EventRinging && c.RingingAt != nil && over(e) == "" && p.watches(c) {
		p.seq++
		p.calls[c.CallID] = &ringing{callID: c.CallID, operator: c.Operator, at: *c.RingingAt, seq: p.seq}
	}
	// A new or moved call may have thresholds due already.
	return p.run(p.now, edges)
}

// move applies a change of ringing_at (a 180 after a 183: domain.md §1.2).
// ring_seconds now counts from the new time, so the call's level is what
// the new start gives: the alarm agrees with the call record's
// within_limit.
func (p *Policy) move(r *ringing, at, now time.Time, edges []Edge) []Edge {
	r.at = at
	if r.timedOut {
		return edges
	}
	lv := LevelIdle
	switch d := p.now.Sub(at); {
	case d >= p.alarmAfter:
		lv = LevelAlarm
	case d >= p.warnAfter:
		lv = LevelWarning
	}
	if lv >= r.level {
		return edges
	}
	r.level = lv
	state := EdgeWarning
	if lv == LevelIdle {
		state = EdgeClear
	}
	return append(edges, p.edge(r, now, state, "ringing moved"))
}

// over says why the call no longer rings, or "" if it still does.
func over(e sip.Event) string {
	c := e.Call
	switch {
	case e.Kind == sip.EventAnswered || c.AnsweredAt != nil:
		return "answered"
	case c.Transfer != nil && c.Transfer.Kind == "redirect":
		return "redirected"
	case c.Transfer != nil:
		return "transferred"
	case e.Kind == sip.EventEnded || c.EndedAt != nil:
		return "ended"
	}
	return ""
}

// watches says whether the call counts under the Watch mode.
func (p *Policy) watches(c *sip.Call) bool {
	if p.cfg.Watch == WatchReceptionists {
		return c.Direction == sip.DirectionInbound || c.Direction == sip.DirectionInternal
	}
	return true
}

// Advance moves the capture clock to now and returns the edges whose
// thresholds passed, each at its exact threshold time, in time order
// (ties in the order the calls started ringing).
func (p *Policy) Advance(now time.Time) []Edge {
	if now.After(p.now) {
		p.now = now
	}
	if p.next.IsZero() || now.Before(p.next) {
		return nil
	}
	return p.run(now, nil)
}

// run fires every threshold up to now and sets the next one.
func (p *Policy) run(now time.Time, edges []Edge) []Edge {
	for {
		r, at, ok := p.earliest()
		if !ok || at.After(now) {
			p.next = at
			return edges
		}
		if r.at.Add(p.cfg.MaxRinging).Compare(at) <= 0 {
			r.timedOut = true
			if r.level > LevelIdle {
				edges = append(edges, p.edge(r, at, EdgeClear, "timeout"))
			}
			continue
		}
		r.level++
		state := EdgeWarning
		if r.level == LevelAlarm {
			state = EdgeAlarm
		}
		edges = append(edges, p.edge(r, at, state, "rings"))
	}
}

// earliest returns the call with the earliest pending threshold.
func (p *Policy) earliest() (*ringing, time.Time, bool) {
	var (
		best   *ringing
		bestAt time.Time
	)
	for _, r := range p.calls {
		at, ok := p.deadline(r)
		if !ok {
			continue
		}
		if best == nil || at.Before(bestAt) || (at.Equal(bestAt) && r.seq < best.seq) {
			best, bestAt = r, at
		}
	}
	return best, bestAt, best != nil
}

// deadline is the call's next threshold: the next level, or the end of
// max_ringing when that comes first (a tie times out).
func (p *Policy) deadline(r *ringing) (time.Time, bool) {
	if r.timedOut {
		return time.Time{}, false
	}
	timeout := r.at.Add(p.cfg.MaxRinging)
	var at time.Time
	switch r.level {
	case LevelIdle:
		at = r.at.Add(p.warnAfter)
	case LevelWarning:
		at = r.at.Add(p.alarmAfter)
	default:
		return timeout, true
	}
	if timeout.Before(at) {
		at = timeout
	}
	return at, true
}

// NextDeadline returns the capture time of the next threshold, so the
// daemon can sleep exactly until it, and false when no call is pending.
func (p *Policy) NextDeadline() (time.Time, bool) {
	return p.next, !p.next.IsZero()
}

// Mute is the silence button pressed at capture time at: the calls counted
// now stop sounding the buzzer (their lamps stay until they end); a call
// that starts ringing later is not muted. It returns an EdgeMuted for each
// call in alarm it silenced.
func (p *Policy) Mute(at time.Time) []Edge {
	edges := p.Advance(at)
	rs := make([]*ringing, 0, len(p.calls))
	for _, r := range p.calls {
		if !r.timedOut && !r.muted {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b *ringing) int { return cmp.Compare(a.seq, b.seq) })
	for _, r := range rs {
		r.muted = true
		if r.level == LevelAlarm {
			edges = append(edges, p.edge(r, at, EdgeMuted, "button"))
		}
	}
	return edges
}

// Panel returns what the panel should show now.
func (p *Policy) Panel() PanelState {
	ps := PanelState{}
	for _, r := range p.calls {
		if r.timedOut {
			ps.TimedOut++
			continue
		}
		ps.Ringing++
		ps.Level = max(ps.Level, r.level)
		if r.level == LevelAlarm && !r.muted {
			ps.Buzzer = true
		}
		if r.operator != "" && r.level > LevelIdle {
			if ps.Operators == nil {
				ps.Operators = make(map[string]Level)
			}
			ps.Operators[r.operator] = max(ps.Operators[r.operator], r.level)
		}
	}
	return ps
}

// worst returns the panel's level and buzzer, without the allocations of
// Panel.
func (p *Policy) worst() (Level, bool) {
	lv, buzz := LevelIdle, false
	for _, r := range p.calls {
		if r.timedOut {
			continue
		}
		lv = max(lv, r.level)
		buzz = buzz || (r.level == LevelAlarm && !r.muted)
	}
	return lv, buzz
}

// edge builds an edge of r with the panel as it stands after it.
func (p *Policy) edge(r *ringing, at time.Time, state, reason string) Edge {
	lv, buzz := p.worst()
	return Edge{At: at, CallID: r.callID, State: state, Panel: lv.String(), Buzzer: buzz, Operator: r.operator, Reason: reason}
}
