package nettest

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RunCmd runs a setup command and fails the test with its output on error.
func RunCmd(ctx context.Context, t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// AddNetns creates a network namespace with lo up and registers its
// removal. The removal first kills whatever still runs inside it (only
// processes the test started can be there) and reports them as an error:
// every process must have been stopped before the namespace goes.
func AddNetns(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	RunCmd(ctx, t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if pids := netnsPids(name); len(pids) > 0 {
			t.Errorf("processes %v still running in netns %s at cleanup: killing them", pids, name)
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			deadline := time.Now().Add(3 * time.Second)
			for len(netnsPids(name)) > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
		}
		// A fresh context: the test's may have expired, the cleanup must run.
		out, err := exec.Command("ip", "netns", "del", name).CombinedOutput()
		if err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	RunCmd(ctx, t, "ip", "-n", name, "link", "set", "lo", "up")
}

// netnsPids lists the processes inside namespace name.
func netnsPids(name string) []int {
	out, err := exec.Command("ip", "netns", "pids", name).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
