// Package testenv finds the inputs tests share: the public captures in
// ../shared/pcaps and whether tests that need root or tools may skip.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv is the variable CI sets to make tests that would skip on a
// laptop (no root, no SIPp, no ../shared) fail instead.
const RequireEnv = "SWITCHTAP_REQUIRE_ALL"

// Required reports whether skipping is forbidden (CI).
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// SkipOrFail skips the test, or fails it when skipping is forbidden.
func SkipOrFail(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (skipping is not allowed: %s=1)", why, RequireEnv)
	}
	t.Skip(why)
}

// SharedPcaps returns the folder of public captures (../shared/pcaps from
// the repository root), skipping the test when it is absent.
func SharedPcaps(t testing.TB) string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "..", "shared", "pcaps")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.md")); err != nil {
		SkipOrFail(t, "../shared/pcaps is absent")
	}
	return dir
}

// ModuleRoot returns the directory holding go.mod, searching up from the
// working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
