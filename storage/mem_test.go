package storage

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

const envMemDir = "SWITCHTAP_STORAGE_MEM_DIR"

// memReport is what the memory helper child prints.
type memReport struct {
	Records    int     `json:"records"`
	Seconds    float64 `json:"seconds"`
	PeakRSSMiB float64 `json:"peak_rss_mib"` // VmHWM
	// AnonMiB and FileMiB split the RSS at the end (before Close): file
	// pages are the mmapped tables and value log, which the kernel can
	// reclaim; anonymous pages are the Go heap and badger's arenas.
	AnonMiB     float64 `json:"anon_mib"`
	FileMiB     float64 `json:"file_mib"`
	PeakHeapMiB float64 `json:"peak_heap_mib"` // max HeapInuse sampled per batch
	PeakSysMiB  float64 `json:"peak_sys_mib"`  // max Sys (all memory from the OS)
	LSMMiB      float64 `json:"lsm_mib"`
	VLogMiB     float64 `json:"vlog_mib"`
}

// TestMemoryHelper is the child of TestMemory50k: a fresh process, so that
// VmHWM is the store's alone.
func TestMemoryHelper(t *testing.T) {
	dir := os.Getenv(envMemDir)
	if dir == "" {
		t.Skip("memory helper: only run by TestMemory50k")
	}
	const n, batch = 50_000, 100
	s, err := Open(dir, WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ms runtime.MemStats
	var rep memReport
	start := time.Now()
	cs := make([]sip.Call, batch)
	for i := 0; i < n; i += batch {
		for j := range cs {
			cs[j] = benchCall(i + j)
		}
		if err := s.PutCalls(ctx, cs); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		rep.PeakHeapMiB = max(rep.PeakHeapMiB, mib(ms.HeapInuse))
		rep.PeakSysMiB = max(rep.PeakSysMiB, mib(ms.Sys))
	}
	rep.Records = n
	rep.Seconds = time.Since(start).Seconds()
	if rep.AnonMiB, err = procStatus("RssAnon:"); err != nil {
		t.Fatal(err)
	}
	if rep.FileMiB, err = procStatus("RssFile:"); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	rep.LSMMiB, rep.VLogMiB = mib(uint64(st.LSMBytes)), mib(uint64(st.VLogBytes)) //nolint:gosec // G115: sizes are non-negative
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	hwm, err := procStatus("VmHWM:")
	if err != nil {
		t.Fatal(err)
	}
	rep.PeakRSSMiB = hwm
	b, _ := json.Marshal(rep)
	fmt.Printf("mem %s\n", b)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// procStatus reads a kB figure of this process from /proc, in MiB.
func procStatus(field string) (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}

// TestMemory50k writes 50,000 records (batches of 100) in a child process
// with the store's options, with and without GOMEMLIMIT, and logs the peak
// RSS and Go heap. It fails above a budget that leaves most of a 512 MB
// board to the rest of the daemon.
func TestMemory50k(t *testing.T) {
	if testing.Short() {
		t.Skip("memory test: skipped with -short")
	}
	if raceEnabled {
		t.Skip("memory test: the race detector inflates RSS")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: cannot read peak RSS")
	}
	cases := []struct {
		name     string
		memlimit string
		budget   float64 // MiB of peak RSS
	}{
		{"default", "", 200},
		// 64 MiB is below the default run's heap peak: the GC runs
		// more often and RSS drops by about a third.
		{"GOMEMLIMIT=64MiB", "64MiB", 160},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), envMemDir+"="+t.TempDir(), "GOMEMLIMIT="+tc.memlimit)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("memory helper: %v\n%s", err, out)
			}
			var rep memReport
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			found := false
			for sc.Scan() {
				if j, ok := strings.CutPrefix(sc.Text(), "mem "); ok {
					found = json.Unmarshal([]byte(j), &rep) == nil
				}
			}
			if !found {
				t.Fatalf("no report from the memory helper:\n%s", out)
			}
			t.Logf("%d records in %.1f s: peak RSS %.1f MiB, peak heap in use %.1f MiB, peak Go sys %.1f MiB; RSS at end %.1f MiB anon + %.1f MiB file; LSM %.1f MiB, value log %.1f MiB",
				rep.Records, rep.Seconds, rep.PeakRSSMiB, rep.PeakHeapMiB, rep.PeakSysMiB, rep.AnonMiB, rep.FileMiB, rep.LSMMiB, rep.VLogMiB)
			if rep.PeakRSSMiB > tc.budget {
				t.Errorf("peak RSS %.1f MiB > budget %.0f MiB", rep.PeakRSSMiB, tc.budget)
			}
		})
	}
}
