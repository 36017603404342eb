package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestFailDelay(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{0, 250 * time.Millisecond},
		{1, 250 * time.Millisecond},
		{2, 500 * time.Millisecond},
		{3, time.Second},
		{4, 2 * time.Second},
		{5, 4 * time.Second},
		{6, 4 * time.Second},
		{64, 4 * time.Second},
		{math.MaxInt, 4 * time.Second},
	} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			if got := failDelay(tc.n); got != tc.want {
				t.Fatalf("failDelay(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

func TestLoginSlowdown(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.MaxFailures = 100 })
	f.addUser(t, "ana", RoleTecnico)
	if _, err := f.s.Login(ctx, "ana", pw, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.slept.take(); len(got) != 0 {
		t.Fatalf("a good login slept %v", got)
	}
	for range 7 {
		if _, err := f.s.Login(ctx, "ana", "wrong password", ""); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("Login = %v, want ErrBadLogin", err)
		}
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	if got := f.slept.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sleeps %v, want %v", got, want)
	}
	// A good login resets the count.
	if _, err := f.s.Login(ctx, "ana", pw, ""); err != nil {
		t.Fatal(err)
	}
	_, _ = f.s.Login(ctx, "ana", "wrong password", "")
	if got := f.slept.take(); fmt.Sprint(got) != "[250ms]" {
		t.Fatalf("sleep after a good login %v, want [250ms]", got)
	}
}

func TestLoginLockout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	for i := 1; i <= 4; i++ {
		if _, err := f.s.Login(ctx, "ana", "wrong password", "198.51.100.5"); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err := f.s.Login(ctx, "ana", "wrong password", "198.51.100.5")
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || errors.Is(err, ErrBadLogin) {
		t.Fatalf("fifth failure = %v, want a *LockedError", err)
	}
	if want := t0.Add(DefaultLockFor); !le.Until.Equal(want) {
		t.Fatalf("locked until %v, want %v", le.Until, want)
	}
	hashes := f.s.hashes.Load()
	f.clock.Advance(DefaultLockFor - time.Second)
	for _, p := range []string{pw, "wrong password"} {
		if _, err := f.s.Login(ctx, "ana", p, ""); !errors.As(err, &le) || !le.Until.Equal(t0.Add(DefaultLockFor)) {
			t.Fatalf("Login(%q) while locked = %v, want a *LockedError", p, err)
		}
	}
	if f.s.hashes.Load() != hashes {
		t.Error("a locked account's password was checked: argon2 ran")
	}
	f.clock.Advance(time.Second)
	sess, err := f.s.Login(ctx, "ana", pw, "")
	if err != nil {
		t.Fatalf("Login after LockFor = %v", err)
	}
	if sess.User.Failures != 0 || !sess.User.LockedUntil.IsZero() || !sess.User.LastLogin.Equal(t0.Add(DefaultLockFor)) {
		t.Fatalf("user after unlock %+v", sess.User)
	}
	got := strings.Join(actions(f.entries(t), 1), " ")
	want := "login_failed login_failed login_failed login_failed login_failed login_locked login_locked login_locked login"
	if got != want {
		t.Fatalf("audit\n%s\nwant\n%s", got, want)
	}
	es := f.entries(t)
	if e := es[5]; e.Detail != "bad password, failure 5" || e.Remote != "198.51.100.5" || e.Target != "ana" {
		t.Errorf("fifth failure entry %+v", e)
	}
	if e := es[6]; !strings.HasPrefix(e.Detail, "5 failures, locked until 2026-03-02T08:15:00Z") {
		t.Errorf("lock entry %+v", e)
	}
}

func TestLockExpiryRestartsCount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.MaxFailures = 2 })
	f.addUser(t, "ana", RoleTecnico)
	for range 2 {
		_, _ = f.s.Login(ctx, "ana", "wrong password", "")
	}
	f.clock.Advance(DefaultLockFor)
	f.slept.take()
	// After the lock one failure is one failure, not a new lock.
	if _, err := f.s.Login(ctx, "ana", "wrong password", ""); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("first failure after the lock = %v, want ErrBadLogin", err)
	}
	if got := f.slept.take(); fmt.Sprint(got) != "[250ms]" {
		t.Fatalf("sleep %v, want [250ms]", got)
	}
}

// loginTrace is what a caller can observe of a run of logins.
func loginTrace(t *testing.T, f *fixture, name string, n int) []string {
	t.Helper()
	var tr []string
	for range n {
		before := f.s.hashes.Load()
		_, err := f.s.Login(context.Background(), name, "wrong password", "")
		var le *LockedError
		msg := fmt.Sprint(err)
		if errors.As(err, &le) {
			msg = fmt.Sprintf("locked %v", le.Until.Sub(f.clock.Now()))
		} else if err != ErrBadLogin { //nolint:errorlint // the very same value, unwrapped, for both cases
			t.Fatalf("Login(%s) = %#v, want ErrBadLogin itself", name, err)
		}
		tr = append(tr, fmt.Sprintf("%s sleep %v argon2 %d", msg, f.slept.take(), f.s.hashes.Load()-before))
	}
	return tr
}

func TestUnknownNameIndistinguishable(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	known := loginTrace(t, f, "ana", 7)
	unknown := loginTrace(t, f, "zoe", 7)
	if fmt.Sprint(known) != fmt.Sprint(unknown) {
		t.Fatalf("known name:\n%v\nunknown name:\n%v", strings.Join(known, "\n"), strings.Join(unknown, "\n"))
	}
	if !strings.HasPrefix(known[0], "bad name or password sleep [250ms] argon2 1") || !strings.HasPrefix(known[4], "locked 15m0s") {
		t.Fatalf("trace %v", known)
	}
	// Both unlock after LockFor.
	f.clock.Advance(DefaultLockFor)
	if a, z := loginTrace(t, f, "ana", 1), loginTrace(t, f, "zoe", 1); a[0] != z[0] || !strings.HasPrefix(a[0], "bad name") {
		t.Fatalf("after the lock: %v vs %v", a, z)
	}
	// A disabled account answers the same, even to its right password.
	f.addUser(t, "bea", RoleTecnico)
	f.addUser(t, "root", RoleAdmin)
	if err := f.s.SetDisabled(context.Background(), admin, "bea", true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Login(context.Background(), "bea", pw, ""); err != ErrBadLogin { //nolint:errorlint // the very same value
		t.Fatalf("disabled Login = %v", err)
	}
	// A name that cannot exist too.
	if _, err := f.s.Login(context.Background(), "../../etc", pw, ""); err != ErrBadLogin { //nolint:errorlint // the very same value
		t.Fatalf("invalid name Login = %v", err)
	}
	last := f.entries(t)
	if e := last[len(last)-1]; e.Action != "login_failed" || e.Detail != "unknown user, failure 1" {
		t.Errorf("entry of the invalid name %+v", e)
	}
}

func TestGhostsBounded(t *testing.T) {
	var g ghosts
	g.m = make(map[string]*ghost)
	for i := range maxGhosts + 10 {
		g.fail(fmt.Sprintf("u%d", i), t0, 5, time.Minute)
	}
	if len(g.m) > maxGhosts {
		t.Fatalf("%d ghosts kept, bound %d", len(g.m), maxGhosts)
	}
	if n, _, _ := g.fail("x", t0, 5, time.Minute); n != 1 {
		t.Fatal(n)
	}
	g.prune(t0.Add(25 * time.Hour))
	if len(g.m) != 0 {
		t.Fatalf("%d ghosts after a quiet day", len(g.m))
	}
	if n, _, _ := g.fail("Not A Name", t0, 5, time.Minute); n != 1 || len(g.m) != 0 {
		t.Fatal("an invalid name was remembered")
	}
}

func TestDisabledUser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "root", RoleAdmin)
	f.addUser(t, "ana", RoleTecnico)
	f.addUser(t, "bea", RoleTecnico)
	s1, err := f.s.Login(ctx, "ana", pw, "")
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := f.s.Login(ctx, "ana", pw, "")
	other, _ := f.s.Login(ctx, "bea", pw, "")
	tok, err := f.s.IssueToken(ctx, admin, "ana", "cron")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetDisabled(ctx, admin, "ana", true); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{s1.Token, s2.Token} {
		if _, err := f.s.SessionUser(ctx, tk); !errors.Is(err, ErrNoSession) {
			t.Errorf("session of a disabled user: %v", err)
		}
	}
	if _, err := f.s.TokenUser(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("token of a disabled user: %v", err)
	}
	if _, err := f.s.SessionUser(ctx, other.Token); err != nil {
		t.Errorf("another user's session died: %v", err)
	}
	for _, p := range []string{prefixSession + tokenHash(s1.Token), prefixSession + tokenHash(s2.Token), prefixToken + tokenHash(tok)} {
		if _, ok := f.kv.raw(p); ok {
			t.Errorf("%s still stored", p)
		}
	}
	if _, err := f.s.Login(ctx, "ana", pw, ""); !errors.Is(err, ErrBadLogin) {
		t.Errorf("disabled Login = %v", err)
	}
	es := f.entries(t)
	var dis Entry
	for _, e := range es {
		if e.Action == "user_disabled" {
			dis = e
		}
	}
	if dis.Target != "ana" || dis.Detail != "3 sessions and tokens ended" {
		t.Errorf("user_disabled entry %+v", dis)
	}
	// Enabled again: the old sessions and token stay dead, a new login
	// works.
	if err := f.s.SetDisabled(ctx, admin, "ana", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SessionUser(ctx, s1.Token); !errors.Is(err, ErrNoSession) {
		t.Errorf("old session back after enabling: %v", err)
	}
	if _, err := f.s.TokenUser(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("old token back after enabling: %v", err)
	}
	if _, err := f.s.Login(ctx, "ana", pw, ""); err != nil {
		t.Errorf("Login after enabling: %v", err)
	}
}

func TestRehashOnLogin(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	stronger := tinyArgon
	stronger.Time, stronger.KeyLen = 2, 32
	s2, err := New(f.kv, Config{Now: f.clock.Now, Sleep: f.slept.Sleep, Argon: stronger}, discard())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Login(ctx, "ana", pw, ""); err != nil {
		t.Fatal(err)
	}
	v, _ := f.kv.raw(prefixUser + "ana")
	if !strings.Contains(string(v), "$argon2id$v=19$m=8,t=2,p=1$") {
		t.Fatalf("hash not renewed under the new parameters: %s", v)
	}
	if _, err := s2.Login(ctx, "ana", pw, ""); err != nil {
		t.Fatalf("login with the renewed hash: %v", err)
	}
}

func TestLoginCancelled(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.s.Login(ctx, "ana", pw, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Login = %v, want context.Canceled", err)
	}
	if u, _ := f.s.User(context.Background(), "ana"); u.Failures != 0 {
		t.Fatal("a cancelled login counted as a failure")
	}
}

func TestHashersBounded(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	// Both slots taken: a login waits for one, here until its deadline,
	// and counts no failure.
	for range maxHashers {
		f.s.hashers <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := f.s.Login(ctx, "ana", pw, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Login with no free hasher = %v, want context.DeadlineExceeded", err)
	}
	for range maxHashers {
		<-f.s.hashers
	}
	if _, err := f.s.Login(context.Background(), "ana", pw, ""); err != nil {
		t.Fatalf("Login with free hashers = %v", err)
	}
}

// TestRehashFromEarlierDefaults: an account whose hash was made with the
// defaults before DefaultArgon became m=7 MiB, t=5 (m=19 MiB, t=2: a
// stored hash, not one made here) logs in and gets a hash under the new
// defaults, which then verifies.
func TestRehashFromEarlierDefaults(t *testing.T) {
	const (
		old   = "$argon2id$v=19$m=19456,t=2,p=1$c2FsIGRlIDE2IGJ5dGVzIQ$+BNF7m5c0xDtt0Bx9kw9CcL1au5uKv8kOcsYk0cWyLI"
		oldPw = "clave de la versión anterior"
	)
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.Argon = DefaultArgon() })
	f.addUser(t, "ana", RoleTecnico)
	u, _, err := f.s.getUser(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = old
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	f.kv.put(prefixUser+"ana", b)

	if _, err := f.s.Login(ctx, "ana", pw, ""); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("Login with another password = %v, want ErrBadLogin", err)
	}
	if _, err := f.s.Login(ctx, "ana", oldPw, ""); err != nil {
		t.Fatalf("Login with the earlier hash: %v", err)
	}
	if u, _, err = f.s.getUser(ctx, "ana"); err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=7168,t=5,p=1$") {
		t.Fatalf("hash not renewed under DefaultArgon: %q (%v)", u.PasswordHash, err)
	}
	if _, err := f.s.Login(ctx, "ana", oldPw, ""); err != nil {
		t.Fatalf("login with the renewed hash: %v", err)
	}
}
