// Package capacity_test measures the daemon's live capacity (issue 12):
// tcpreplay, pinned to one core, pushes a generated capture of G.711 calls
// through a veth into `switchtap run`, pinned to the other, at rising
// rates; the highest rate the daemon records everything at is its
// capacity, given as CPU seconds per million packets and recorded calls
// per core, with its memory.
package capacity_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/testenv"
)

// buildBudget bounds `go build` (the first build of a cold cache is slow).
const buildBudget = 3 * time.Minute

// Cores the two sides are pinned to: the daemon alone on one, the
// sender (and the kernel's receive path, which runs in the sender's
// softirq on a veth) on the other.
const (
	daemonCPU = "0"
	senderCPU = "1"
)

// requireCapacity skips the test when it cannot run here, or fails it
// when skipping is forbidden (testenv.SkipOrFail): root for the
// namespaces, the programs it runs, and two cores to pin them apart.
func requireCapacity(t *testing.T) {
	t.Helper()

	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces)")
	}
	for _, tool := range []string{"ip", "tcpreplay", "taskset", "env", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if n := runtime.NumCPU(); n < 2 {
		missing = append(missing, fmt.Sprintf("2 CPUs (have %d)", n))
	}
	if len(missing) > 0 {
		testenv.SkipOrFail(t, "capacity test needs "+strings.Join(missing, ", "))
	}
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

// nsName returns a namespace name unique to this test process.
func nsName(tag, role string) string {
	return fmt.Sprintf("stc-%d-%s-%s", os.Getpid(), tag, role)
}
