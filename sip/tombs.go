package sip

import "time"

// tombs remembers the Call-IDs of closed legs for tombstoneTTL, so that
// their stray retransmissions do not open new legs. Entries expire in the
// order they were added (the capture clock only moves forward), from the
// head of a FIFO, so expiry costs O(1) per tomb rather than a walk over
// all of them; and their number is bounded by max: past it the oldest is
// forgotten first (issue 9 §2: a flood left 32 s of tombs, unbounded).
type tombs struct {
	m    map[string]tomb
	q    []tombEntry
	head int
	max  int
}

type tomb struct {
	cseq  uint32
	until time.Time
}

type tombEntry struct {
	id    string
	until time.Time
}

func newTombs(max int) *tombs {
	return &tombs{m: make(map[string]tomb), max: max}
}

func (ts *tombs) get(id string) (tomb, bool) {
	tb, ok := ts.m[id]
	return tb, ok
}

// add remembers id until the given time, forgetting the oldest tombs past
// the bound.
func (ts *tombs) add(id string, cseq uint32, until time.Time) {
	ts.m[id] = tomb{cseq: cseq, until: until}
	ts.q = append(ts.q, tombEntry{id: id, until: until})
	for len(ts.m) > ts.max && ts.pop() {
	}
}

// expire forgets the tombs whose time has passed at now.
func (ts *tombs) expire(now time.Time) {
	for ts.head < len(ts.q) && now.After(ts.q[ts.head].until) && ts.pop() {
	}
}

// pop forgets the oldest entry; it reports whether there was one. A
// Call-ID tombed again later keeps its newer tomb.
func (ts *tombs) pop() bool {
	if ts.head >= len(ts.q) {
		return false
	}
	e := ts.q[ts.head]
	ts.q[ts.head] = tombEntry{}
	ts.head++
	if tb, ok := ts.m[e.id]; ok && tb.until.Equal(e.until) {
		delete(ts.m, e.id)
	}
	// Compact once half the slice is spent, so memory follows the count.
	if ts.head > 1024 && ts.head*2 > len(ts.q) {
		n := copy(ts.q, ts.q[ts.head:])
		clear(ts.q[n:])
		ts.q = ts.q[:n]
		ts.head = 0
	}
	return true
}

func (ts *tombs) len() int { return len(ts.m) }
