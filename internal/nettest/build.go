package nettest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BuildSwitchtap builds the daemon as shipped (CGO_ENABLED=0) from the
// module at root into a temporary folder, within budget.
func BuildSwitchtap(t *testing.T, root string, budget time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), budget)
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

// LogFields splits a log/slog text line into its keys and values.
func LogFields(line string) map[string]string {
	kv := map[string]string{}
	for len(line) > 0 {
		line = strings.TrimLeft(line, " ")
		k, rest, ok := strings.Cut(line, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				break
			}
			v, line = rest[1:end+1], rest[end+2:]
		} else {
			v, line, _ = strings.Cut(rest, " ")
		}
		kv[k] = v
	}
	return kv
}
