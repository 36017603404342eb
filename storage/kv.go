package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// prefixKV starts the keys of every bucket: "kv/<ns>/<key>". It shares no
// prefix with the call records' "call/", "callid/", "keep/" or "deleted/",
// so neither kind of scan can see the other's keys.
const prefixKV = "kv/"

const (
	// maxNamespaceLen bounds a bucket's name; names are short words
	// ("access", "report").
	maxNamespaceLen = 64
	// maxKVKeyLen bounds a bucket key, far below badger's 65000 bytes.
	maxKVKeyLen = 1024
)

// Bucket is a namespaced key/value space in the store, for the small
// records of other packages (accounts, sessions, the audit chain). Its
// methods are safe for concurrent use; writes share the store's writer
// lock and are synced to disk before they return.
type Bucket struct {
	s      *Store
	prefix []byte
	err    error
}

// Op is one write of Apply: Val is stored under Key, or Key is removed when
// Delete is set.
type Op struct {
	Key, Val []byte
	Delete   bool
}

// KV returns the bucket named ns; its keys live under "kv/<ns>/" apart from
// the call records. A name that is empty, longer than 64 bytes or not made
// of [a-z0-9._-] gives a bucket whose every method returns ErrNamespace:
// a '/' in the name would let one bucket see into another.
func (s *Store) KV(ns string) *Bucket {
	b := &Bucket{s: s, prefix: []byte(prefixKV + ns + "/")}
	if err := checkNamespace(ns); err != nil {
		b.err = err
	}
	return b
}

// checkNamespace validates a bucket name.
func checkNamespace(ns string) error {
	if ns == "" || len(ns) > maxNamespaceLen {
		return fmt.Errorf("%w: %q", ErrNamespace, ns)
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%w: %q", ErrNamespace, ns)
		}
	}
	return nil
}

// key returns the store key of a bucket key.
func (b *Bucket) key(k []byte) ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	if len(k) == 0 || len(k) > maxKVKeyLen {
		return nil, fmt.Errorf("%w: %d bytes", ErrKey, len(k))
	}
	full := make([]byte, 0, len(b.prefix)+len(k))
	full = append(full, b.prefix...)
	return append(full, k...), nil
}

// Get returns a copy of the value stored under key; ok is false when there
// is none.
func (b *Bucket) Get(ctx context.Context, key []byte) (val []byte, ok bool, err error) {
	k, err := b.key(key)
	if err != nil {
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	err = b.s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(k)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		if err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("get %q: %w", k, err)
	}
	if ok && val == nil {
		// An empty value is still a value: ok and a non-nil slice agree.
		val = []byte{}
	}
	return val, ok, nil
}

// Set stores val under key; it is durable when Set returns.
func (b *Bucket) Set(ctx context.Context, key, val []byte) error {
	return b.Apply(ctx, []Op{{Key: key, Val: val}})
}

// Delete removes key; removing a missing key is not an error.
func (b *Bucket) Delete(ctx context.Context, key []byte) error {
	return b.Apply(ctx, []Op{{Key: key, Delete: true}})
}

// Apply writes every op in one transaction and one sync: all or nothing.
// Ops apply in order, so a later op on the same key wins. A batch too large
// for one badger transaction fails whole (badger.ErrTxnTooBig, wrapped)
// rather than being split, which would break the all or nothing.
func (b *Bucket) Apply(ctx context.Context, ops []Op) error {
	if b.err != nil {
		return b.err
	}
	if len(ops) == 0 {
		return nil
	}
	keys := make([][]byte, len(ops))
	for i, op := range ops {
		k, err := b.key(op.Key)
		if err != nil {
			return fmt.Errorf("op %d: %w", i, err)
		}
		keys[i] = k
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.s.wmu.Lock()
	defer b.s.wmu.Unlock()
	err := b.s.db.Update(func(txn *badger.Txn) error {
		for i, op := range ops {
			var err error
			if op.Delete {
				err = txn.Delete(keys[i])
			} else {
				// badger holds op.Val only until the commit, which
				// completes before Apply returns.
				err = txn.Set(keys[i], op.Val)
			}
			if err != nil {
				return fmt.Errorf("key %q: %w", keys[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %d ops in %s: %w", len(ops), b.prefix, err)
	}
	return nil
}

// Batch is Apply for callers that cannot name Op (package access declares
// its own store interface and imports no storage): every pair of set is
// stored (key, value), then every key of del is removed, in one
// transaction.
func (b *Bucket) Batch(ctx context.Context, set [][2][]byte, del [][]byte) error {
	ops := make([]Op, 0, len(set)+len(del))
	for _, kv := range set {
		ops = append(ops, Op{Key: kv[0], Val: kv[1]})
	}
	for _, k := range del {
		ops = append(ops, Op{Key: k, Delete: true})
	}
	return b.Apply(ctx, ops)
}

// Scan calls fn for each key with the prefix, in key order, from one
// snapshot. Keys are given without the bucket's "kv/<ns>/"; key and val are
// only valid during fn. It stops at fn's first error (returned as is) or
// when ctx is done. An empty prefix scans the whole bucket.
func (b *Bucket) Scan(ctx context.Context, prefix []byte, fn func(key, val []byte) error) error {
	if b.err != nil {
		return b.err
	}
	if len(prefix) > maxKVKeyLen {
		return fmt.Errorf("%w: prefix of %d bytes", ErrKey, len(prefix))
	}
	full := make([]byte, 0, len(b.prefix)+len(prefix))
	full = append(full, b.prefix...)
	full = append(full, prefix...)
	n := len(b.prefix)
	var fnErr error
	err := b.s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = full
		o.PrefetchSize = scanPrefetch
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(full); it.ValidForPrefix(full); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			k := item.Key()[n:]
			err := item.Value(func(v []byte) error {
				if err := fn(k, v); err != nil {
					fnErr = err
					return err
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("scan %q: %w", full, err)
	}
	return err
}
