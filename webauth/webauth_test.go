package webauth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/web"
)

func newAuth(t *testing.T, ops Operators) (web.Auth, *access.Service) {
	t.Helper()
	st, err := storage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	acc, err := access.New(st.KV("access"), access.Config{Sleep: func(_ time.Duration) {},
		Argon: access.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return New(acc, ops), acc
}

// TestAuth: access's errors become web's, a recepcionista's principal
// carries its receptionist, and an account is tied only to a listed one.
func TestAuth(t *testing.T) {
	ctx := context.Background()
	a, _ := newAuth(t, Fixed([]string{"Rosa Peña"}))
	admin := web.Principal{Name: "admin", Role: web.RoleAdmin}
	if err := a.AddUser(ctx, admin, "rosa", web.RoleRecepcionista, "una clave bastante larga"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"bad role", a.AddUser(ctx, admin, "x", "root", "una clave bastante larga"), web.ErrInvalid},
		{"exists", a.AddUser(ctx, admin, "rosa", web.RoleTecnico, "una clave bastante larga"), web.ErrExists},
		{"weak password", a.AddUser(ctx, admin, "bea", web.RoleTecnico, "corta"), web.ErrInvalid},
		{"unknown user", a.SetRole(ctx, admin, "nadie", web.RoleJefe), web.ErrNotFound},
		{"not a receptionist", a.SetOperator(ctx, admin, "rosa", "Otra"), web.ErrInvalid},
		{"tie", a.SetOperator(ctx, admin, "rosa", "Rosa Peña"), nil},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if _, err := a.Login(ctx, "rosa", "otra clave", "127.0.0.1"); !errors.Is(err, web.ErrBadLogin) {
		t.Errorf("wrong password: %v", err)
	}
	s, err := a.Login(ctx, "rosa", "una clave bastante larga", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Principal.Role != web.RoleRecepcionista || s.Principal.Operator != "Rosa Peña" {
		t.Errorf("principal %+v", s.Principal)
	}
	p, err := a.Session(ctx, s.Token)
	if err != nil || p.Operator != "Rosa Peña" || p.Via != "session" {
		t.Errorf("session %+v, %v", p, err)
	}
	us, err := a.Users(ctx)
	if err != nil || len(us) != 1 || us[0].Operator != "Rosa Peña" {
		t.Errorf("users %+v, %v", us, err)
	}
	// A failing list of receptionists fails the change, not silently.
	boom := errors.New("base de datos caída")
	b, _ := newAuth(t, func(context.Context) ([]string, error) { return nil, boom })
	if err := b.AddUser(ctx, admin, "rosa", web.RoleRecepcionista, "una clave bastante larga"); err != nil {
		t.Fatal(err)
	}
	if err := b.SetOperator(ctx, admin, "rosa", "Rosa"); !errors.Is(err, boom) {
		t.Errorf("operators failing: %v", err)
	}
}
