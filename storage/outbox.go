package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The transactional outbox of the uplink (issue 11). Every write of a call
// record (putTxn: PutCalls, and the final records of PutProgress) appends, in the same
// badger transaction, an entry naming the record and its new revision, so a
// record is durable if and only if its entry is: the uplink can lose
// nothing, and the central server can drop replays by seq.
//
//	outbox/<seq big-endian uint64>  -> revision (uvarint) | written at (8 bytes, UnixNano) | record id
//	rev/<id>                        -> the record's current revision (big-endian uint64)
//	uplink/next                     -> the next seq to issue (big-endian uint64)
//	uplink/cursor                   -> the last seq the server acknowledged
//	uplink/pruned                   -> every entry up to it is deleted
//
// Seqs start at 1 and are contiguous: the next seq is stored in the
// transaction that uses it, so a crash either keeps the entry and the
// advanced counter or neither, and a seq is never reused. The entries not
// yet acknowledged are therefore exactly cursor+1 .. next-1.
const (
	prefixOutbox = "outbox/"
	prefixRev    = "rev/"
	keyNextSeq   = "uplink/next"
	keyCursor    = "uplink/cursor"
	// keyPruned is the seq below which every entry is deleted, so a
	// prune seeks past the tombstones of earlier ones instead of walking
	// them until compaction drops them.
	keyPruned = "uplink/pruned"
	// ackChunk bounds the deletions of one transaction of AckOutbox, so
	// the writer lock is never held long against the capture's writes.
	ackChunk = 1000
	// maxOutboxBatch bounds OutboxAfter's max.
	maxOutboxBatch = 100_000
)

// OutboxEntry is an outbox entry with the record as it is now.
type OutboxEntry struct {
	// Seq is the entry's sequence number, per box, from 1.
	Seq uint64
	// RecordID is the id of the record written.
	RecordID string
	// Revision is the revision the write gave the record (1 for its
	// first write).
	Revision uint64
	// Current is the record's revision now, at least Revision: the record
	// may have been written again since.
	Current uint64
	// Record is the record's JSON as stored now (revision Current). It
	// is the caller's to keep.
	Record []byte
	// At is when the entry was written (the store's wall clock).
	At time.Time
}

// OutboxStats are the figures of the outbox.
type OutboxStats struct {
	// Depth counts the entries not yet acknowledged.
	Depth uint64
	// Oldest is when the oldest entry not acknowledged was written; zero
	// when Depth is 0.
	Oldest time.Time
	// Acked is the last seq the server acknowledged (0: none).
	Acked uint64
	// Next is the seq the next write will get.
	Next uint64
}

func outboxKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixOutbox), seq)
}

func revKey(id string) []byte { return append([]byte(prefixRev), id...) }

// getUint64 reads a big-endian counter; def when the key is absent.
func getUint64(txn *badger.Txn, key []byte, def uint64) (uint64, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return def, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	err = item.Value(func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%w: key %q holds %d bytes, not 8", ErrCorrupt, key, len(v))
		}
		n = binary.BigEndian.Uint64(v)
		return nil
	})
	return n, err
}

func setUint64(txn *badger.Txn, key []byte, n uint64) error {
	return txn.Set(key, binary.BigEndian.AppendUint64(nil, n))
}

// appendOutbox bumps record id's revision and appends its outbox entry, in
// the record's transaction. Counters are read from the transaction, which
// sees its own pending writes, so several records in one batch (or one id
// twice) get consecutive seqs and growing revisions.
func appendOutbox(txn *badger.Txn, id string, at time.Time) error {
	rk := revKey(id)
	rev, err := getUint64(txn, rk, 0)
	if err != nil {
		return fmt.Errorf("read revision of %s: %w", id, err)
	}
	seq, err := getUint64(txn, []byte(keyNextSeq), 1)
	if err != nil {
		return fmt.Errorf("read outbox seq: %w", err)
	}
	rev++
	v := make([]byte, 0, binary.MaxVarintLen64+8+len(id))
	v = binary.AppendUvarint(v, rev)
	v = binary.BigEndian.AppendUint64(v, uint64(at.UnixNano())) //nolint:gosec // G115: a wall clock after 1970
	v = append(v, id...)
	if err := txn.Set(outboxKey(seq), v); err != nil {
		return fmt.Errorf("append outbox entry %d: %w", seq, err)
	}
	if err := setUint64(txn, rk, rev); err != nil {
		return fmt.Errorf("write revision of %s: %w", id, err)
	}
	if err := setUint64(txn, []byte(keyNextSeq), seq+1); err != nil {
		return fmt.Errorf("write outbox seq: %w", err)
	}
	return nil
}

// parseOutboxValue splits an entry's value.
func parseOutboxValue(v []byte) (rev uint64, at time.Time, id string, err error) {
	rev, n := binary.Uvarint(v)
	if n <= 0 || len(v) < n+8+1 {
		return 0, time.Time{}, "", fmt.Errorf("%w: outbox entry of %d bytes", ErrCorrupt, len(v))
	}
	ns := binary.BigEndian.Uint64(v[n:])
	return rev, time.Unix(0, int64(ns)).UTC(), string(v[n+8:]), nil //nolint:gosec // G115: written from a non-negative int64
}

// OutboxAfter calls fn, in seq order, for at most max entries with a seq
// above after, each with the record as it is now (read, like the entries,
// from one snapshot, so Record and Current agree). It stops at fn's first
// error (returned as is) or when ctx is done. An entry whose record is
// missing is ErrCorrupt: records are never deleted.
func (s *Store) OutboxAfter(ctx context.Context, after uint64, max int, fn func(OutboxEntry) error) error {
	if max <= 0 || max > maxOutboxBatch {
		return fmt.Errorf("%w: outbox batch of %d", ErrOption, max)
	}
	if after == ^uint64(0) {
		return nil
	}
	var fnErr error
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte(prefixOutbox)
		o.PrefetchSize = scanPrefetch
		it := txn.NewIterator(o)
		defer it.Close()
		n := 0
		for it.Seek(outboxKey(after + 1)); it.Valid() && n < max; it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			k := item.Key()
			if len(k) != len(prefixOutbox)+8 {
				return fmt.Errorf("%w: outbox key %q", ErrCorrupt, k)
			}
			e := OutboxEntry{Seq: binary.BigEndian.Uint64(k[len(prefixOutbox):])}
			err := item.Value(func(v []byte) error {
				var err error
				e.Revision, e.At, e.RecordID, err = parseOutboxValue(v)
				return err
			})
			if err != nil {
				return fmt.Errorf("outbox entry %d: %w", e.Seq, err)
			}
			if e.Current, err = getUint64(txn, revKey(e.RecordID), 0); err != nil {
				return fmt.Errorf("revision of %s: %w", e.RecordID, err)
			}
			if e.Record, err = s.rawCall(txn, e.RecordID); err != nil {
				return fmt.Errorf("outbox entry %d: %w", e.Seq, err)
			}
			if e.Current < e.Revision {
				return fmt.Errorf("%w: outbox entry %d has revision %d above the record's %d", ErrCorrupt, e.Seq, e.Revision, e.Current)
			}
			if err := fn(e); err != nil {
				fnErr = err
				return err
			}
			n++
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("read outbox after %d: %w", after, err)
	}
	return err
}

// rawCall returns a copy of record id's stored JSON, unpacked.
func (s *Store) rawCall(txn *badger.Txn, id string) ([]byte, error) {
	item, err := txn.Get(indexKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: outbox names record %s, which is not stored", ErrCorrupt, id)
	}
	if err != nil {
		return nil, err
	}
	pk, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	item, err = txn.Get(pk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: index of %s names missing key %q", ErrCorrupt, id, pk)
	}
	if err != nil {
		return nil, err
	}
	var j []byte
	err = item.Value(func(v []byte) error {
		var err error
		j, err = s.codec.unpackCopy(v)
		return err
	})
	return j, err
}

// AckOutbox records that the server acknowledged every entry up to seq
// (durably, before it returns), then deletes those entries in transactions
// of at most 1000 deletions, letting other writers in between. A seq at or
// below the stored cursor changes nothing but still finishes the
// deletions a crash may have interrupted; a seq the store never issued is
// ErrOutboxSeq (the server acknowledged something this box did not send).
func (s *Store) AckOutbox(ctx context.Context, seq uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	err := s.db.Update(func(txn *badger.Txn) error {
		next, err := getUint64(txn, []byte(keyNextSeq), 1)
		if err != nil {
			return err
		}
		if seq >= next {
			return fmt.Errorf("%w: ack of %d, but the last seq issued is %d", ErrOutboxSeq, seq, next-1)
		}
		cur, err := getUint64(txn, []byte(keyCursor), 0)
		if err != nil || seq <= cur {
			return err
		}
		return setUint64(txn, []byte(keyCursor), seq)
	})
	s.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("ack outbox to %d: %w", seq, err)
	}
	for {
		if err := ctx.Err(); err != nil {
			// The cursor is stored; the next ack resumes the deletions.
			return nil //nolint:nilerr // the ack itself succeeded
		}
		n, err := s.pruneOutbox(seq)
		if err != nil {
			return fmt.Errorf("free outbox to %d: %w", seq, err)
		}
		if n < ackChunk {
			return nil
		}
	}
}

// pruneOutbox deletes up to ackChunk entries at or below seq, the lowest
// first, from the last prune on, and says how many it deleted.
func (s *Store) pruneOutbox(seq uint64) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	n := 0
	err := s.db.Update(func(txn *badger.Txn) error {
		from, err := getUint64(txn, []byte(keyPruned), 0)
		if err != nil || from >= seq {
			return err
		}
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte(prefixOutbox)
		o.PrefetchValues = false
		it := txn.NewIterator(o)
		var keys [][]byte
		for it.Seek(outboxKey(from + 1)); it.Valid() && len(keys) < ackChunk; it.Next() {
			k := it.Item().KeyCopy(nil)
			if len(k) != len(prefixOutbox)+8 || binary.BigEndian.Uint64(k[len(prefixOutbox):]) > seq {
				break
			}
			keys = append(keys, k)
		}
		it.Close()
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		done := seq
		if n == ackChunk {
			// More may follow: the next chunk starts after this one.
			done = binary.BigEndian.Uint64(keys[n-1][len(prefixOutbox):])
		}
		return setUint64(txn, []byte(keyPruned), done)
	})
	return n, err
}

// OutboxCursor returns the last seq the server acknowledged (0: none).
func (s *Store) OutboxCursor(ctx context.Context) (uint64, error) {
	st, err := s.OutboxStats(ctx)
	return st.Acked, err
}

// OutboxStats returns the outbox's figures, from one snapshot. It reads
// three keys, not the entries: seqs are contiguous.
func (s *Store) OutboxStats(ctx context.Context) (OutboxStats, error) {
	var st OutboxStats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		if st.Next, err = getUint64(txn, []byte(keyNextSeq), 1); err != nil {
			return err
		}
		if st.Acked, err = getUint64(txn, []byte(keyCursor), 0); err != nil {
			return err
		}
		if st.Acked >= st.Next {
			return fmt.Errorf("%w: cursor %d at or past next seq %d", ErrCorrupt, st.Acked, st.Next)
		}
		st.Depth = st.Next - 1 - st.Acked
		if st.Depth == 0 {
			return nil
		}
		item, err := txn.Get(outboxKey(st.Acked + 1))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("%w: outbox entry %d missing", ErrCorrupt, st.Acked+1)
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			_, at, _, err := parseOutboxValue(v)
			st.Oldest = at
			return err
		})
	})
	if err != nil {
		return OutboxStats{}, fmt.Errorf("outbox stats: %w", err)
	}
	return st, nil
}

// Revision returns record id's current revision (0: never written).
func (s *Store) Revision(ctx context.Context, id string) (uint64, error) {
	if err := checkID(id); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var rev uint64
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		rev, err = getUint64(txn, revKey(id), 0)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revision of %s: %w", id, err)
	}
	return rev, nil
}
