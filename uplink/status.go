package uplink

import (
	"context"
	"fmt"
	"time"
)

// Result is how a batch post ended.
type Result int

// Results of a batch post.
const (
	// ResultOK: 200, the batch is committed.
	ResultOK Result = iota
	// ResultReplay: 200 with a cursor past the batch: the server had it
	// already (a resend whose first answer was lost) and applied nothing.
	ResultReplay
	// ResultGap: 409, the server's cursor is below the batch; the sender
	// resends from the server's cursor.
	ResultGap
	// ResultBusy: 429 or 503, retried after Retry-After.
	ResultBusy
	// ResultError: no answer (timeout, connection lost), a 5xx, a refusal
	// (401, 400, 413) or an answer outside the protocol.
	ResultError
	numResults
)

// String returns the result's metric label.
func (r Result) String() string {
	switch r {
	case ResultOK:
		return "ok"
	case ResultReplay:
		return "replay"
	case ResultGap:
		return "gap"
	case ResultBusy:
		return "busy"
	case ResultError:
		return "error"
	}
	return fmt.Sprintf("Result(%d)", int(r))
}

// Batches counts batch posts by result.
type Batches struct {
	OK, Replay, Gap, Busy, Error uint64
}

// Status is the uplink's state, for metrics, the console and the lamp.
type Status struct {
	// Depth counts the outbox entries the server has not acknowledged.
	Depth uint64
	// Oldest is when the oldest of them was written (zero: none), and
	// OldestAge its age by the sender's clock.
	Oldest    time.Time
	OldestAge time.Duration
	// Acked is the server's acknowledged cursor as last known.
	Acked uint64
	// LastAck is when the server last acknowledged a batch; LastContact
	// when it last answered within the protocol (a 200 or 409). Zero:
	// never since start.
	LastAck     time.Time
	LastContact time.Time
	// Batches counts posts by result; Records the entries acknowledged.
	Batches Batches
	Records uint64
	// LastError is the last failure ("" after a success).
	LastError string
	// Offline is Unreachable(Config.OfflineAfter).
	Offline bool
}

// Status returns the uplink's state; the outbox figures are read from the
// store.
func (s *Sender) Status(ctx context.Context) (Status, error) {
	now := s.now()
	s.mu.Lock()
	st := Status{
		Acked:       s.acked,
		LastAck:     s.lastAck,
		LastContact: s.lastContact,
		LastError:   s.lastErr,
	}
	s.mu.Unlock()
	st.Batches = Batches{
		OK:     s.results[ResultOK].Load(),
		Replay: s.results[ResultReplay].Load(),
		Gap:    s.results[ResultGap].Load(),
		Busy:   s.results[ResultBusy].Load(),
		Error:  s.results[ResultError].Load(),
	}
	st.Records = s.records.Load()
	st.Offline = s.Unreachable(s.cfg.OfflineAfter)
	ob, err := s.out.OutboxStats(ctx)
	if err != nil {
		return st, fmt.Errorf("uplink status: %w", err)
	}
	// The server may have acknowledged more than the store has recorded
	// (a batch committed just before a restart, acknowledged again by the
	// cursor it reports): those entries are not pending.
	done := max(ob.Acked, st.Acked)
	if ob.Next > done+1 {
		st.Depth = ob.Next - 1 - done
	}
	if st.Depth > 0 {
		// The store's oldest entry not freed: the oldest pending one, or
		// (briefly, until the next acknowledgement) one the server has.
		st.Oldest = ob.Oldest
		st.OldestAge = max(now.Sub(ob.Oldest), 0)
	}
	return st, nil
}

// Unreachable says whether the server has not answered within the
// protocol for longer than threshold (counted from New when it never
// has): the lamp's and console's "sin conexión con el servidor central".
func (s *Sender) Unreachable(threshold time.Duration) bool {
	s.mu.Lock()
	since := s.lastContact
	if since.IsZero() {
		since = s.started
	}
	s.mu.Unlock()
	return s.now().Sub(since) > threshold
}
