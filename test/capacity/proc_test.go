package capacity_test

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
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

// procStat is what the probe reads of /proc/PID/stat (proc(5)).
type procStat struct {
	comm  string // the command name, without its parentheses
	flags uint64 // field 9
	// cpu is utime+stime (fields 14 and 15), in seconds.
	cpu float64
}

// readProcStat reads path, a /proc/PID/stat.
func readProcStat(path string) (procStat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return procStat{}, err
	}
	s := string(b)
	// The command name may hold spaces and parentheses: fields count
	// from the last ')'.
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open || closing+2 > len(s) {
		return procStat{}, fmt.Errorf("%w: %s %q", errFormat, path, s)
	}
	f := strings.Fields(s[closing+2:])
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("%w: %s has %d fields after the name", errFormat, path, len(f))
	}
	// Counted from the state (field 3): flags is f[6], utime and stime
	// f[11] and f[12].
	flags, err1 := strconv.ParseUint(f[6], 10, 64)
	utime, err2 := strconv.ParseInt(f[11], 10, 64)
	stime, err3 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return procStat{}, fmt.Errorf("%w: %s: %w", errFormat, path, err)
	}
	return procStat{comm: s[open+1 : closing], flags: flags, cpu: float64(utime+stime) / clockTicks}, nil
}

// cpuSeconds reads utime+stime of pid, in seconds.
func cpuSeconds(pid int) (float64, error) {
	st, err := readProcStat(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu of %d: %w", pid, err)
	}
	return st.cpu, nil
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
	busy, err := coreSeconds("0")
	if err != nil || busy <= 0 {
		t.Errorf("coreSeconds(0) = %v, %v: want the time core 0 has been busy since boot", busy, err)
	}
	if _, err := coreSeconds("9999"); !errors.Is(err, errFormat) {
		t.Errorf("coreSeconds of a core that is not there: %v, want errFormat", err)
	}
	kt, err := kernelThreadSeconds()
	if err != nil {
		t.Errorf("kernelThreadSeconds: %v", err)
	}
	self, err := readProcStat("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := kt[self.comm]; ok {
		t.Errorf("kernelThreadSeconds = %v: counts this test (%s), not a kernel thread", kt, self.comm)
	}
	// kthreadd (pid 2) is the parent of every kernel thread; a PID
	// namespace (a container) does not show it.
	if k, err := readProcStat("/proc/2/stat"); err == nil && k.comm == "kthreadd" {
		if _, ok := kt["kthreadd"]; !ok {
			t.Errorf("kernelThreadSeconds = %v: no kthreadd", kt)
		}
	}
	if _, err := statusKB(pid, "VmNope"); !errors.Is(err, errFormat) {
		t.Errorf("statusKB of a missing field: %v, want errFormat", err)
	}
}

// coreSeconds reads how long CPU core (its number, as taskset takes it)
// has been busy since boot, in seconds, from /proc/stat (proc(5)): user,
// nice, system, irq and softirq time, whoever ran. Idle, iowait and steal
// (the hypervisor running someone else) are not busy.
func coreSeconds(core string) (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("cpu %s: %w", core, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || f[0] != "cpu"+core {
			continue
		}
		var ticks int64
		for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
			n, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%w: /proc/stat %q: %w", errFormat, line, err)
			}
			ticks += n
		}
		return float64(ticks) / clockTicks, nil
	}
	return 0, fmt.Errorf("%w: no cpu%s in /proc/stat", errFormat, core)
}

// pfKthread is PF_KTHREAD in the flags of /proc/PID/stat (field 9).
const pfKthread = 0x00200000

// kernelThreadSeconds reads the CPU seconds of every kernel thread now,
// summed by kind: the name up to its first '/' or ':' (kworker,
// ksoftirqd, jbd2, loop0, kswapd0...). A thread that exits takes its time
// with it, so a difference of two readings is a lower bound.
func kernelThreadSeconds() (map[string]float64, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("kernel threads: %w", err)
	}
	byKind := make(map[string]float64)
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		st, err := readProcStat("/proc/" + e.Name() + "/stat")
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // exited since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("kernel threads: %w", err)
		}
		if st.flags&pfKthread == 0 {
			continue
		}
		name := st.comm
		if i := strings.IndexAny(name, "/:"); i > 0 {
			name = name[:i]
		}
		byKind[name] += st.cpu
	}
	return byKind, nil
}

// topKernelThreads formats the kinds of kernel thread that ran most
// between two readings, at most n of them: "kworker 2.31 s, jbd2 0.05 s".
func topKernelThreads(before, after map[string]float64, n int) string {
	type kind struct {
		name string
		sec  float64
	}
	var ks []kind
	for name, sec := range after {
		if d := sec - before[name]; d >= 1.0/clockTicks {
			ks = append(ks, kind{name, d})
		}
	}
	slices.SortFunc(ks, func(a, b kind) int { return cmp.Or(cmp.Compare(b.sec, a.sec), strings.Compare(a.name, b.name)) })
	parts := make([]string, 0, n)
	for _, k := range ks[:min(n, len(ks))] {
		parts = append(parts, fmt.Sprintf("%s %.2f s", k.name, k.sec))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func TestTopKernelThreads(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after map[string]float64
		want          string
	}{
		{"none ran", map[string]float64{"kworker": 1}, map[string]float64{"kworker": 1}, "none"},
		{"less than a tick", map[string]float64{"kworker": 1}, map[string]float64{"kworker": 1.005}, "none"},
		{"most first, at most n",
			map[string]float64{"kworker": 1, "jbd": 0.5, "ksoftirqd": 0},
			map[string]float64{"kworker": 3.5, "jbd": 0.6, "ksoftirqd": 0.2, "loop": 0.4},
			"kworker 2.50 s, loop 0.40 s, ksoftirqd 0.20 s"},
		{"a kind that exited is not counted", map[string]float64{"kswapd": 4}, map[string]float64{"kworker": 0.3}, "kworker 0.30 s"},
		{"ties by name", map[string]float64{}, map[string]float64{"b": 1, "a": 1}, "a 1.00 s, b 1.00 s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := topKernelThreads(tc.before, tc.after, 3); got != tc.want {
				t.Errorf("topKernelThreads = %q, want %q", got, tc.want)
			}
		})
	}
}
