package live_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireLive skips the test when it cannot run here, or fails it when
// SWITCHTAP_REQUIRE_LIVE=1 says it must run (CI), so that a missing tool
// can never turn the end-to-end check into a silent skip.
func requireLive(t *testing.T) {
	t.Helper()

	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces)")
	}
	for _, tool := range []string{"ip", "tc", "ss", "sipp", "tcpdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("SWITCHTAP_REQUIRE_LIVE") == "1" {
		t.Fatalf("SWITCHTAP_REQUIRE_LIVE=1 but missing: %s", strings.Join(missing, ", "))
	}
	t.Skipf("live test needs %s (set SWITCHTAP_REQUIRE_LIVE=1 to make this a failure)", strings.Join(missing, ", "))
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

// runSwitchtap runs a short switchtap command in the test's own namespace
// and returns its stdout.
func runSwitchtap(ctx context.Context, t *testing.T, bin string, args ...string) []byte {
	t.Helper()

	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("switchtap %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr.String())
	}

	return out
}
