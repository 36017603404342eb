package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchtap/switchtap/sip"
)

// prefixAgg starts the keys of the aggregates of legs that never rang:
// prefix, big-endian period start, "/", source, "/", reason. It starts no
// other prefix ("call/", "callid/", "cid/", "msgs/", "keep/", "deleted/",
// "kv/", "open/").
const prefixAgg = "agg/"

// maxAggField bounds the source and reason of an aggregate in its key.
const maxAggField = 128

// aggKey is the key of the aggregate of one period, source and reason.
func aggKey(a sip.Aggregate) ([]byte, error) {
	if err := checkInvite(a.Period); err != nil {
		return nil, fmt.Errorf("aggregate period: %w", err)
	}
	if a.Source == "" || len(a.Source) > maxAggField || len(a.Reason) > maxAggField {
		return nil, fmt.Errorf("%w: aggregate source %q reason %q", ErrKey, a.Source, a.Reason)
	}
	k := make([]byte, 0, len(prefixAgg)+tsLen+2+len(a.Source)+len(a.Reason))
	k = append(k, prefixAgg...)
	k = binary.BigEndian.AppendUint64(k, uint64(a.Period.UnixNano())) //nolint:gosec // G115: checkInvite keeps it at or after 1970
	k = append(k, '/')
	k = append(k, a.Source...)
	k = append(k, '/')
	return append(k, a.Reason...), nil
}

// AddAggregates adds the aggregates to those stored: an aggregate of a
// period, source and reason already stored has its legs summed and its
// first and last invite times widened, so a period handed out in parts
// (or twice across a restart) still counts every leg once per hand-out.
// It returns after the transaction is synced.
func (s *Store) AddAggregates(ctx context.Context, as []sip.Aggregate) error {
	if len(as) == 0 {
		return nil
	}
	keys := make([][]byte, len(as))
	for i := range as {
		k, err := aggKey(as[i])
		if err != nil {
			return err
		}
		keys[i] = k
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		for i, a := range as {
			old, err := getAggregate(txn, keys[i])
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
			case err != nil:
				return err
			default:
				a = mergeAggregate(old, a)
			}
			v, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("encode aggregate: %w", err)
			}
			if err := txn.Set(keys[i], v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store aggregates: %w", err)
	}
	return nil
}

func getAggregate(txn *badger.Txn, k []byte) (sip.Aggregate, error) {
	var a sip.Aggregate
	item, err := txn.Get(k)
	if err != nil {
		return a, err
	}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &a) })
	if err != nil {
		return a, fmt.Errorf("%w: key %q: %w", ErrCorrupt, k, err)
	}
	return a, nil
}

func mergeAggregate(old, a sip.Aggregate) sip.Aggregate {
	a.Legs += old.Legs
	if old.First.Before(a.First) {
		a.First = old.First
	}
	if old.Last.After(a.Last) {
		a.Last = old.Last
	}
	a.Flood = a.Flood || old.Flood
	return a
}

// Aggregates calls fn for every aggregate whose period starts in
// [from, to), in order of period, source, reason. It stops at the first
// error of fn (returned as is) or when ctx is done.
func (s *Store) Aggregates(ctx context.Context, from, to time.Time, fn func(sip.Aggregate) error) error {
	if !to.After(from) || to.Before(minInvite) {
		return nil
	}
	ts := func(t time.Time) []byte {
		k := []byte(prefixAgg)
		ns := uint64(0)
		switch {
		case t.After(maxInvite):
			ns = uint64(maxInvite.UnixNano()) //nolint:gosec // G115: positive
		case !t.Before(minInvite):
			ns = uint64(t.UnixNano()) //nolint:gosec // G115: at or after 1970
		}
		return binary.BigEndian.AppendUint64(k, ns)
	}
	// Past the key range there is no upper bound: the prefix ends the scan.
	var end []byte
	if !to.After(maxInvite) {
		end = ts(to)
	}
	return s.scanRange(ctx, []byte(prefixAgg), ts(from), end, func(item *badger.Item) error {
		var a sip.Aggregate
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
			return fmt.Errorf("scan aggregates: %w: key %q: %w", ErrCorrupt, item.Key(), err)
		}
		return fn(a)
	})
}

// AggregateSink hands aggregates from the capture to the store without
// ever blocking the capture: Add queues them (up to a bound, past which
// they are counted as dropped), Run writes them, retrying a failing store,
// and writes what is left when its context ends.
type AggregateSink struct {
	s   *Store
	log *slog.Logger

	mu      sync.Mutex
	q       []sip.Aggregate
	max     int
	dropped uint64
	ready   chan struct{}
	// retry is how long Run waits after a failed write.
	retry time.Duration
}

// NewAggregateSink returns a sink writing to s, holding at most max
// aggregates while the store is slow or failing (default 100,000).
func NewAggregateSink(s *Store, max int, log *slog.Logger) *AggregateSink {
	if max <= 0 {
		max = 100000
	}
	return &AggregateSink{s: s, log: log, max: max, ready: make(chan struct{}, 1), retry: time.Second}
}

// Add queues the aggregates; it never blocks.
// An aggregate the store would refuse (no source, a period before 1970)
// is dropped here, so it cannot hold the queue back forever.
func (k *AggregateSink) Add(as []sip.Aggregate) {
	k.mu.Lock()
	lost := 0
	for _, a := range as {
		if _, err := aggKey(a); err != nil || len(k.q) >= k.max {
			lost++
			continue
		}
		k.q = append(k.q, a)
	}
	k.dropped += uint64(lost) //nolint:gosec // G115: non-negative
	k.mu.Unlock()
	if lost > 0 {
		k.log.Error("aggregates dropped: queue full", "aggregates", lost)
	}
	select {
	case k.ready <- struct{}{}:
	default:
	}
}

// Dropped counts the aggregates lost because the queue was full.
func (k *AggregateSink) Dropped() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dropped
}

// Run writes queued aggregates until ctx is done, then writes what is
// still queued once (the store may be failing: the error is returned).
func (k *AggregateSink) Run(ctx context.Context) error {
	// A write under way finishes even when ctx ends: ctx only says when
	// to stop waiting for more.
	wctx := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			return k.flush(wctx)
		case <-k.ready:
		}
		if err := k.flush(wctx); err != nil {
			k.log.Error("aggregates not stored, retrying", "err", err)
			t := time.NewTimer(k.retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return k.flush(wctx)
			case <-t.C:
			}
			select {
			case k.ready <- struct{}{}:
			default:
			}
		}
	}
}

// flush writes the queue; on failure it is kept for the next try.
func (k *AggregateSink) flush(ctx context.Context) error {
	k.mu.Lock()
	batch := k.q
	k.q = nil
	k.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := k.s.AddAggregates(ctx, batch); err != nil {
		k.mu.Lock()
		k.q = append(batch, k.q...)
		if over := len(k.q) - k.max; over > 0 {
			k.q = k.q[over:]
			k.dropped += uint64(over) //nolint:gosec // G115: positive
		}
		k.mu.Unlock()
		return err
	}
	return nil
}
