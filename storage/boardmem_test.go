package storage

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Environment of the board-memory child: the store's directory, how many
// records it writes, and how much faster than 1,000 calls a minute (0:
// as fast as the store takes them).
const (
	envBoardDir     = "SWITCHTAP_STORAGE_BOARD_DIR"
	envBoardRecords = "SWITCHTAP_STORAGE_BOARD_RECORDS"
	envBoardSpeedup = "SWITCHTAP_STORAGE_BOARD_SPEEDUP"
)

// boardReport is what the board-memory child prints.
type boardReport struct {
	Records int `json:"records"`
	// RecordBytes and MessageBytes are the mean JSON sizes stored per
	// record (call/ value, msgs/ value).
	RecordBytes  int     `json:"record_bytes"`
	MessageBytes int     `json:"message_bytes"`
	WriteSeconds float64 `json:"write_seconds"`
	// PeakWriteRSSMiB is the highest VmRSS sampled while writing; Anon and
	// File split the RSS after the writes (file pages are badger's mapped
	// tables and value log, which the kernel can take back).
	PeakWriteRSSMiB float64 `json:"peak_write_rss_mib"`
	AnonMiB         float64 `json:"anon_mib"`
	FileMiB         float64 `json:"file_mib"`
	PeakHeapMiB     float64 `json:"peak_heap_mib"`
	// LiveHeapMiB is the Go heap still reachable after the writes (after
	// a collection): what GOMEMLIMIT cannot take back.
	LiveHeapMiB float64 `json:"live_heap_mib"`
	// ScanSeconds is one scan of the month holding every record; ScanAnon
	// and ScanFile the RSS after it.
	ScanSeconds float64 `json:"scan_seconds"`
	ScanAnonMiB float64 `json:"scan_anon_mib"`
	ScanFileMiB float64 `json:"scan_file_mib"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"` // VmHWM at the end
	LSMMiB      float64 `json:"lsm_mib"`
	VLogMiB     float64 `json:"vlog_mib"`
}

// boardGroup is how many records one PutCalls carries: a second's worth
// of calls at 1,000 ending per minute, as a writer committing a group per
// sync would hand them over.
const boardGroup = 17

// TestBoardMemoryHelper is the child of BenchmarkBoardMemory: in a fresh
// process (so VmHWM is the store's alone) it writes answered calls with
// their ladders, spread over March, in groups of boardGroup, then scans
// the month once.
func TestBoardMemoryHelper(t *testing.T) {
	dir := os.Getenv(envBoardDir)
	if dir == "" {
		t.Skip("board memory helper: only run by BenchmarkBoardMemory")
	}
	n, speedup := 60_000, 0.0
	if v := os.Getenv(envBoardRecords); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			t.Fatal(err)
		}
	}
	if v := os.Getenv(envBoardSpeedup); v != "" {
		if _, err := fmt.Sscan(v, &speedup); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(dir, WithLogger(discard()), WithReserve(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	month := march.AddDate(0, 1, 0)
	gap := month.Sub(march) / time.Duration(n)
	var rep boardReport
	var ms runtime.MemStats
	cs := make([]sip.Call, 0, boardGroup)
	ladders := benchLadder(t)
	recBytes, msgBytes := 0, 0
	start := time.Now()
	for i := 0; i < n; {
		if speedup > 0 {
			// Calls end at 1,000 a minute, sped up: wait for the
			// group's last call.
			due := start.Add(time.Duration(float64(i+boardGroup) * float64(time.Minute) / 1000 / speedup))
			time.Sleep(time.Until(due))
		}
		cs = cs[:0]
		for ; len(cs) < boardGroup && i < n; i++ {
			c := withMessages(benchCall(i), ladders(i))
			c.InviteAt = march.Add(time.Duration(i) * gap)
			if i < 100 {
				r, _ := json.Marshal(c)
				m, _ := json.Marshal(c.Messages)
				recBytes, msgBytes = recBytes+len(r), msgBytes+len(m)
			}
			cs = append(cs, c)
		}
		if err := s.PutCalls(ctx, cs); err != nil {
			t.Fatal(err)
		}
		if i%(50*boardGroup) < boardGroup {
			rss, err := procStatus("VmRSS:")
			if err != nil {
				t.Fatal(err)
			}
			rep.PeakWriteRSSMiB = max(rep.PeakWriteRSSMiB, rss)
			runtime.ReadMemStats(&ms)
			rep.PeakHeapMiB = max(rep.PeakHeapMiB, mib(ms.HeapInuse))
		}
	}
	rep.WriteSeconds = time.Since(start).Seconds()
	rep.Records = n
	rep.RecordBytes, rep.MessageBytes = recBytes/min(n, 100), msgBytes/min(n, 100)
	if rep.AnonMiB, err = procStatus("RssAnon:"); err != nil {
		t.Fatal(err)
	}
	if rep.FileMiB, err = procStatus("RssFile:"); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	rep.LiveHeapMiB = mib(ms.HeapAlloc)
	start = time.Now()
	got := 0
	if err := s.Calls(ctx, march, month, func(sip.Call) error { got++; return nil }); err != nil || got != n {
		t.Fatalf("month scan: %d records, %v; want %d", got, err, n)
	}
	rep.ScanSeconds = time.Since(start).Seconds()
	if rep.ScanAnonMiB, err = procStatus("RssAnon:"); err != nil {
		t.Fatal(err)
	}
	if rep.ScanFileMiB, err = procStatus("RssFile:"); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	rep.LSMMiB, rep.VLogMiB = mib(uint64(st.LSMBytes)), mib(uint64(st.VLogBytes)) //nolint:gosec // G115: sizes are non-negative
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if rep.PeakRSSMiB, err = procStatus("VmHWM:"); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	fmt.Printf("board %s\n", b)
}

// BenchmarkBoardMemory measures what the store takes of a 512 MB board's
// memory: a child process writes answered calls with their ladders in
// groups of a second's calls, then scans the month once. "rate" writes
// 20,000 at 1,000 calls ending a minute sped up 20× (a minute), the
// board's steady state; "full-speed" 60,000 (an hour's calls) as fast as
// the store takes them, as a replay does. It reports the peak RSS while
// writing and overall, the Go heap at its peak and live after the writes,
// the RSS split after the writes and after the scan, and the scan's
// time. Run it with -benchtime=1x -count 3.
func BenchmarkBoardMemory(b *testing.B) {
	if raceEnabled {
		b.Skip("the race detector inflates RSS")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("no /proc: cannot read RSS")
	}
	for _, bc := range []struct {
		name    string
		records int
		speedup float64
	}{
		{"rate", 20_000, 20},
		{"full-speed", 60_000, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var rep boardReport
			for b.Loop() {
				rep = boardChild(b, bc.records, bc.speedup)
			}
			b.Logf("%d records (%d B record + %d B messages) in %.1f s; scan %.2f s; LSM %.1f MiB, value log %.1f MiB",
				rep.Records, rep.RecordBytes, rep.MessageBytes, rep.WriteSeconds, rep.ScanSeconds, rep.LSMMiB, rep.VLogMiB)
			b.ReportMetric(rep.PeakRSSMiB, "peak-RSS-MiB")
			b.ReportMetric(rep.PeakWriteRSSMiB, "write-RSS-MiB")
			b.ReportMetric(rep.PeakHeapMiB, "heap-MiB")
			b.ReportMetric(rep.LiveHeapMiB, "live-heap-MiB")
			b.ReportMetric(rep.AnonMiB, "anon-MiB")
			b.ReportMetric(rep.FileMiB, "file-MiB")
			b.ReportMetric(rep.ScanAnonMiB, "scan-anon-MiB")
			b.ReportMetric(rep.ScanFileMiB, "scan-file-MiB")
			b.ReportMetric(rep.ScanSeconds*1000, "scan-ms")
		})
	}
}

// boardChild runs TestBoardMemoryHelper in a fresh process and returns
// its report.
func boardChild(b *testing.B, records int, speedup float64) boardReport {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBoardMemoryHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), envBoardDir+"="+b.TempDir(),
		fmt.Sprintf("%s=%d", envBoardRecords, records), fmt.Sprintf("%s=%g", envBoardSpeedup, speedup))
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("board memory helper: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if j, ok := strings.CutPrefix(sc.Text(), "board "); ok {
			var rep boardReport
			if err := json.Unmarshal([]byte(j), &rep); err == nil {
				return rep
			}
		}
	}
	b.Fatalf("no report from the board memory helper:\n%s", out)
	return boardReport{}
}
