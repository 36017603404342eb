package tap

import (
	"sync"

	"github.com/switchtap/switchtap/sip"
)

// recordQueue holds finished records between the capture and the store
// writer. push never blocks: the capture goroutine must not wait on a disk
// (it holds the pipeline's lock while it emits). When the store cannot keep
// up or fails, records wait here up to max; past it they are counted as
// dropped, which the daemon logs and exports.
type recordQueue struct {
	mu      sync.Mutex
	q       []sip.Call
	max     int
	dropped uint64
	// ready has room for one wake-up: a push never blocks on it.
	ready chan struct{}
}

func newRecordQueue(max int) *recordQueue {
	return &recordQueue{max: max, ready: make(chan struct{}, 1)}
}

// push appends c, or counts it as dropped when the queue is full; it
// reports whether c was kept.
func (q *recordQueue) push(c sip.Call) bool {
	q.mu.Lock()
	if len(q.q) >= q.max {
		q.dropped++
		q.mu.Unlock()
		return false
	}
	q.q = append(q.q, c)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// peek returns a copy of up to n records from the head, left in place
// until done confirms they are stored.
func (q *recordQueue) peek(n int) []sip.Call {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.q))
	out := make([]sip.Call, n)
	copy(out, q.q[:n])
	return out
}

// done removes the n records at the head, stored.
func (q *recordQueue) done(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.q[:n])
	q.q = q.q[n:]
	if len(q.q) == 0 {
		q.q = nil // let the backing array go after a backlog
	}
}

// drop discards everything still queued, counting it as dropped, and
// returns how many records that was.
func (q *recordQueue) drop() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.q)
	q.dropped += uint64(n)
	q.q = nil
	return n
}

func (q *recordQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.q)
}

func (q *recordQueue) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
