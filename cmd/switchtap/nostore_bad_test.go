package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/storage"
)

// TestNoStore is issue 9 §6: a command given a data directory with no
// store says so instead of creating an empty one (a typo in --data-dir
// listed no calls and left a new store behind). `user add` still makes the
// store, since accounts are created before the daemon's first start.
func TestNoStore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
	}{
		{"calls", []string{"calls"}, ""},
		{"calls json", []string{"calls", "--json", "--from", "2026-03-01"}, ""},
		{"audit verify", []string{"audit", "verify"}, ""},
		{"audit list", []string{"audit", "list"}, ""},
		{"recording export", []string{"recording", "export", "r1"}, ""},
		{"user list", []string{"user", "list"}, ""},
		{"user disable", []string{"user", "disable", "ana"}, ""},
		{"user passwd", []string{"user", "passwd", "ana"}, "clave-larga-ana\nclave-larga-ana\n"},
	} {
		for _, kind := range []string{"missing", "empty"} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "typo")
				if kind == "empty" {
					if err := os.Mkdir(dir, 0o700); err != nil {
						t.Fatal(err)
					}
				}
				args := append(append([]string(nil), tc.args...), "--data-dir", dir)
				_, _, err := runIn(t, tc.stdin, args...)
				if !errors.Is(err, storage.ErrNoStore) || !strings.Contains(err.Error(), dir) {
					t.Fatalf("err = %v, want ErrNoStore naming %s", err, dir)
				}
				ents, _ := os.ReadDir(dir)
				if _, serr := os.Stat(dir); (kind == "missing") != os.IsNotExist(serr) || len(ents) != 0 {
					t.Fatalf("%s: the command left %d entries behind (stat %v)", dir, len(ents), serr)
				}
			})
		}
	}
}

// TestUserAddCreatesStore: `user add` on a fresh data directory (missing
// or empty) makes the store, and the read commands then find it.
func TestUserAddCreatesStore(t *testing.T) {
	for _, kind := range []string{"missing", "empty"} {
		t.Run(kind, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if kind == "empty" {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := runIn(t, "clave-larga-ana\nclave-larga-ana\n", "user", "add", "ana", "--role", "tecnico", "--data-dir", dir); err != nil {
				t.Fatal(err)
			}
			out, _, err := runIn(t, "", "user", "list", "--data-dir", dir)
			if err != nil || !strings.Contains(out, "ana") {
				t.Fatalf("user list: %v\n%s", err, out)
			}
			if _, _, err := runIn(t, "", "calls", "--data-dir", dir); err != nil {
				t.Fatalf("calls on the new store: %v", err)
			}
		})
	}
}
