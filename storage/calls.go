package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchtap/switchtap/sip"
)

// scanPrefetch is how many values a scan reads ahead: records are ~1 KB and
// mostly inline in the LSM tree, so a small window is enough.
const scanPrefetch = 16

// PutCall stores c, replacing any record with the same id (even one with a
// different invite_at). It returns after the record is synced to disk.
func (s *Store) PutCall(ctx context.Context, c sip.Call) error {
	return s.PutCalls(ctx, []sip.Call{c})
}

// PutCalls stores the records in one transaction and one sync; a later
// record with the same id wins. With each record go, in the same
// transaction, its Call-ID index entry and, when it carries some, its SIP
// messages (an upsert without messages keeps those stored before). A batch
// too large for one badger transaction is split in halves, each record
// staying whole with its messages; so all records are durable when it
// returns, but a crash in the middle may leave a prefix of the batch stored.
func (s *Store) PutCalls(ctx context.Context, cs []sip.Call) error {
	if len(cs) == 0 {
		return nil
	}
	vals := make([]encoded, len(cs))
	for i := range cs {
		var err error
		if vals[i], err = s.encodeCall(&cs[i]); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.putBatch(cs, vals)
}

// encoded is a record and its messages (nil for none) as stored, packed
// (codec.go).
type encoded struct {
	rec, msgs []byte
}

// encodeCall checks c and encodes it as stored: its record and, when it
// carries some, its messages.
func (s *Store) encodeCall(c *sip.Call) (encoded, error) {
	var e encoded
	if err := checkID(c.ID); err != nil {
		return e, err
	}
	if err := checkInvite(c.InviteAt); err != nil {
		return e, fmt.Errorf("call %s: %w", c.ID, err)
	}
	v, err := json.Marshal(c)
	if err != nil {
		return e, fmt.Errorf("encode call %s: %w", c.ID, err)
	}
	e.rec = s.codec.pack(v)
	if len(c.Messages) > 0 {
		m, err := json.Marshal(c.Messages)
		if err != nil {
			return e, fmt.Errorf("encode messages of call %s: %w", c.ID, err)
		}
		e.msgs = s.codec.pack(m)
	}
	return e, nil
}

// readJSON decodes item's stored JSON, packed or plain, into dst. Every
// failure is ErrCorrupt naming the key.
func (s *Store) readJSON(item *badger.Item, dst any) error {
	err := item.Value(func(v []byte) error {
		j, err := s.codec.unpack(v)
		if err != nil {
			return err
		}
		return json.Unmarshal(j, dst)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCorrupt): // unpack's
		return fmt.Errorf("key %q: %w", item.Key(), err)
	default:
		return fmt.Errorf("%w: key %q: %w", ErrCorrupt, item.Key(), err)
	}
}

// putBatch writes one transaction, halving it if badger finds it too big.
func (s *Store) putBatch(cs []sip.Call, vals []encoded) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		for i := range cs {
			if err := s.putTxn(txn, &cs[i], vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, badger.ErrTxnTooBig) && len(cs) > 1 {
		h := len(cs) / 2
		if err := s.putBatch(cs[:h], vals[:h]); err != nil {
			return err
		}
		return s.putBatch(cs[h:], vals[h:])
	}
	if err != nil {
		return fmt.Errorf("write %d calls: %w", len(cs), err)
	}
	s.written.Add(uint64(len(cs)))
	return nil
}

// putTxn writes one record, its index entries and its messages, deleting
// the record's old primary key when invite_at changed (and its old
// Call-ID index entry, in indexMessages). The transaction sees its own
// pending writes, so a repeated id within one batch is handled too.
func (s *Store) putTxn(txn *badger.Txn, c *sip.Call, val encoded) error {
	pk := callKey(c.InviteAt, c.ID)
	ik := indexKey(c.ID)
	var old []byte
	item, err := txn.Get(ik)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return fmt.Errorf("read index of %s: %w", c.ID, err)
	default:
		if old, err = item.ValueCopy(nil); err != nil {
			return fmt.Errorf("read index of %s: %w", c.ID, err)
		}
	}
	// Before the old record goes: its call_id names its index entry.
	if err := s.indexMessages(txn, c, val.msgs, old); err != nil {
		return err
	}
	if old != nil && !bytes.Equal(old, pk) {
		if err := txn.Delete(old); err != nil {
			return fmt.Errorf("delete old record of %s: %w", c.ID, err)
		}
	}
	if err := txn.Set(pk, val.rec); err != nil {
		return fmt.Errorf("write call %s: %w", c.ID, err)
	}
	if err := txn.Set(ik, pk); err != nil {
		return fmt.Errorf("write index of %s: %w", c.ID, err)
	}
	// Issue 11: the uplink's outbox entry goes in the record's own
	// transaction (outbox.go), so no record is stored without one. The
	// store has no injected clock; the stamp only dates the entry for
	// OutboxStats, never a call event.
	return appendOutbox(txn, c.ID, time.Now())
}

// Call returns the record with the given id, or ErrNotFound.
func (s *Store) Call(ctx context.Context, id string) (sip.Call, error) {
	var c sip.Call
	if err := checkID(id); err != nil {
		return c, err
	}
	if err := ctx.Err(); err != nil {
		return c, err
	}
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		c, err = s.getCall(txn, id)
		return err
	})
	if err != nil {
		return sip.Call{}, fmt.Errorf("get call %s: %w", id, err)
	}
	return c, nil
}

// getCall reads record id through its index entry, or ErrNotFound.
func (s *Store) getCall(txn *badger.Txn, id string) (sip.Call, error) {
	var c sip.Call
	item, err := txn.Get(indexKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return c, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return c, err
	}
	pk, err := item.ValueCopy(nil)
	if err != nil {
		return c, err
	}
	item, err = txn.Get(pk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return c, fmt.Errorf("%w: index of %s names missing key %q", ErrCorrupt, id, pk)
	}
	if err != nil {
		return c, err
	}
	err = s.decode(item, &c)
	return c, err
}

// Calls calls fn for every record with invite_at in [from, to), in order of
// invite_at then id, in one range scan over one snapshot. It stops at the
// first error of fn (returned as is) or when ctx is done.
func (s *Store) Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error {
	if !to.After(from) || to.Before(minInvite) {
		return nil
	}
	start := timeKey(from)
	// Past the key range there is no upper bound: the prefix ends the scan.
	var end []byte
	if !to.After(maxInvite) {
		end = timeKey(to)
	}
	return s.scanRange(ctx, []byte(prefixCall), start, end, func(item *badger.Item) error {
		var c sip.Call
		if err := s.decode(item, &c); err != nil {
			return fmt.Errorf("scan calls: %w", err)
		}
		return fn(c)
	})
}

// scanRange calls fn for every item under prefix with a key in
// [start, end), in key order, in one snapshot; a nil end leaves only the
// prefix as the bound. It stops at the first error of fn (returned as is)
// or when ctx is done.
func (s *Store) scanRange(ctx context.Context, prefix, start, end []byte, fn func(*badger.Item) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = prefix
		o.PrefetchSize = scanPrefetch
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(start); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			if end != nil && bytes.Compare(item.Key(), end) >= 0 {
				return nil
			}
			if err := fn(item); err != nil {
				return err
			}
		}
		return nil
	})
}

// decode reads a record and checks it is the one its key names.
func (s *Store) decode(item *badger.Item, c *sip.Call) error {
	if err := s.readJSON(item, c); err != nil {
		return err
	}
	_, id, err := parseCallKey(item.Key())
	if err != nil {
		return err
	}
	if id != c.ID {
		return fmt.Errorf("%w: key %q holds id %q", ErrCorrupt, item.Key(), c.ID)
	}
	return nil
}
