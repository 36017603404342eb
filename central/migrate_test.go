package central

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchtap/switchtap/internal/pgtest"
)

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	t.Parallel()
	c := pgtest.Need(t, cluster)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Run("twice", func(t *testing.T) {
		pool, err := pgxpool.New(ctx, c.DB(t))
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		for i := range 2 {
			if err := Migrate(ctx, pool); err != nil {
				t.Fatalf("run %d: %v", i+1, err)
			}
		}
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(ms) {
			t.Fatalf("%d migrations recorded, %d embedded", n, len(ms))
		}
	})
	t.Run("concurrently", func(t *testing.T) {
		// Without the advisory lock, two CREATE TABLE boxes race and one
		// start fails.
		u := c.DB(t)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				pool, err := pgxpool.New(ctx, u)
				if err != nil {
					errs <- err
					return
				}
				defer pool.Close()
				errs <- Migrate(ctx, pool)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("server restart", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		e.s.Close()
		s, err := New(ctx, e.s.cfg, discard())
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	})
}
