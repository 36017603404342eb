package capacity_test

import (
	"strings"
	"testing"
)

// TestCapacityLine checks the probe's summary of a rate's runs: the
// median CPU cost with the runs' range, the highest resident set of any
// run, and no range for a single run.
func TestCapacityLine(t *testing.T) {
	run := func(cpu, rssMB float64) step {
		return step{
			rate:    multiplier(4),
			replay:  replaySummary{packets: 3_000_000, pps: 160_000},
			cpu:     cpu,
			records: recordCheck{stored: 1000, peakConcurrent: 1000},
			// VmRSS, RssAnon and VmHWM in kB.
			rssPeakKB: rssMB * 1024, anonPeakKB: rssMB / 2 * 1024, hwmKB: (rssMB + 1) * 1024,
		}
	}
	for _, tc := range []struct {
		name string
		runs []step
		want []string
	}{
		{"none", nil, []string{"no clean step"}},
		{"one run", []step{run(7.5, 95)},
			[]string{"×4: 160000 packets/s", "2.500 CPU-s per million packets = 4000 recorded calls per core (goal", "VmRSS peak 95.0 MB (RssAnon 47.5 MB), VmHWM 96.0 MB"}},
		{"three runs: the median, the range, the highest RSS",
			[]step{run(9, 97), run(6, 99), run(7.5, 95)},
			[]string{"2.500 CPU-s per million packets = 4000 recorded calls per core (median of 3 runs; 2.000–3.000, 3333–5000 calls)", "VmRSS peak 99.0 MB (RssAnon 49.5 MB), VmHWM 100.0 MB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := capacityLine(tc.runs)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("capacityLine = %q\nwant it to contain %q", got, w)
				}
			}
			if len(tc.runs) == 1 && strings.Contains(got, "median") {
				t.Errorf("capacityLine of one run = %q: a median of one", got)
			}
		})
	}
}

// TestDaemonMemLimit: the probe runs the daemon with the unit's
// GOMEMLIMIT unless the test's environment names one.
func TestDaemonMemLimit(t *testing.T) {
	t.Setenv(memLimitEnv, "")
	limit, from := daemonMemLimit(t)
	if from != "the unit's" || !strings.HasSuffix(limit, "MiB") {
		t.Errorf("daemonMemLimit() = %q, %q; want the unit's, in MiB", limit, from)
	}
	t.Setenv(memLimitEnv, "40MiB")
	if limit, from := daemonMemLimit(t); limit != "40MiB" || from != "the environment's" {
		t.Errorf("daemonMemLimit() with %s=40MiB = %q, %q", memLimitEnv, limit, from)
	}
}
