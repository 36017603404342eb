package metrics

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden")

const goldenPath = "testdata/metrics.golden"

// goldenRegistry is a registry with the fixture legs observed and the
// fixture snapshot set, Go and process collectors included.
func goldenRegistry(t testing.TB) *prometheus.Registry {
	t.Helper()
	m, reg := newTestMetrics(t, testConfig())
	for _, c := range fixtureCalls() {
		m.ObserveCall(c)
	}
	m.SetSnapshot(fixtureSnapshot)
	return reg
}

// TestGolden pins every switchtap_ series: names, help, types, labels,
// bucket edges and values. Run with -update after an intended change and
// read the diff.
func TestGolden(t *testing.T) {
	got := exposition(t, goldenRegistry(t), "switchtap_")
	// The fixture legs carry a Call-ID, numbers and an unconfigured
	// operator: none may become a label value.
	for _, leak := range []string{"192.0.2.10", "never-be-a-label", "zoe", "sideways", "weird"} {
		if bytes.Contains(got, []byte(leak)) {
			t.Errorf("exposition contains %q", leak)
		}
	}
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("exposition differs from %s (run with -update and read the diff):\n%s", goldenPath, got)
	}
	// The same comparison through client_golang's parser, so the golden
	// file is also a valid exposition.
	f, err := os.Open(filepath.Clean(goldenPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := goldenNames(t)
	if err := testutil.GatherAndCompare(goldenRegistry(t), f, names...); err != nil {
		t.Error(err)
	}
}
