package access_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/storage"
)

// The real store's bucket is an access.KV, with no adapter between.
var _ access.KV = (*storage.Bucket)(nil)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func tiny() access.ArgonParams {
	return access.ArgonParams{Time: 1, MemoryKiB: 8, Threads: 1, KeyLen: 16, SaltLen: 8}
}

func openStore(t testing.TB, dir string) *storage.Store {
	t.Helper()
	st, err := storage.Open(dir, storage.WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestOverStore runs the life of an account over the real badger store,
// across a restart, and tampers with the chain through the bucket.
func TestOverStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	cfg := access.Config{Now: func() time.Time { return now }, Sleep: func(time.Duration) {}, Argon: tiny()}

	st := openStore(t, dir)
	s, err := access.New(st.KV("access"), cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	first, created, err := s.EnsureAdmin(ctx)
	if err != nil || !created {
		t.Fatalf("EnsureAdmin = %v, %v", created, err)
	}
	admin := access.Actor{Name: "admin", Remote: "192.0.2.1"}
	if err := s.AddUser(ctx, admin, "ana", access.RoleTecnico, "una clave larga"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "ana", "no es la clave", "192.0.2.5"); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("bad Login = %v", err)
	}
	sess, err := s.Login(ctx, "ana", "una clave larga", "192.0.2.5")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.IssueToken(ctx, admin, "ana", "script")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Audit(ctx, access.Entry{Actor: "ana", Action: "recording_play", Target: "c1", Remote: "192.0.2.5"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// After a restart everything is there and the chain goes on.
	st = openStore(t, dir)
	b := st.KV("access")
	s, err = access.New(b, cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	if _, created, _ := s.EnsureAdmin(ctx); created {
		t.Fatal("EnsureAdmin created a second admin after restart")
	}
	if u, err := s.SessionUser(ctx, sess.Token); err != nil || u.Name != "ana" {
		t.Fatalf("SessionUser after restart = %+v, %v", u, err)
	}
	if u, err := s.TokenUser(ctx, tok); err != nil || u.Name != "ana" {
		t.Fatalf("TokenUser after restart = %+v, %v", u, err)
	}
	e, err := s.Audit(ctx, access.Entry{Actor: "ana", Action: "export_calls"})
	if err != nil || e.Seq != 7 {
		t.Fatalf("Audit after restart = seq %d, %v; want 7", e.Seq, err)
	}
	rep, err := s.Verify(ctx)
	if err != nil || len(rep.Problems) != 0 || rep.Entries != 7 || rep.Head != e.Hash {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	var acts []string
	err = s.AuditRange(ctx, now, now.Add(time.Second), func(e access.Entry) error {
		acts = append(acts, e.Action)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(acts, " "); got != "user_added user_added login_failed login token_issued recording_play export_calls" {
		t.Fatalf("audit %s", got)
	}

	// Nothing in the bucket lets a reader log in.
	err = b.Scan(ctx, nil, func(k, v []byte) error {
		for _, sec := range []string{first, "una clave larga", "no es la clave", sess.Token, tok, tok[4:]} {
			if strings.Contains(string(k), sec) || strings.Contains(string(v), sec) {
				t.Errorf("%s holds a secret", k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Tampering through the store is found.
	if err := b.Delete(ctx, []byte("audit/0000000000000003")); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, []byte("audit/0000000000000007")); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rep.Problems); got != "[{3 entry 3 missing} {7 entry 7 missing: the head names it}]" {
		t.Fatalf("problems %s", got)
	}
}

// TestConcurrentAppends appends from many goroutines over the real store:
// seqs stay 1..n without a hole and the chain verifies.
func TestConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	s, err := access.New(st.KV("access"), access.Config{Argon: tiny()}, discard())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				if _, err := s.Audit(ctx, access.Entry{Actor: fmt.Sprint("g", g), Action: "recording_play", Target: fmt.Sprint(i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	rep, err := s.Verify(ctx)
	if err != nil || rep.Entries != 80 || len(rep.Problems) != 0 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

func BenchmarkSessionUser(b *testing.B) {
	ctx := context.Background()
	st := openStore(b, b.TempDir())
	s, err := access.New(st.KV("access"), access.Config{Argon: tiny()}, discard())
	if err != nil {
		b.Fatal(err)
	}
	if err := s.AddUser(ctx, access.Actor{Name: "bench"}, "ana", access.RoleTecnico, "una clave larga"); err != nil {
		b.Fatal(err)
	}
	sess, err := s.Login(ctx, "ana", "una clave larga", "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SessionUser(ctx, sess.Token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAudit(b *testing.B) {
	ctx := context.Background()
	st := openStore(b, b.TempDir())
	s, err := access.New(st.KV("access"), access.Config{Argon: tiny()}, discard())
	if err != nil {
		b.Fatal(err)
	}
	e := access.Entry{Actor: "ana", Action: "recording_play", Target: "20260302T080000-a84b4c76e66710", Remote: "192.0.2.5"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Audit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}
