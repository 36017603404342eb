package tap

import (
	"sync"

	"github.com/switchtap/switchtap/sip"
)

// recordQueue holds finished records between the capture and the store
// writer. Each waits, at the head, for the recordings it names to be
// durable (need, a mark of the recorder's committer: DurableMedia), so that
// no record is stored before its audio is on disk. push never blocks: the capture goroutine must not wait on a disk
// (it holds the pipeline's lock while it emits). When the store cannot keep
// up or fails, records wait here up to max; past it they are counted as
// dropped, which the daemon logs and exports.
type recordQueue struct {
	mu      sync.Mutex
	q       []queued
	max     int
	dropped uint64
	// ready has room for one wake-up: a push never blocks on it.
	ready chan struct{}
}

// queued is a record and the committer's mark it waits for (0: none).
type queued struct {
	c    sip.Call
	need uint64
}

func newRecordQueue(max int) *recordQueue {
	return &recordQueue{max: max, ready: make(chan struct{}, 1)}
}

// push appends c, to be stored once the committer has settled need, or
// counts it as dropped when the queue is full; it reports whether c was
// kept.
func (q *recordQueue) push(c sip.Call, need uint64) bool {
	q.mu.Lock()
	if len(q.q) >= q.max {
		q.dropped++
		q.mu.Unlock()
		return false
	}
	q.q = append(q.q, queued{c: c, need: need})
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// peek returns a copy of up to n records from the head whose need is at
// most durable, left in place until done confirms they are stored; blocked
// says a record behind them waits for the committer. Records are stored in
// the order they came: one that waits holds back those behind it.
func (q *recordQueue) peek(n int, durable uint64) (out []sip.Call, blocked bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.q))
	k := 0
	for k < n && q.q[k].need <= durable {
		k++
	}
	out = make([]sip.Call, k)
	for i := range out {
		out[i] = q.q[i].c
	}
	return out, k < len(q.q) && k < n
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
