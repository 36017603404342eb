package access

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSessionLifetime(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// uses are the waits before each SessionUser; the last must fail.
		uses []time.Duration
		ok   int // how many of them succeed
	}{
		{"idle just under 12h", []time.Duration{12*time.Hour - time.Second}, 1},
		{"idle 12h", []time.Duration{12 * time.Hour}, 0},
		{"sliding", []time.Duration{11 * time.Hour, 11 * time.Hour, 11 * time.Hour, 12 * time.Hour}, 3},
		// Used every 11 h, it still ends 7 days after the login: the
		// 15th use is at 165 h, past 168 h there is no more.
		{"absolute", []time.Duration{
			11 * time.Hour, 11 * time.Hour, 11 * time.Hour, 11 * time.Hour, 11 * time.Hour,
			11 * time.Hour, 11 * time.Hour, 11 * time.Hour, 11 * time.Hour, 11 * time.Hour,
			11 * time.Hour, 11 * time.Hour, 11 * time.Hour, 11 * time.Hour, 11 * time.Hour, 3 * time.Hour,
		}, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.addUser(t, "ana", RoleTecnico)
			sess, err := f.s.Login(ctx, "ana", pw, "192.0.2.4")
			if err != nil {
				t.Fatal(err)
			}
			if !sess.Expires.Equal(t0.Add(DefaultSessionIdle)) || sess.User.Name != "ana" || sess.User.PasswordHash != "" {
				t.Fatalf("session %+v", sess)
			}
			for i, d := range tc.uses {
				f.clock.Advance(d)
				u, err := f.s.SessionUser(ctx, sess.Token)
				switch {
				case i < tc.ok && (err != nil || u.Name != "ana" || u.PasswordHash != ""):
					t.Fatalf("use %d at +%v: %+v, %v", i, f.clock.Now().Sub(t0), u, err)
				case i >= tc.ok && !errors.Is(err, ErrNoSession):
					t.Fatalf("use %d at +%v: %v, want ErrNoSession", i, f.clock.Now().Sub(t0), err)
				}
			}
			_, stored := f.kv.raw(prefixSession + tokenHash(sess.Token))
			if expired := tc.ok < len(tc.uses); stored == expired {
				t.Errorf("session stored %v, expired %v: an expired session is removed at its use", stored, expired)
			}
		})
	}
}

func TestSessionSlideWritesOncePerMinute(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	sess, _ := f.s.Login(ctx, "ana", pw, "")
	n := f.kv.setCount()
	for range 50 {
		f.clock.Advance(time.Second)
		if _, err := f.s.SessionUser(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
	}
	if w := f.kv.setCount() - n; w != 0 {
		t.Fatalf("%d writes in 50 s of use, want 0", w)
	}
	f.clock.Advance(10 * time.Second)
	for range 5 {
		if _, err := f.s.SessionUser(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
	}
	if w := f.kv.setCount() - n; w != 1 {
		t.Fatalf("%d writes at one minute, want 1", w)
	}
	v, _ := f.kv.raw(prefixSession + tokenHash(sess.Token))
	if want := t0.Add(time.Minute + DefaultSessionIdle).Format(time.RFC3339); !strings.Contains(string(v), want) {
		t.Fatalf("stored session %s, want expiry %s", v, want)
	}
}

func TestLogout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	sess, _ := f.s.Login(ctx, "ana", pw, "")
	if err := f.s.Logout(ctx, sess.Token, "192.0.2.8"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SessionUser(ctx, sess.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session after logout: %v", err)
	}
	if err := f.s.Logout(ctx, sess.Token, ""); !errors.Is(err, ErrNoSession) {
		t.Fatalf("second logout: %v", err)
	}
	es := f.entries(t)
	if e := es[len(es)-1]; e.Action != "logout" || e.Actor != "ana" || e.Remote != "192.0.2.8" {
		t.Fatalf("entry %+v", e)
	}
}

func TestSessionTokenMalformed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	sess, _ := f.s.Login(ctx, "ana", pw, "")
	api, _ := f.s.IssueToken(ctx, admin, "ana", "")
	n := f.kv.setCount()
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"short", sess.Token[:20]},
		{"long", sess.Token + "A"},
		{"not base64url", strings.Repeat("+", len(sess.Token))},
		{"API token as session", api},
		{"other token", strings.Repeat("A", len(sess.Token))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.s.SessionUser(ctx, tc.token); !errors.Is(err, ErrNoSession) {
				t.Fatalf("SessionUser = %v", err)
			}
			if err := f.s.Logout(ctx, tc.token, ""); !errors.Is(err, ErrNoSession) {
				t.Fatalf("Logout = %v", err)
			}
		})
	}
	if f.kv.setCount() != n {
		t.Fatal("bad tokens wrote to the store")
	}
}

func TestToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleJefe)
	tok, err := f.s.IssueToken(ctx, admin, "ana", "informe mensual")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "stt_") || len(tok) != 4+43 {
		t.Fatalf("token %q", tok)
	}
	u, err := f.s.TokenUser(ctx, tok)
	if err != nil || u.Name != "ana" || u.Role != RoleJefe || u.PasswordHash != "" {
		t.Fatalf("TokenUser = %+v, %v", u, err)
	}
	tok2, _ := f.s.IssueToken(ctx, admin, "ana", "")
	if tok2 == tok {
		t.Fatal("two tokens are equal")
	}
	sess, _ := f.s.Login(ctx, "ana", pw, "")
	for _, tc := range []struct {
		name string
		raw  string
	}{
		{"session token as API token", sess.Token},
		{"unknown", "stt_" + strings.Repeat("A", 43)},
		{"no prefix", tok[4:]},
		{"truncated", tok[:len(tok)-1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.s.TokenUser(ctx, tc.raw); !errors.Is(err, ErrNoSession) {
				t.Fatalf("TokenUser = %v, want ErrNoSession", err)
			}
		})
	}
	for _, tc := range []struct {
		name, user, label string
		want              error
	}{
		{"unknown user", "zoe", "", ErrNotFound},
		{"bad name", "Zoe", "", ErrName},
		{"long label", "ana", strings.Repeat("ñ", maxLabelLen+1), ErrLabel},
		{"control in label", "ana", "a\nb", ErrLabel},
		{"64 runes", "ana", strings.Repeat("ñ", maxLabelLen), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.s.IssueToken(ctx, admin, tc.user, tc.label); !errors.Is(err, tc.want) {
				t.Fatalf("IssueToken = %v, want %v", err, tc.want)
			}
		})
	}
	var issued []Entry
	for _, e := range f.entries(t) {
		if e.Action == "token_issued" {
			issued = append(issued, e)
		}
	}
	if len(issued) != 3 || issued[0].Target != "ana" || issued[0].Actor != "root" ||
		issued[0].Detail != "label informe mensual, id "+tokenHash(tok)[:12] {
		t.Fatalf("token_issued entries %+v", issued)
	}
}

// TestNoSecretStored scans every key and value for what would let a reader
// log in: passwords, raw tokens, or their base64 body.
func TestNoSecretStored(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	first, _, err := f.s.EnsureAdmin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{first, pw, "a new password", "wrong password"}
	f.addUser(t, "ana", RoleTecnico)
	if _, err := f.s.Login(ctx, "ana", "wrong password", ""); err == nil {
		t.Fatal("wrong password accepted")
	}
	sess, err := f.s.Login(ctx, "ana", pw, "")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)
	if _, err := f.s.SessionUser(ctx, sess.Token); err != nil { // writes the slid session
		t.Fatal(err)
	}
	if err := f.s.ChangePassword(ctx, Actor{Name: "ana"}, "ana", pw, "a new password"); err != nil {
		t.Fatal(err)
	}
	tok, err := f.s.IssueToken(ctx, admin, "ana", "script")
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, sess.Token, tok, tok[4:])
	dump := f.kv.dump()
	for _, sec := range secrets {
		for _, kv := range dump {
			if strings.Contains(kv, sec) {
				t.Errorf("the store holds the secret %q in %q", sec, kv)
			}
		}
	}
	joined := strings.Join(dump, "\n")
	for _, want := range []string{prefixSession + tokenHash(sess.Token), prefixToken + tokenHash(tok), "$argon2id$v=19$"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the store does not hold %q", want)
		}
	}
}

func TestRunPurgesSessions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	old, _ := f.s.Login(ctx, "ana", pw, "")
	f.clock.Advance(11 * time.Hour)
	fresh, _ := f.s.Login(ctx, "ana", pw, "")
	f.kv.put(prefixSession+"garbage", []byte("{"))
	f.clock.Advance(2 * time.Hour) // old is 13 h idle, fresh 2 h
	f.s.purgeEvery = time.Millisecond
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.s.Run(rctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, a := f.kv.raw(prefixSession + tokenHash(old.Token))
		_, b := f.kv.raw(prefixSession + "garbage")
		if !a && !b {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not purge the expired session")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil on cancel", err)
	}
	if _, ok := f.kv.raw(prefixSession + tokenHash(fresh.Token)); !ok {
		t.Fatal("Run purged a live session")
	}
}
