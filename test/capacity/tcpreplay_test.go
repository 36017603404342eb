package capacity_test

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// replaySummary is what tcpreplay says it did (its final statistics).
type replaySummary struct {
	packets, bytes int64
	seconds, pps   float64
	failed         int64
}

// The lines of tcpreplay 4.x's summary used here, e.g.
//
//	Actual: 921 packets (201886 bytes) sent in 2.68 seconds
//	Rated: 75197.7 Bps, 0.601 Mbps, 343.05 pps
//	Failed packets:            0
var (
	actualRE = regexp.MustCompile(`(?m)^Actual: (\d+) packets \((\d+) bytes\) sent in ([0-9.]+) seconds`)
	ratedRE  = regexp.MustCompile(`(?m)^Rated: [0-9.]+ Bps, [0-9.]+ Mbps, ([0-9.]+) pps`)
	failedRE = regexp.MustCompile(`(?m)^\s*Failed packets:\s+(\d+)`)
)

var errNoSummary = errors.New("no tcpreplay summary")

// parseReplaySummary reads tcpreplay's output.
func parseReplaySummary(out string) (replaySummary, error) {
	var s replaySummary
	a, r, f := actualRE.FindStringSubmatch(out), ratedRE.FindStringSubmatch(out), failedRE.FindStringSubmatch(out)
	if a == nil || r == nil || f == nil {
		return s, fmt.Errorf("%w in %q", errNoSummary, out)
	}
	var errs []error
	num := func(v string) int64 {
		n, err := strconv.ParseInt(v, 10, 64)
		errs = append(errs, err)
		return n
	}
	flt := func(v string) float64 {
		x, err := strconv.ParseFloat(v, 64)
		errs = append(errs, err)
		return x
	}
	s.packets, s.bytes, s.seconds = num(a[1]), num(a[2]), flt(a[3])
	s.pps, s.failed = flt(r[1]), num(f[1])
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("tcpreplay summary: %w", err)
	}
	return s, nil
}

// TestParseReplaySummary runs without root: the figures of the capacity
// test come from this parse.
func TestParseReplaySummary(t *testing.T) {
	const out = `File Cache is enabled
Actual: 3007000 packets (645123456 bytes) sent in 12.68 seconds
Rated: 50877244.0 Bps, 407.01 Mbps, 237145.11 pps
Flows: 4000 flows, 315.45 fps, 3007000 unique flow packets, 0 unique non-flow packets
Statistics for network device: eth0
	Successful packets:        3006998
	Failed packets:            2
	Truncated packets:         0
	Retried packets (ENOBUFS): 0
	Retried packets (EAGAIN):  0
`
	tests := []struct {
		name    string
		out     string
		want    replaySummary
		wantErr bool
	}{
		{name: "summary", out: out, want: replaySummary{packets: 3007000, bytes: 645123456, seconds: 12.68, pps: 237145.11, failed: 2}},
		{name: "interrupted", out: "File Cache is enabled\n", wantErr: true},
		{name: "no failed line", out: strings.Replace(out, "Failed", "Lost", 1), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseReplaySummary(tc.out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
