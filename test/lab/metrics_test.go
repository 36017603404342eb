package lab_test

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape fetches the daemon's metrics from inside the tap's namespace (the
// endpoint listens on that namespace's loopback, as configured).
func scrape(ctx context.Context, t *testing.T, l *lab) string {
	t.Helper()

	out := runOut(ctx, t, 10*time.Second, "ip", "netns", "exec", l.tapNS,
		"curl", "-sSf", "--max-time", "5", "http://"+metricsAddr+"/metrics")

	return string(out)
}

// parseMetrics sums each metric's samples over its labels (Prometheus
// text format; histogram series keep their _bucket/_sum/_count names).
func parseMetrics(t *testing.T, text string) map[string]float64 {
	t.Helper()

	m := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 && i < len(name)+1 {
			name = line[:i]
			_, rest, _ = strings.Cut(line[strings.LastIndexByte(line, '}')+1:], " ")
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		m[name] += v
	}
	if len(m) == 0 {
		t.Fatalf("no metrics in the scrape:\n%s", text)
	}

	return m
}
