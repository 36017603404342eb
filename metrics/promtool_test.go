package metrics

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/switchtap/switchtap/internal/testenv"
)

// promtool returns the path of promtool (Debian package "prometheus"),
// skipping the test when it is absent, unless CI forbids skipping.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		testenv.SkipOrFail(t, "promtool is absent (apt-get install --no-install-recommends prometheus)")
	}
	return p
}

// runPromtool runs promtool with args and stdin, failing the test on a
// non-zero exit or on any output that reports a problem.
func runPromtool(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPromtoolCheckMetrics lints the exposition exactly as served,
// including the Go, process and handler metrics: promtool must find
// nothing to say.
func TestPromtoolCheckMetrics(t *testing.T) {
	reg := goldenRegistry(t)
	srv := httptest.NewServer(Handler(reg))
	defer srv.Close()
	for range 2 { // the second scrape also has promhttp's request counter
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if out := runPromtool(t, body, "check", "metrics"); strings.TrimSpace(out) != "" {
			t.Errorf("promtool check metrics:\n%s", out)
		}
	}
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if out := runPromtool(t, golden, "check", "metrics"); strings.TrimSpace(out) != "" {
		t.Errorf("promtool check metrics %s:\n%s", goldenPath, out)
	}
}

// TestPromtoolFindsProblems shows the check above can fail: promtool
// reports a counter without "_total".
func TestPromtoolFindsProblems(t *testing.T) {
	bad := []byte("# HELP switchtap_bad Bad.\n# TYPE switchtap_bad counter\nswitchtap_bad 1\n")
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(bad)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "_total") {
		t.Errorf("promtool accepted a counter without _total: %v\n%s", err, out)
	}
}

// goldenNames returns the metric family names in the golden exposition.
func goldenNames(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Clean(goldenPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("parse %s: %v", goldenPath, err)
	}
	var names []string
	for n := range mfs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
