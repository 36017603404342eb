package lab_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
	"github.com/switchtap/switchtap/internal/testenv"
)

// buildBudget bounds `go build` (the first build of a cold cache is slow).
const buildBudget = 3 * time.Minute

// labTools are the programs the lab runs besides the daemon.
var labTools = []string{"ip", "tc", "ss", "sipp", "tcpdump", "tshark", "sox", "curl"}

// requireLab skips the test when it cannot run here, or fails it when
// SWITCHTAP_REQUIRE_ALL=1 says it must run,
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
	testenv.SkipOrFail(t, "lab needs "+strings.Join(missing, ", "))
}

// moduleRoot returns the folder with go.mod (see testenv.ModuleRoot).
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatalf("no go.mod above the working directory: %v", err)
	}
	return dir
}

// runOut runs a short command in the test's own namespace and returns its
// stdout; a failure ends the test with stderr.
func runOut(ctx context.Context, t *testing.T, timeout time.Duration, name string, args ...string) []byte {
	t.Helper()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, name, args...)
	var stderr nettest.LockedBuffer
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
