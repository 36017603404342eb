package sip

import "time"

// Lists a leg can be on, by index into leg.links.
const (
	// listUnrung holds, oldest first, the open legs that have had no
	// provisional or final 2xx response yet.
	listUnrung = iota
	// listFlood holds those of them offered by a flooding source.
	listFlood
	nLists
)

type link struct{ prev, next *leg }

// legList is an intrusive doubly linked list of legs in the order they
// were opened: push, remove and the oldest are O(1) with no allocation.
type legList struct {
	head, tail *leg
	n          int
	k          int
}

func (ll *legList) push(l *leg) {
	if l.on[ll.k] {
		return
	}
	l.on[ll.k] = true
	l.links[ll.k] = link{prev: ll.tail}
	if ll.tail != nil {
		ll.tail.links[ll.k].next = l
	} else {
		ll.head = l
	}
	ll.tail = l
	ll.n++
}

func (ll *legList) remove(l *leg) {
	if !l.on[ll.k] {
		return
	}
	lk := l.links[ll.k]
	if lk.prev != nil {
		lk.prev.links[ll.k].next = lk.next
	} else {
		ll.head = lk.next
	}
	if lk.next != nil {
		lk.next.links[ll.k].prev = lk.prev
	} else {
		ll.tail = lk.prev
	}
	l.links[ll.k] = link{}
	l.on[ll.k] = false
	ll.n--
}

// rang takes l off the unrung lists once it has had an 18x or a 2xx: from
// then on it is a call someone's phone showed, never a flood's victim.
func (t *Tracker) rang(l *leg) {
	if !l.on[listUnrung] || (l.call.RingingAt == nil && l.call.AnsweredAt == nil) {
		return
	}
	t.unlist(l)
}

func (t *Tracker) unlist(l *leg) {
	if l.on[listUnrung] {
		t.unrung.remove(l)
		l.src.unrung--
	}
	t.floodLegs.remove(l)
}

// makeRoom closes one open leg so that an INVITE from s can be followed
// when MaxCalls legs are open; it reports whether it did. The victim is
// the oldest leg that never rang, offered by a flooding source; failing
// that, unless s itself floods, the oldest leg that never rang. A leg
// that rang or was answered is never evicted: when every open leg did,
// the new INVITE is dropped (issue 9 §2: a flood cannot crowd out real
// calls, and a flood never displaces another source's calls).
func (t *Tracker) makeRoom(s *source, now time.Time) bool {
	victim := t.floodLegs.head
	if victim == nil && !s.flooding {
		victim = t.unrung.head
	}
	if victim == nil {
		return false
	}
	t.evict(victim, now)
	return true
}

// reclaim evicts the oldest flood legs that never rang until need bytes
// of the ladders' budget (MaxMessageBytes) are free, or none is left: the
// INVITEs of a flood must not take the room of a real call's ladder.
func (t *Tracker) reclaim(need int, now time.Time) {
	for t.cfg.MaxMessageBytes-t.msgBytes < need && t.floodLegs.head != nil {
		t.evict(t.floodLegs.head, now)
	}
}

// evict closes an open leg early, counted as evicted.
func (t *Tracker) evict(victim *leg, now time.Time) {
	t.stats.Evicted++
	victim.src.evicted++
	if !victim.ended {
		victim.call.EndReason, victim.call.EndDetail = EndUnknown, EndDetailEvicted
	}
	t.finish(victim, now)
}
