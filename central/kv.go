package central

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchtap/switchtap/access"
)

// KV is access.KV over the kv table: one namespace of keys, bytea
// compared byte by byte as Scan's order requires.
type KV struct {
	pool *pgxpool.Pool
	ns   string
}

var _ access.KV = (*KV)(nil)

// NewKV returns the store of namespace ns.
func NewKV(pool *pgxpool.Pool, ns string) *KV { return &KV{pool: pool, ns: ns} }

// Get returns the value under key.
func (k *KV) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	var v []byte
	err := k.pool.QueryRow(ctx, "SELECT val FROM kv WHERE ns = $1 AND key = $2", k.ns, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("kv get: %w", err)
	}
	return v, true, nil
}

// Set stores val under key.
func (k *KV) Set(ctx context.Context, key, val []byte) error {
	if _, err := k.pool.Exec(ctx, setSQL, k.ns, key, val); err != nil {
		return fmt.Errorf("kv set: %w", err)
	}
	return nil
}

const setSQL = "INSERT INTO kv (ns, key, val) VALUES ($1, $2, $3) ON CONFLICT (ns, key) DO UPDATE SET val = EXCLUDED.val"

// Delete removes key.
func (k *KV) Delete(ctx context.Context, key []byte) error {
	if _, err := k.pool.Exec(ctx, "DELETE FROM kv WHERE ns = $1 AND key = $2", k.ns, key); err != nil {
		return fmt.Errorf("kv delete: %w", err)
	}
	return nil
}

// Scan calls fn for each key with the prefix in key order. The rows are
// read first (one statement is one snapshot), so fn may use the store.
func (k *KV) Scan(ctx context.Context, prefix []byte, fn func(key, val []byte) error) error {
	sql, args := "SELECT key, val FROM kv WHERE ns = $1 AND key >= $2", []any{k.ns, prefix}
	if end, ok := prefixEnd(prefix); ok {
		sql, args = sql+" AND key < $3", append(args, end)
	}
	rows, err := k.pool.Query(ctx, sql+" ORDER BY key", args...)
	if err != nil {
		return fmt.Errorf("kv scan: %w", err)
	}
	type kvRow struct{ k, v []byte }
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kvRow, error) {
		var x kvRow
		err := r.Scan(&x.k, &x.v)
		return x, err
	})
	if err != nil {
		return fmt.Errorf("kv scan: %w", err)
	}
	for _, x := range all {
		if err := fn(x.k, x.v); err != nil {
			return err
		}
	}
	return nil
}

// prefixEnd is the least key greater than every key with the prefix;
// ok is false when there is none (empty or all 0xff).
func prefixEnd(p []byte) ([]byte, bool) {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1], true
		}
	}
	return nil, false
}

// Batch applies set then del in one transaction.
func (k *KV) Batch(ctx context.Context, set [][2][]byte, del [][]byte) error {
	err := pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, kv := range set {
			b.Queue(setSQL, k.ns, kv[0], kv[1])
		}
		for _, key := range del {
			b.Queue("DELETE FROM kv WHERE ns = $1 AND key = $2", k.ns, key)
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("kv batch: %w", err)
	}
	return nil
}
