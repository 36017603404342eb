package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Key prefixes of the recordings' bookkeeping: "keep/" + record id holds
// why a recording must survive retention (sampled, evaluated); "deleted/" +
// big-endian time + "/" + record id logs every recording deleted.
const (
	prefixKeep    = "keep/"
	prefixDeleted = "deleted/"
)

// Deletion records a recording removed by retention.
type Deletion struct {
	At       time.Time `json:"at"`
	RecordID string    `json:"record_id"`
	Path     string    `json:"path"`
	Bytes    int64     `json:"bytes"`
	Reason   string    `json:"reason"`
}

// SetKeep protects a record's recording from retention, with the reason
// (e.g. "sampled 2026-03"); an empty reason removes the protection.
func (s *Store) SetKeep(ctx context.Context, id, reason string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		k := append([]byte(prefixKeep), id...)
		if reason == "" {
			return txn.Delete(k)
		}
		return txn.Set(k, []byte(reason))
	})
	if err != nil {
		return fmt.Errorf("keep %s: %w", id, err)
	}
	return nil
}

// Kept returns why a record's recording is protected, "" if it is not.
func (s *Store) Kept(ctx context.Context, id string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var reason string
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(append([]byte(prefixKeep), id...))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		reason = string(v)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("kept %s: %w", id, err)
	}
	return reason, nil
}

// PutDeletions logs deleted recordings, durably, in one transaction.
func (s *Store) PutDeletions(ctx context.Context, ds []Deletion) error {
	if len(ds) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, d := range ds {
			if err := checkInvite(d.At); err != nil {
				return fmt.Errorf("deletion of %s: %w", d.RecordID, err)
			}
			v, err := json.Marshal(d)
			if err != nil {
				return err
			}
			k := append([]byte(prefixDeleted), binary.BigEndian.AppendUint64(nil, uint64(d.At.UnixNano()))...) //nolint:gosec // G115: checked above
			k = append(append(k, '/'), d.RecordID...)
			if err := txn.Set(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("log deletions: %w", err)
	}
	return nil
}

// Deletions calls fn with every logged deletion, oldest first.
func (s *Store) Deletions(ctx context.Context, fn func(Deletion) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixDeleted), PrefetchValues: true, PrefetchSize: scanPrefetch})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var d Deletion
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &d) }); err != nil {
				return fmt.Errorf("%w: deletion %q: %w", ErrCorrupt, it.Item().Key(), err)
			}
			if err := fn(d); err != nil {
				return err
			}
		}
		return nil
	})
}
