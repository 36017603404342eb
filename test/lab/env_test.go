package lab_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildBudget bounds `go build` (the first build of a cold cache is slow).
const buildBudget = 3 * time.Minute

// labTools are the programs the lab runs besides the daemon.
var labTools = []string{"ip", "tc", "ss", "sipp", "tcpdump", "tshark", "sox", "curl"}

// requireLab skips the test when it cannot run here, or fails it when
// SWITCHTAP_REQUIRE_ALL=1 (or SWITCHTAP_REQUIRE_LIVE=1) says it must run,
// so that a missing tool never turns the lab into a silent skip in CI.
func requireLab(t *testing.T) {
	t.Helper()

	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces)")
	}
	for _, tool := range labTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("SWITCHTAP_REQUIRE_ALL") == "1" || os.Getenv("SWITCHTAP_REQUIRE_LIVE") == "1" {
		t.Fatalf("SWITCHTAP_REQUIRE_ALL=1 but the lab is missing: %s", strings.Join(missing, ", "))
	}
	t.Skipf("lab needs %s (set SWITCHTAP_REQUIRE_ALL=1 to make this a failure)", strings.Join(missing, ", "))
}

// moduleRoot walks up from the working directory to the folder with go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()

	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// buildSwitchtap builds the daemon as shipped (CGO_ENABLED=0) into a
// temporary folder. `go test` puts its own go first in PATH.
func buildSwitchtap(t *testing.T, root string) string {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), buildBudget)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "switchtap")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/switchtap/switchtap/cmd/switchtap")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/switchtap: %v\n%s", err, out)
	}
	t.Logf("built switchtap in %v", time.Since(start).Round(time.Millisecond))

	return bin
}

// runOut runs a short command in the test's own namespace and returns its
// stdout; a failure ends the test with stderr.
func runOut(ctx context.Context, t *testing.T, timeout time.Duration, name string, args ...string) []byte {
	t.Helper()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, name, args...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", name, strings.Join(args, " "), err, stderr.String())
	}

	return out
}

// envDuration reads a duration from the environment, def when unset.
func envDuration(t *testing.T, key string, def time.Duration) time.Duration {
	t.Helper()

	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", key, v, err)
	}

	return d
}
