package uplink

import (
	"context"
	"sync"
	"time"
)

// gate gives the records' batches priority over the recordings' chunks:
// a chunk goes while the records loop has nothing to send, or once after
// each batch it posted (whatever the answer), so recordings never starve
// and never hold a record back by more than one chunk. Its zero value is
// ready: nothing to send.
type gate struct {
	mu   sync.Mutex
	busy bool
	// turn is closed when a batch ends or the outbox empties.
	turn chan struct{}
}

// records says whether the records loop has a batch to send.
func (g *gate) records(busy bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	was := g.busy
	g.busy = busy
	if was && !busy {
		g.signalLocked()
	}
}

// ended says a batch's post ended.
func (g *gate) ended() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.signalLocked()
}

func (g *gate) signalLocked() {
	if g.turn != nil {
		close(g.turn)
		g.turn = nil
	}
}

// wait returns at once when no batch waits, else when one ends, or after
// limit: a records loop stuck in its own backoff (a server refusing
// batches yet taking recordings) does not stop the recordings for good.
func (g *gate) wait(ctx context.Context, limit time.Duration) error {
	g.mu.Lock()
	if !g.busy {
		g.mu.Unlock()
		return nil
	}
	if g.turn == nil {
		g.turn = make(chan struct{})
	}
	ch := g.turn
	g.mu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}
