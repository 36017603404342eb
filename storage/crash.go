package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchtap/switchtap/sip"
)

// prefixOpen holds the provisional records of calls in progress:
// open/<id> -> record (JSON of sip.Call). They are kept apart from the
// call/ records, so that readers (the API, reports, `calls`) see only
// records of calls that ended, as before; the final record, stored in the
// same transaction that deletes the provisional one, replaces it. After a
// crash, what is left under open/ is exactly the calls whose end was never
// stored, found without a scan of every record.
const prefixOpen = "open/"

func openKey(id string) []byte { return append([]byte(prefixOpen), id...) }

// PutProgress stores, in one transaction and one sync, the provisional
// records of calls still in progress (open, kept under open/ and not seen
// by Call, Calls or CallByCallID) and final records (done, stored as by
// PutCalls, each deleting its call's provisional record). A done record is
// applied after the open ones, so it wins over an open record with the
// same id in the batch. A batch too large for one badger transaction is
// split, each record staying whole.
func (s *Store) PutProgress(ctx context.Context, open, done []sip.Call) error {
	if len(open)+len(done) == 0 {
		return nil
	}
	cs := make([]sip.Call, 0, len(open)+len(done))
	cs = append(append(cs, open...), done...)
	vals, err := s.encodeCalls(cs)
	if err != nil {
		return err
	}
	for i := range open {
		vals[i].open = true
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.putProgress(cs, vals)
}

// progressVal is a record as stored by PutProgress: open ones go under
// open/.
type progressVal struct {
	encoded
	open bool
}

// encodeCalls checks and encodes records as PutCalls does.
func (s *Store) encodeCalls(cs []sip.Call) ([]progressVal, error) {
	vals := make([]progressVal, len(cs))
	for i := range cs {
		var err error
		if vals[i].encoded, err = s.encodeCall(&cs[i]); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// putProgress writes one transaction, halving it if badger finds it too
// big; the halves keep the batch's order, so a done record still comes
// after an open one of the same id.
func (s *Store) putProgress(cs []sip.Call, vals []progressVal) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		for i := range cs {
			if vals[i].open {
				// Its SIP messages go with the final record.
				if err := txn.Set(openKey(cs[i].ID), vals[i].rec); err != nil {
					return fmt.Errorf("write call in progress %s: %w", cs[i].ID, err)
				}
				continue
			}
			if err := s.putTxn(txn, &cs[i], vals[i].encoded); err != nil {
				return err
			}
			if err := txn.Delete(openKey(cs[i].ID)); err != nil {
				return fmt.Errorf("delete call in progress %s: %w", cs[i].ID, err)
			}
		}
		return nil
	})
	if errors.Is(err, badger.ErrTxnTooBig) && len(cs) > 1 {
		h := len(cs) / 2
		if err := s.putProgress(cs[:h], vals[:h]); err != nil {
			return err
		}
		return s.putProgress(cs[h:], vals[h:])
	}
	if err != nil {
		return fmt.Errorf("write %d calls: %w", len(cs), err)
	}
	s.written.Add(uint64(len(cs)))
	return nil
}

// InProgress returns the provisional records still stored: after a
// crash, the calls whose end was never stored, to be closed and stored with
// PutProgress as done. One whose call has a final record already (stored by
// PutCalls, which leaves open/ alone) is deleted, not returned.
func (s *Store) InProgress(ctx context.Context) ([]sip.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []sip.Call
	var stale [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte(prefixOpen)
		o.PrefetchSize = scanPrefetch
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			id := string(item.Key()[len(prefixOpen):])
			switch _, err := txn.Get(indexKey(id)); {
			case err == nil:
				stale = append(stale, item.KeyCopy(nil))
				continue
			case !errors.Is(err, badger.ErrKeyNotFound):
				return fmt.Errorf("read index of %s: %w", id, err)
			}
			var c sip.Call
			if err := s.readJSON(item, &c); err != nil {
				return fmt.Errorf("call in progress %q: %w", id, err)
			}
			if c.ID != id {
				return fmt.Errorf("%w: key %q holds id %q", ErrCorrupt, item.Key(), c.ID)
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan calls in progress: %w", err)
	}
	if len(stale) > 0 {
		s.wmu.Lock()
		defer s.wmu.Unlock()
		err := s.db.Update(func(txn *badger.Txn) error {
			for _, k := range stale {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("delete %d calls in progress already ended: %w", len(stale), err)
		}
	}
	return out, nil
}
