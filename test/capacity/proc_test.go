package capacity_test

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The daemon's /proc readings. test/lab reads the same fields; these
// return errors instead of zeros, since a figure of the capacity test is
// worthless if a reading silently failed.

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux ABI (sysconf(_SC_CLK_TCK)).
const clockTicks = 100

// errFormat says a reading was not in the form the kernel or ip(8) gives.
var errFormat = errors.New("unexpected format")

// cpuSeconds reads utime+stime of pid (proc(5): fields 14 and 15), in
// seconds.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu of %d: %w", pid, err)
	}
	s := string(b)
	// The command name may hold spaces and parentheses: fields count
	// from the last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0, fmt.Errorf("%w: /proc/%d/stat %q", errFormat, pid, s)
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: /proc/%d/stat has %d fields after the name", errFormat, pid, len(f))
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime (fields 14, 15 counted from pid)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: /proc/%d/stat: %w", errFormat, pid, err)
		}
		ticks += n
	}
	return float64(ticks) / clockTicks, nil
}

// statusKB reads a kB field of /proc/PID/status: VmRSS (resident now) or
// VmHWM (the peak resident set since start).
func statusKB(pid int, field string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("status of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == field+":" && f[2] == "kB" {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return 0, fmt.Errorf("%w: %s %q: %w", errFormat, field, line, err)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: no %s in /proc/%d/status", errFormat, field, pid)
}

// TestProcReadings reads the test's own process (no root needed): the
// figures of the probe come from these readings.
func TestProcReadings(t *testing.T) {
	pid := os.Getpid()
	// Burn a few clock ticks so that the CPU time cannot be 0.
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	if cpu, err := cpuSeconds(pid); err != nil || cpu <= 0 {
		t.Errorf("cpuSeconds(self) = %v, %v", cpu, err)
	}
	rss, err := statusKB(pid, "VmRSS")
	hwm, err2 := statusKB(pid, "VmHWM")
	if err != nil || err2 != nil || rss <= 0 || hwm < rss {
		t.Errorf("VmRSS %v kB (%v), VmHWM %v kB (%v): want 0 < VmRSS ≤ VmHWM", rss, err, hwm, err2)
	}
	if _, err := statusKB(pid, "VmNope"); !errors.Is(err, errFormat) {
		t.Errorf("statusKB of a missing field: %v, want errFormat", err)
	}
}
