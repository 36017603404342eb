package access

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestPHC(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	h, err := f.s.hashPassword(ctx, "secreto de prueba", DefaultArgon())
	if err != nil {
		t.Fatal(err)
	}
	// 16 bytes of salt and 32 of hash in unpadded standard base64.
	if !strings.HasPrefix(h, "$argon2id$v=19$m=7168,t=5,p=1$") || len(h) != len("$argon2id$v=19$m=7168,t=5,p=1$")+22+1+43 {
		t.Fatalf("PHC string %q", h)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"secreto de prueba", true}, {"secreto de prueba ", false}, {"", false}} {
		ok, err := f.s.checkPassword(ctx, h, tc.pw)
		if err != nil || ok != tc.want {
			t.Fatalf("checkPassword(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	// The dummy of unknown names costs what a real hash costs.
	d, err := parsePHC(f.s.dummy)
	if err != nil || d.params != f.s.cfg.Argon {
		t.Fatalf("dummy hash %q: %+v, %v; want the configured parameters", f.s.dummy, d.params, err)
	}
	h2, _ := f.s.hashPassword(ctx, "secreto de prueba", DefaultArgon())
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not fresh")
	}
}

func TestParsePHC(t *testing.T) {
	const salt, key = "c2FsdHNhbHQ", "aGFzaGhhc2hoYXNoaGFzaA" // "saltsalt", "hashhashhashhash"
	ok := "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + key
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"ok", ok, true},
		{"argon2i", strings.Replace(ok, "argon2id", "argon2i", 1), false},
		{"version 16", strings.Replace(ok, "v=19", "v=16", 1), false},
		{"no version", "$argon2id$m=8,t=1,p=1$" + salt + "$" + key, false},
		{"params reordered", strings.Replace(ok, "m=8,t=1,p=1", "t=1,m=8,p=1", 1), false},
		{"leading zero", strings.Replace(ok, "m=8", "m=08", 1), false},
		{"signed", strings.Replace(ok, "t=1", "t=+1", 1), false},
		{"huge memory", strings.Replace(ok, "m=8", "m=4194304", 1), false},
		{"overflowing memory", strings.Replace(ok, "m=8", "m=99999999999999999999", 1), false},
		{"memory below 8 per lane", strings.Replace(ok, "p=1", "p=2", 1), false},
		{"zero time", strings.Replace(ok, "t=1", "t=0", 1), false},
		{"many passes", strings.Replace(ok, "t=1", "t=17", 1), false},
		{"padded salt", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "=$" + key, false},
		{"short salt", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$" + key, false},
		{"short hash", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$aGFzaA", false},
		{"url alphabet", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "_", false},
		{"trailing field", ok + "$", false},
		{"empty", "", false},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parsePHC(tc.in)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrHash)) {
				t.Fatalf("parsePHC = %+v, %v; want ok %v", h, err, tc.ok)
			}
			if tc.ok && h.String() != tc.in {
				t.Fatalf("String() = %q, want %q", h.String(), tc.in)
			}
		})
	}
	// A stored hash that cannot be read fails the login, never the daemon.
	f := newFixture(t, nil)
	f.addUser(t, "ana", RoleTecnico)
	v, _ := f.kv.raw(prefixUser + "ana")
	f.kv.put(prefixUser+"ana", []byte(strings.Replace(string(v), "m=8,", "m=4194304,", 1)))
	if _, err := f.s.Login(context.Background(), "ana", pw, ""); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("Login with a tampered hash = %v, want ErrBadLogin", err)
	}
}

// FuzzParsePHC checks that parsePHC never panics, accepts only what it
// can write back byte for byte, and keeps its bounds.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$YWJjZGVmZ2g$MTIzNDU2Nzg5MDEyMzQ1Ng")
	f.Add("$argon2i$v=19$m=8,t=1,p=1$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			return
		}
		if h.String() != s {
			t.Fatalf("parsed %q, writes back %q", s, h.String())
		}
		if err := h.params.check(); err != nil {
			t.Fatalf("accepted %q out of bounds: %v", s, err)
		}
		if int(h.params.KeyLen) != len(h.key) || int(h.params.SaltLen) != len(h.salt) {
			t.Fatalf("lengths %+v for %d/%d bytes", h.params, len(h.salt), len(h.key))
		}
	})
}

func TestConfig(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionIdle != DefaultSessionIdle || c.SessionMax != DefaultSessionMax || c.MaxFailures != 5 ||
		c.LockFor != DefaultLockFor || c.Argon != DefaultArgon() || c.MinPassword != 10 ||
		c.Now == nil || c.Rand == nil || c.Sleep == nil {
		t.Fatalf("defaults %+v", c)
	}
	for _, tc := range []struct {
		name string
		c    Config
	}{
		{"negative idle", Config{SessionIdle: -1}},
		{"idle past max", Config{SessionIdle: 48 * DefaultSessionMax}},
		{"negative failures", Config{MaxFailures: -1}},
		{"negative lock", Config{LockFor: -1}},
		{"negative min password", Config{MinPassword: -1}},
		{"argon too big", Config{Argon: ArgonParams{Time: 1, MemoryKiB: 1 << 30, Threads: 1, KeyLen: 32, SaltLen: 16}}},
		{"argon partial", Config{Argon: ArgonParams{Time: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(newMemKV(), tc.c, discard()); !errors.Is(err, ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
}
