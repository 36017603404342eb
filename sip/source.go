package sip

import (
	"net/netip"
	"slices"
	"time"
)

// rateWindow is the window over which a source's INVITE rate is measured.
const rateWindow = time.Second

// DefaultFloodRate is the INVITE rate (new legs per second) from one
// address beyond which it is taken for a flood: a phone offers a call
// every few seconds at most, a busy PBX trunk a few per second; SIPp
// scanners and floods send hundreds to thousands (issue 9 §2).
const DefaultFloodRate = 100

// source is the per-address accounting of the INVITEs that open legs: how
// many legs it has open, its rate now, whether it floods.
type source struct {
	addr netip.Addr
	// legs is how many open legs this source's INVITEs opened, unrung
	// how many of them have had no provisional response yet.
	legs, unrung int
	// invites, evicted and aggregated count over the source's life in
	// the table (it is forgotten when it has no open leg and no flood).
	invites, evicted, aggregated uint64
	// cur counts the INVITEs of the window starting at winStart, prev
	// those of the window before it.
	winStart  time.Time
	cur, prev int
	flooding  bool
	// floodStart is when the current (or last) flood was detected;
	// floodInvites counts its INVITEs.
	floodStart   time.Time
	floodInvites uint64
	peak         float64
}

// roll moves the source's windows to at.
func (s *source) roll(at time.Time) {
	d := at.Sub(s.winStart)
	if d < rateWindow {
		return
	}
	if d < 2*rateWindow {
		s.prev = s.cur
	} else {
		s.prev = 0
	}
	s.cur = 0
	s.winStart = at
}

// rate estimates the INVITEs per second over the last window at at: the
// current window plus the share of the previous one it still overlaps
// (a sliding window from two counters, constant memory per source).
func (s *source) rate(at time.Time) float64 {
	s.roll(at)
	f := 1 - float64(at.Sub(s.winStart))/float64(rateWindow)
	return float64(s.cur) + float64(s.prev)*min(max(f, 0), 1)
}

// FloodEvent says that a source started or stopped flooding.
type FloodEvent struct {
	// Source is the address sending the INVITEs.
	Source netip.Addr
	// Started is the capture time the flood was detected; At is the time
	// of this event (equal to Started when it starts).
	Started, At time.Time
	// Ended is false when the flood starts, true when it is over.
	Ended bool
	// Rate is the INVITEs per second measured at detection (at the end,
	// the peak rate seen).
	Rate float64
	// Invites counts the flood's INVITEs (at the end).
	Invites uint64
}

// SourceStats is the accounting of one address that opened legs.
type SourceStats struct {
	Addr netip.Addr
	// Open is the number of open legs its INVITEs opened; Unrung those of
	// them that had no provisional response yet.
	Open, Unrung int
	// Invites counts the INVITEs that opened a leg (or were dropped for
	// lack of room), Evicted and Aggregated what became of its legs.
	Invites, Evicted, Aggregated uint64
	// Rate is its INVITEs per second now; Flooding says it is above the
	// flood rate.
	Rate     float64
	Flooding bool
}

// sourceFor returns the accounting of addr, created if needed.
func (t *Tracker) sourceFor(addr netip.Addr) *source {
	addr = addr.Unmap()
	s := t.sources[addr]
	if s == nil {
		s = &source{addr: addr}
		t.sources[addr] = s
	}
	return s
}

// forget drops a source that has no open leg and does not flood: the
// table holds at most one entry per open leg plus the flooding sources.
func (t *Tracker) forget(s *source) {
	if s.legs == 0 && !s.flooding && t.sources[s.addr] == s {
		delete(t.sources, s.addr)
	}
}

// countInvite adds an INVITE that offers a new leg from s at at, and
// starts a flood when the rate passes the threshold.
func (t *Tracker) countInvite(s *source, at time.Time) {
	s.invites++
	s.roll(at)
	s.cur++
	r := s.rate(at)
	if r > s.peak {
		s.peak = r
	}
	if s.flooding {
		s.floodInvites++
		return
	}
	if r <= t.cfg.FloodRate {
		return
	}
	s.flooding = true
	s.floodStart = at
	s.floodInvites = uint64(r)
	s.peak = r
	t.flooding = append(t.flooding, s)
	t.stats.Floods++
	t.taintRecent(s, at.Add(-2*rateWindow))
	if t.cfg.OnFlood != nil {
		t.cfg.OnFlood(FloodEvent{Source: s.addr, Started: at, At: at, Rate: r})
	}
}

// taintRecent marks as flood the unrung legs of s opened since from: the
// INVITEs that pushed the rate over the threshold (at most two windows of
// them) are the flood's too.
func (t *Tracker) taintRecent(s *source, from time.Time) {
	for l := t.unrung.tail; l != nil && !l.call.InviteAt.Before(from); l = l.links[listUnrung].prev {
		if l.src == s && !l.flood {
			l.flood = true
			t.floodLegs.push(l)
		}
	}
}

// checkFloods ends the floods whose source fell below half the threshold.
func (t *Tracker) checkFloods(now time.Time) {
	for i := 0; i < len(t.flooding); {
		s := t.flooding[i]
		if s.rate(now) >= t.cfg.FloodRate/2 {
			i++
			continue
		}
		s.flooding = false
		t.flooding = slices.Delete(t.flooding, i, i+1)
		if t.cfg.OnFlood != nil {
			t.cfg.OnFlood(FloodEvent{Source: s.addr, Started: s.floodStart, At: now, Ended: true, Rate: s.peak, Invites: s.floodInvites})
		}
		t.forget(s)
	}
}

// Sources returns the accounting of the n sources with the most INVITEs
// among those with open legs or a flood, most first.
func (t *Tracker) Sources(n int, now time.Time) []SourceStats {
	out := make([]SourceStats, 0, len(t.sources))
	for _, s := range t.sources {
		out = append(out, SourceStats{
			Addr: s.addr, Open: s.legs, Unrung: s.unrung,
			Invites: s.invites, Evicted: s.evicted, Aggregated: s.aggregated,
			Rate: s.rate(now), Flooding: s.flooding,
		})
	}
	slices.SortFunc(out, func(a, b SourceStats) int {
		if a.Invites != b.Invites {
			if a.Invites > b.Invites {
				return -1
			}
			return 1
		}
		return a.Addr.Compare(b.Addr)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
