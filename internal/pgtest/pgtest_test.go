package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

var shared *Cluster

func TestMain(m *testing.M) { os.Exit(Main(m, func(c *Cluster) { shared = c })) }

// query returns the integer answer of sql on the database at u.
func query(t *testing.T, u, sql string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFreshDatabases(t *testing.T) {
	c := Need(t, shared)
	a, b := c.DB(t), c.DB(t)
	if a == b {
		t.Fatalf("same URL twice: %s", a)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE x (n int)"); err != nil {
		t.Fatal(err)
	}
	if n := query(t, b, "SELECT count(*) FROM pg_tables WHERE tablename = 'x'"); n != 0 {
		t.Fatalf("table of database a visible in b: %d", n)
	}
}

func TestRestartKeepsData(t *testing.T) {
	if shared == nil {
		Need(t, shared)
	}
	c := New(t)
	u := c.DB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE x (n int); INSERT INTO x VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	c.Stop()
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("ping succeeded on a stopped cluster")
	}
	_ = conn.Close(ctx)
	if _, err := pgx.Connect(ctx, u); err == nil {
		t.Fatal("connected to a stopped cluster")
	}
	if err := c.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if n := query(t, u, "SELECT n FROM x"); n != 7 {
		t.Fatalf("after restart: %d, want 7", n)
	}
}
