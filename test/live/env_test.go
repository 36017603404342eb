package live_test

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

// requireLive skips the test when it cannot run here, or fails it when
// skipping is forbidden (SWITCHTAP_REQUIRE_ALL=1, set by CI), so that a
// missing tool can never turn the end-to-end check into a silent skip.
func requireLive(t *testing.T) {
	t.Helper()

	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces)")
	}
	for _, tool := range []string{"ip", "tc", "ss", "sipp", "tcpdump", "tcpreplay"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	testenv.SkipOrFail(t, "live test needs "+strings.Join(missing, ", "))
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

// runSwitchtap runs a short switchtap command in the test's own namespace
// and returns its stdout.
func runSwitchtap(ctx context.Context, t *testing.T, bin string, args ...string) []byte {
	t.Helper()

	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr nettest.LockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("switchtap %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr.String())
	}

	return out
}
