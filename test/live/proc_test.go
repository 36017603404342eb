package live_test

import (
	"context"
	"testing"

	"github.com/switchtap/switchtap/internal/nettest"
)

// proc is a program running inside a network namespace.
type proc = nettest.Proc

// startIn starts argv inside namespace ns (see nettest.StartIn).
func startIn(ctx context.Context, t *testing.T, ns, dir, name string, argv ...string) *proc {
	t.Helper()
	return nettest.StartIn(ctx, t, ns, dir, name, argv...)
}

// runCmd runs a setup command (see nettest.RunCmd).
func runCmd(ctx context.Context, t *testing.T, name string, args ...string) {
	t.Helper()
	nettest.RunCmd(ctx, t, name, args...)
}

// addNetns creates a namespace removed at cleanup (see nettest.AddNetns).
func addNetns(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	nettest.AddNetns(ctx, t, name)
}

// buildSwitchtap builds the daemon as shipped (see nettest.BuildSwitchtap).
func buildSwitchtap(t *testing.T, root string) string {
	t.Helper()
	return nettest.BuildSwitchtap(t, root, buildBudget)
}
