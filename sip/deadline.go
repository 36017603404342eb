package sip

import (
	"container/heap"
	"time"
)

// deadlines orders the open legs by the capture time at which each needs
// attention (its linger, setup or idle timeout), so Advance touches only
// the legs that are due: O(log n) per change instead of a walk over every
// open leg (issue 9 §2: the walk made a flood cost the square of its size).
// Ties go to the leg opened first, so legs due together close in a
// deterministic order.
type deadlines []*leg

func (h deadlines) Len() int { return len(h) }

func (h deadlines) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}

func (h deadlines) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = int32(i), int32(j) //nolint:gosec // G115: < MaxCalls
}

// Push adds a leg; use heap.Push.
func (h *deadlines) Push(x any) {
	l, _ := x.(*leg)
	l.hidx = int32(len(*h)) //nolint:gosec // G115: < MaxCalls
	*h = append(*h, l)
}

// Pop removes the last leg; use heap.Pop.
func (h *deadlines) Pop() any {
	old := *h
	n := len(old)
	l := old[n-1]
	old[n-1] = nil
	l.hidx = -1
	*h = old[:n-1]
	return l
}

// schedule puts l in the heap at its current deadline, or moves it there.
func (t *Tracker) schedule(l *leg) {
	l.due = t.deadline(l)
	if l.hidx < 0 {
		heap.Push(&t.due, l)
		return
	}
	heap.Fix(&t.due, int(l.hidx))
}

// unschedule takes l out of the heap (it is being closed).
func (t *Tracker) unschedule(l *leg) {
	if l.hidx >= 0 {
		heap.Remove(&t.due, int(l.hidx))
	}
}

// nextDue returns the earliest open leg if it is due at now.
func (t *Tracker) nextDue(now time.Time) *leg {
	if len(t.due) == 0 || now.Before(t.due[0].due) {
		return nil
	}
	return t.due[0]
}
