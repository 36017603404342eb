package access

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Role
		err  error
	}{
		{"tecnico", RoleTecnico, nil},
		{"jefe", RoleJefe, nil},
		{"admin", RoleAdmin, nil},
		{"Admin", "", ErrRole},
		{"técnico", "", ErrRole},
		{"", "", ErrRole},
		{"root", "", ErrRole},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseRole(tc.in)
			if !errors.Is(err, tc.err) || r != tc.want {
				t.Fatalf("ParseRole(%q) = %q, %v; want %q, %v", tc.in, r, err, tc.want, tc.err)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"ana.lopez", true},
		{"j_perez-2", true},
		{strings.Repeat("a", 32), true},
		{strings.Repeat("a", 33), false},
		{"", false},
		{"1ana", false},
		{".ana", false},
		{"Ana", false},
		{"ana lopez", false},
		{"ana/..", false},
		{"josé", false},
		{"ana\x00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckName(tc.name)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrName)) {
				t.Fatalf("CheckName(%q) = %v, want ok %v", tc.name, err, tc.ok)
			}
		})
	}
}

func TestAddUser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "bea", RoleJefe)
	for _, tc := range []struct {
		name, user string
		role       Role
		password   string
		want       error
	}{
		{"ok", "ana", RoleTecnico, pw, nil},
		{"taken", "bea", RoleTecnico, pw, ErrExists},
		{"bad name", "Ana", RoleTecnico, pw, ErrName},
		{"bad role", "carl", Role("root"), pw, ErrRole},
		{"short password", "carl", RoleTecnico, "123456789", ErrWeakPassword},
		// Ten characters, but counted in runes: "ñ" is two bytes.
		{"ten runes", "dora", RoleTecnico, "ñññññññññ", ErrWeakPassword},
		{"password is the name", "eduardo.li", RoleTecnico, "Eduardo.Li", ErrWeakPassword},
		{"too long", "fabi", RoleTecnico, strings.Repeat("x", maxPasswordBytes+1), ErrWeakPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.s.AddUser(ctx, admin, tc.user, tc.role, tc.password)
			if !errors.Is(err, tc.want) {
				t.Fatalf("AddUser = %v, want %v", err, tc.want)
			}
		})
	}
	us, err := f.s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 2 || us[0].Name != "ana" || us[1].Name != "bea" || us[0].Role != RoleTecnico || us[1].Role != RoleJefe {
		t.Fatalf("Users = %+v, want ana (tecnico), bea (jefe) in order", us)
	}
	for _, u := range us {
		if u.PasswordHash != "" || !u.Created.Equal(t0) || u.MustChange || u.Disabled {
			t.Errorf("Users gives %+v", u)
		}
	}
	if u, err := f.s.User(ctx, "ana"); err != nil || u.PasswordHash != "" || u.Name != "ana" {
		t.Errorf("User(ana) = %+v, %v", u, err)
	}
	if _, err := f.s.User(ctx, "zoe"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(zoe) = %v, want ErrNotFound", err)
	}
	if _, err := f.s.User(ctx, "../x"); !errors.Is(err, ErrName) {
		t.Errorf("User(../x) = %v, want ErrName", err)
	}
	es := f.entries(t)
	if len(es) != 2 {
		t.Fatalf("%d audit entries, want one per added user: %+v", len(es), es)
	}
	if e := es[1]; e.Action != "user_added" || e.Actor != "root" || e.Remote != "192.0.2.1" || e.Target != "ana" || e.Detail != "role tecnico" {
		t.Errorf("entry = %+v", e)
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	t.Run("no users", func(t *testing.T) {
		f := newFixture(t, nil)
		p, created, err := f.s.EnsureAdmin(ctx)
		if err != nil || !created {
			t.Fatalf("EnsureAdmin = %v, %v", created, err)
		}
		if len(p) != generatedLen || strings.Trim(p, passwordAlphabet) != "" {
			t.Fatalf("password %q: want %d characters of the alphabet", p, generatedLen)
		}
		u, err := f.s.User(ctx, "admin")
		if err != nil || u.Role != RoleAdmin || !u.MustChange {
			t.Fatalf("admin = %+v, %v", u, err)
		}
		sess, err := f.s.Login(ctx, "admin", p, "192.0.2.9")
		if err != nil || !sess.User.MustChange {
			t.Fatalf("Login with the generated password = %+v, %v", sess.User, err)
		}
		es := f.entries(t)
		if es[0].Action != "user_added" || es[0].Actor != SystemActor || es[0].Target != "admin" {
			t.Errorf("first entry = %+v", es[0])
		}
		p2, created, err := f.s.EnsureAdmin(ctx)
		if err != nil || created || p2 != "" {
			t.Fatalf("second EnsureAdmin = %q, %v, %v; want nothing", p2, created, err)
		}
	})
	t.Run("other users", func(t *testing.T) {
		f := newFixture(t, nil)
		f.addUser(t, "ana", RoleTecnico)
		_, created, err := f.s.EnsureAdmin(ctx)
		if err != nil || created {
			t.Fatalf("EnsureAdmin with a user = %v, %v; want nothing", created, err)
		}
		if _, err := f.s.User(ctx, "admin"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("admin created anyway: %v", err)
		}
	})
	t.Run("passwords differ", func(t *testing.T) {
		a, _ := randomPassword(newFixture(t, nil).s.cfg.Rand, generatedLen)
		b, _ := randomPassword(newFixture(t, nil).s.cfg.Rand, generatedLen)
		if a == b {
			t.Fatalf("two generated passwords are equal: %q", a)
		}
	})
}

func TestRandomPasswordUniform(t *testing.T) {
	// Bytes past the largest multiple of the alphabet are rejected, not
	// folded onto its first characters.
	src := strings.NewReader(string([]byte{255, 224, 0, 55, 56, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39}))
	p, err := randomPassword(src, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := string([]byte{passwordAlphabet[0], passwordAlphabet[55], passwordAlphabet[0], passwordAlphabet[1], passwordAlphabet[2]})
	if p != want {
		t.Fatalf("randomPassword = %q, want %q", p, want)
	}
	if _, err := randomPassword(strings.NewReader("short"), 20); err == nil {
		t.Fatal("randomPassword from an exhausted reader succeeded")
	}
}

func TestSetRoleAndLastAdmin(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleAdmin)
	f.addUser(t, "bea", RoleTecnico)
	for _, tc := range []struct {
		name string
		do   func() error
		want error
	}{
		{"demote the only admin", func() error { return f.s.SetRole(ctx, admin, "ana", RoleJefe) }, ErrLastAdmin},
		{"disable the only admin", func() error { return f.s.SetDisabled(ctx, admin, "ana", true) }, ErrLastAdmin},
		{"bad role", func() error { return f.s.SetRole(ctx, admin, "bea", "root") }, ErrRole},
		{"unknown", func() error { return f.s.SetRole(ctx, admin, "zoe", RoleJefe) }, ErrNotFound},
		{"promote", func() error { return f.s.SetRole(ctx, admin, "bea", RoleAdmin) }, nil},
		{"now demote the first", func() error { return f.s.SetRole(ctx, admin, "ana", RoleJefe) }, nil},
		{"disable the second, now alone", func() error { return f.s.SetDisabled(ctx, admin, "bea", true) }, ErrLastAdmin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); !errors.Is(err, tc.want) {
				t.Fatalf("= %v, want %v", err, tc.want)
			}
		})
	}
	if u, _ := f.s.User(ctx, "ana"); u.Role != RoleJefe {
		t.Errorf("ana is %s", u.Role)
	}
	got := actions(f.entries(t), 2)
	if strings.Join(got, " ") != "role_changed role_changed" {
		t.Errorf("audit %v: want two role changes and nothing for the refusals", got)
	}
	n := len(f.entries(t))
	if err := f.s.SetRole(ctx, admin, "ana", RoleJefe); err != nil {
		t.Fatal(err)
	}
	if len(f.entries(t)) != n {
		t.Error("setting the same role wrote an entry")
	}
	if e := f.entries(t)[3]; e.Detail != "admin -> jefe" || e.Target != "ana" {
		t.Errorf("entry %+v", e)
	}
}

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.MaxFailures = 2 })
	f.addUser(t, "ana", RoleTecnico)
	sess, err := f.s.Login(ctx, "ana", pw, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, _ = f.s.Login(ctx, "ana", "wrong password", "")
	}
	if _, err := f.s.Login(ctx, "ana", pw, ""); !errors.Is(err, ErrLocked) {
		t.Fatalf("Login = %v, want locked", err)
	}
	if err := f.s.SetPassword(ctx, admin, "ana", "short", true); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("SetPassword(short) = %v", err)
	}
	if err := f.s.SetPassword(ctx, admin, "zoe", "long enough pw", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetPassword(zoe) = %v", err)
	}
	if err := f.s.SetPassword(ctx, admin, "ana", "a new password", true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SessionUser(ctx, sess.Token); !errors.Is(err, ErrNoSession) {
		t.Errorf("session after a reset: %v, want ErrNoSession", err)
	}
	if _, err := f.s.Login(ctx, "ana", pw, ""); !errors.Is(err, ErrBadLogin) {
		t.Errorf("old password after reset: %v", err)
	}
	s2, err := f.s.Login(ctx, "ana", "a new password", "")
	if err != nil || !s2.User.MustChange {
		t.Fatalf("login after reset (unlocked) = %+v, %v", s2.User, err)
	}
	// Resetting one's own password keeps one's session.
	if err := f.s.SetPassword(ctx, Actor{Name: "ana"}, "ana", "yet another one", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SessionUser(ctx, s2.Token); err != nil {
		t.Errorf("own reset ended the session: %v", err)
	}
	es := f.entries(t)
	var set *Entry
	for i := range es {
		if es[i].Action == "password_set" && set == nil {
			set = &es[i]
		}
	}
	if set == nil || set.Target != "ana" || set.Detail != "must change password, 1 sessions ended" {
		t.Fatalf("password_set entry %+v", set)
	}
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	if err := f.s.addUser(ctx, admin, "ana", RoleTecnico, pw, true); err != nil {
		t.Fatal(err)
	}
	sess, err := f.s.Login(ctx, "ana", pw, "")
	if err != nil {
		t.Fatal(err)
	}
	me := Actor{Name: "ana", Remote: "192.0.2.7"}
	for _, tc := range []struct {
		name     string
		old, new string
		want     error
	}{
		{"wrong old", "not it at all", "a new password", ErrBadLogin},
		{"weak new", pw, "short", ErrWeakPassword},
		{"same", pw, pw, ErrWeakPassword},
		{"ok", pw, "a new password", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.s.ChangePassword(ctx, me, "ana", tc.old, tc.new); !errors.Is(err, tc.want) {
				t.Fatalf("ChangePassword = %v, want %v", err, tc.want)
			}
		})
	}
	if got := f.slept.take(); len(got) != 1 || got[0] != failBaseDelay {
		t.Errorf("sleeps %v: the wrong old password is one failed login", got)
	}
	u, _ := f.s.User(ctx, "ana")
	if u.MustChange || !u.PasswordChanged.Equal(t0) || u.Failures != 0 {
		t.Errorf("after change: %+v", u)
	}
	if _, err := f.s.SessionUser(ctx, sess.Token); err != nil {
		t.Errorf("own change ended the session: %v", err)
	}
	if _, err := f.s.Login(ctx, "ana", "a new password", ""); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	got := strings.Join(actions(f.entries(t), 1), " ")
	if got != "login login_failed password_change login" {
		t.Errorf("audit %s", got)
	}
}

func TestWriteFailureIsAtomic(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleAdmin)
	boom := errors.New("disk full")
	f.kv.setFail(boom)
	if err := f.s.AddUser(ctx, admin, "bea", RoleJefe, pw); !errors.Is(err, boom) {
		t.Fatalf("AddUser = %v, want the store's error", err)
	}
	if _, err := f.s.Audit(ctx, Entry{Actor: "x", Action: "recording_play"}); !errors.Is(err, boom) {
		t.Fatalf("Audit = %v", err)
	}
	f.kv.setFail(nil)
	if _, err := f.s.User(ctx, "bea"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed AddUser left the user: %v", err)
	}
	e, err := f.s.Audit(ctx, Entry{Actor: "x", Action: "recording_play"})
	if err != nil || e.Seq != 2 {
		t.Fatalf("Audit after the failures = seq %d, %v; want 2, no hole", e.Seq, err)
	}
	if rep, err := f.s.Verify(ctx); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

func TestSetOperator(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.addUser(t, "rosa", RoleRecepcionista)
	for _, tc := range []struct {
		name     string
		operator string
		want     error
	}{
		{"tie", "Rosa Peña", nil},
		{"same again writes nothing", "Rosa Peña", nil},
		{"control characters", "Rosa\nPeña", ErrName},
		{"too long", strings.Repeat("a", maxOperatorLen+1), ErrName},
		{"untie", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.s.SetOperator(ctx, admin, "rosa", tc.operator); !errors.Is(err, tc.want) {
				t.Fatalf("= %v, want %v", err, tc.want)
			}
		})
	}
	if err := f.s.SetOperator(ctx, admin, "zoe", "Rosa"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
	if err := f.s.SetOperator(ctx, admin, "rosa", "Rosa Peña"); err != nil {
		t.Fatal(err)
	}
	u, err := f.s.User(ctx, "rosa")
	if err != nil || u.Operator != "Rosa Peña" || u.Role != RoleRecepcionista {
		t.Fatalf("user %+v, %v", u, err)
	}
	got := actions(f.entries(t), 1) // after the account's creation
	if strings.Join(got, " ") != "user_operator user_operator user_operator" {
		t.Errorf("audit %v: want three operator changes (tie, untie, tie)", got)
	}
	if _, err := ParseRole("recepcionista"); err != nil {
		t.Errorf("ParseRole(recepcionista) = %v", err)
	}
}
