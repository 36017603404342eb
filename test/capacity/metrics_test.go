package capacity_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The daemon serves its metrics and web on its namespace's loopback.
const (
	metricsAddr = "127.0.0.1:7060"
	webAddr     = "127.0.0.1:8080"
)

// The metrics the probe reads (metrics/snapshot.go, metrics/calls.go).
const (
	mKernelReceived = "switchtap_capture_kernel_received_packets_total"
	mKernelDropped  = "switchtap_capture_kernel_dropped_packets_total"
	mCallsEnded     = "switchtap_calls_total"
	mCallsOpen      = "switchtap_calls_open"
	mLagMax         = "switchtap_capture_lag_max_seconds"
)

// scrape fetches the daemon's metrics inside namespace ns and sums each
// metric's samples over its labels.
func scrape(ctx context.Context, ns string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns,
		"curl", "-sSf", "--max-time", "3", "http://"+metricsAddr+"/metrics").Output()
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	return parseMetrics(out)
}

// parseMetrics reads the Prometheus text format, summing over labels.
func parseMetrics(text []byte) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name, rest = line[:i], line[strings.LastIndexByte(line, '}')+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return nil, fmt.Errorf("metric line %q has no value", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		m[name] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return m, nil
}

func TestParseMetrics(t *testing.T) {
	const text = `# HELP switchtap_capture_kernel_dropped_packets_total Packets the kernel dropped.
# TYPE switchtap_capture_kernel_dropped_packets_total counter
switchtap_capture_kernel_dropped_packets_total 3
switchtap_calls_total{operator="a"} 2
switchtap_calls_total{operator="b b"} 5e+00
switchtap_calls_open 0
`
	m, err := parseMetrics([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{mKernelDropped: 3, mCallsEnded: 7, mCallsOpen: 0}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("parseMetrics = %v, want %v", m, want)
	}
	if _, err := parseMetrics([]byte("switchtap_calls_open\n")); err == nil {
		t.Error("a line without a value parsed")
	}
}
