package access

import (
	"context"
	"fmt"
)

// KV is the store the service keeps its records in; *storage.Bucket
// satisfies it. Declared here, by its consumer, so that access imports no
// storage: Batch takes plain slices where storage's Apply takes its own Op.
type KV interface {
	// Get returns a copy of the value under key; ok is false when there is
	// none.
	Get(ctx context.Context, key []byte) (val []byte, ok bool, err error)
	// Set stores val under key, durably when it returns.
	Set(ctx context.Context, key, val []byte) error
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key []byte) error
	// Scan calls fn for each key with the prefix in key order from one
	// snapshot; key and val are valid only during fn. It returns fn's
	// first error as is.
	Scan(ctx context.Context, prefix []byte, fn func(key, val []byte) error) error
	// Batch stores every (key, value) of set, then removes every key of
	// del, in one durable transaction: all or nothing.
	Batch(ctx context.Context, set [][2][]byte, del [][]byte) error
}

// Key layout inside the bucket. "audit-head" sorts before "audit/" ('-' <
// '/'), so one Scan of "audit" reads the head and the entries from one
// snapshot.
const (
	prefixUser    = "user/"
	prefixSession = "session/"
	prefixToken   = "token/"
	prefixAudit   = "audit/"
	keyAuditHead  = "audit-head"
	prefixChain   = "audit"
)

func userKey(name string) []byte { return []byte(prefixUser + name) }

func sessionKey(hash string) []byte { return []byte(prefixSession + hash) }

func tokenKey(hash string) []byte { return []byte(prefixToken + hash) }

// auditKey is "audit/" and seq in 16 hex digits, so key order is seq order.
func auditKey(seq uint64) []byte { return fmt.Appendf(nil, "%s%016x", prefixAudit, seq) }

// batch collects the writes of one transaction.
type batch struct {
	set [][2][]byte
	del [][]byte
}

func (b *batch) put(k, v []byte) { b.set = append(b.set, [2][]byte{k, v}) }

func (b *batch) remove(k []byte) { b.del = append(b.del, k) }
