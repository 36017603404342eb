// Package diskfull is the regression test of issue 9, item 1: "a full disk
// kills the daemon, and it cannot start again". It runs the real binary on
// a small tmpfs (mounted by the test, root only) and fills the disk under
// it, by another writer (dd) during a paced `run --pcap`, and by the
// daemon's own recordings with recording.min_free: 0. Before the fix the
// daemon died of SIGBUS in badger's memtable writes (exit 2, records
// lost), crashed again at every start, and `switchtap calls` with it.
package diskfull

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/internal/tmpfs"
)

const (
	buildBudget = 3 * time.Minute
	readyBudget = 30 * time.Second
	stopBudget  = 60 * time.Second
	// tmpfsSize holds badger's preallocated files (48 MiB), its reserve
	// (32 MiB) and its floor (64 MiB) with room to record.
	tmpfsSize = 256 << 20
	// selfFillSize is the disk the recordings fill: the store's files,
	// reserve and floor (about 144 MiB, the least disk a store starts on
	// without being full) and some room to record above them. What the
	// recordings must write to fill it is the room, plus the floor and
	// the reserve (released at 16 MiB free) below it: about 120 MiB,
	// which selfFillCalls of selfFillTalk exceed (150 MiB of audio).
	selfFillSize  = 160 << 20
	selfFillCalls = 1000
	selfFillTalk  = 10 * time.Second
)

// fill writes zeros until the filesystem is full, as dd from another
// service would.
func fill(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=1M").CombinedOutput()
	if err == nil {
		t.Fatalf("dd filled nothing: %s", out)
	}
	if !strings.Contains(string(out), "No space left") {
		t.Fatalf("dd: %v: %s", err, out)
	}
}

// writeLoad writes n answered calls with RTP (pcapgen's load) starting at
// start.
func writeLoad(t *testing.T, path string, n int, start time.Time) {
	t.Helper()
	writeLoadWith(t, path, n, start, pcapgen.LoadOptions{})
}

// writeLoadWith is writeLoad with the calls timed by opts.
func writeLoadWith(t *testing.T, path string, n int, start time.Time, opts pcapgen.LoadOptions) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgen.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pcapgen.LoadWith(w, n, start, opts); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// daemon is a running `switchtap run`.
type daemon struct {
	cmd  *exec.Cmd
	out  *nettest.LockedBuffer
	done chan struct{}
	err  error
}

func start(t *testing.T, bin string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(bin, args...) //nolint:gosec // G204: the binary the test built
	d := &daemon{cmd: cmd, out: &nettest.LockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.out, d.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
		if t.Failed() {
			t.Logf("switchtap output (tail):\n%s", tailOf(d.out.String(), 6000))
		}
	})
	return d
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// waitLog waits for a log line containing s and returns its fields.
func (d *daemon) waitLog(t *testing.T, s string, timeout time.Duration) map[string]string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sc := bufio.NewScanner(strings.NewReader(d.out.String()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				return nettest.LogFields(sc.Text())
			}
		}
		if d.exited() {
			t.Fatalf("switchtap exited (%v) before logging %q", d.err, s)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v", s, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if d.exited() {
		t.Fatalf("switchtap exited on its own: %v", d.err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.done:
	case <-time.After(stopBudget):
		t.Fatalf("switchtap did not stop within %v", stopBudget)
	}
	if d.err != nil {
		t.Fatalf("switchtap run: %v", d.err)
	}
}

// metrics scrapes the daemon's metrics into name{labels} → value.
func metrics(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics") //nolint:noctx // a test scrape
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// waitMetric waits until the metric satisfies ok.
func waitMetric(t *testing.T, d *daemon, addr, name string, ok func(float64) bool, timeout time.Duration) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := metrics(t, addr)
		if ok(m[name]) {
			return m
		}
		if d.exited() {
			t.Fatalf("switchtap exited (%v) while waiting for %s", d.err, name)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after %v", name, m[name], timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storedCall is what the tests read of a record.
type storedCall struct {
	CallID    string    `json:"call_id"`
	InviteAt  time.Time `json:"invite_at"`
	Recording *struct {
		File          string `json:"file"`
		NotRecordable string `json:"not_recordable"`
	} `json:"recording"`
}

// storedCalls lists the records with `switchtap calls --json` and checks
// each leg (Call-ID and invite_at) appears once.
func storedCalls(t *testing.T, bin, dataDir string) []storedCall {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "calls", "--json", "--data-dir", dataDir) //nolint:gosec // G204: the test's binary
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("switchtap calls: %v\n%s", err, stderr.String())
	}
	seen := map[string]bool{}
	var recs []storedCall
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec storedCall
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("calls output: %v: %s", err, sc.Text())
		}
		// The loads reuse Call-IDs at another hour: a leg is both.
		leg := rec.CallID + " " + rec.InviteAt.Format(time.RFC3339Nano)
		if seen[leg] {
			t.Errorf("leg %s stored twice", leg)
			continue
		}
		seen[leg] = true
		recs = append(recs, rec)
	}
	return recs
}

// storedIDs is storedCalls as a set of legs.
func storedIDs(t *testing.T, bin, dataDir string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, rec := range storedCalls(t, bin, dataDir) {
		ids[rec.CallID+" "+rec.InviteAt.Format(time.RFC3339Nano)] = true
	}
	return ids
}

// removeRecordings deletes the recordings under dir, finished (".wav")
// and cut by a failed write (".part"), as an administrator freeing space
// would, and says how many and how big.
func removeRecordings(t *testing.T, dir string) string {
	t.Helper()
	var wavs, parts int
	var size int64
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".wav"):
			wavs++
		case strings.HasSuffix(path, ".wav.part"):
			parts++
		default:
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		size += info.Size()
		return os.Remove(path)
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d WAVs and %d .part files, %.1f MiB", wavs, parts, float64(size)/(1<<20))
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// config is the daemon's configuration: the recording floor above the
// store's, so that a filling disk stops recording first.
func writeConfig(t *testing.T, path, minFree string) {
	t.Helper()
	body := "recording:\n  min_free: " + minFree + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("the full-disk test (about a minute) is skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		testenv.SkipOrFail(t, "the full-disk test mounts a tmpfs: needs root")
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := nettest.BuildSwitchtap(t, root, buildBudget)

	// Another writer fills the disk during a paced run: the daemon stays
	// up, the store's disk metric and the status lamp show the fault,
	// capture goes on, and once the dd file is deleted every record is
	// stored, once. Then a start on the full disk does not crash, and
	// `calls` reads the store on it.
	t.Run("dd during a live run", func(t *testing.T) {
		const calls = 150 // 15 s of INVITEs, 30 calls talking at once
		fs := tmpfs.Mount(t, tmpfsSize)
		dir := t.TempDir()
		pcap := filepath.Join(dir, "load.pcap")
		writeLoad(t, pcap, calls, time.Now().UTC().Truncate(time.Second))
		cfg := filepath.Join(dir, "switchtap.yaml")
		writeConfig(t, cfg, "120MiB")
		data := filepath.Join(fs, "data")
		d := start(t, bin, "run", "--pcap", pcap, "--realtime", "--config", cfg, "--data-dir", data,
			"--web-listen", "off", "--metrics-listen", "127.0.0.1:0")
		addr := d.waitLog(t, `msg="switchtap ready"`, readyBudget)["metrics"]
		waitMetric(t, d, addr, "switchtap_store_dropped_records_total", func(float64) bool { return true }, 5*time.Second)
		d.waitLog(t, `msg="call stored"`, 30*time.Second)

		filler := filepath.Join(fs, "dd.fill")
		fill(t, filler)
		m := waitMetric(t, d, addr, "switchtap_store_disk_full", func(v float64) bool { return v == 1 }, 10*time.Second)
		framesFull := m["switchtap_capture_frames_total"]
		// Records wait in memory, and the lamp shows the store's fault.
		waitMetric(t, d, addr, "switchtap_store_queue_records", func(v float64) bool { return v > 0 }, 10*time.Second)
		waitMetric(t, d, addr, `switchtap_status_lamp{state="fault"}`, func(v float64) bool { return v == 1 }, 10*time.Second)
		d.waitLog(t, `msg="store write failed, retrying"`, 5*time.Second)
		d.waitLog(t, `msg="disk full: store writes refused`, 5*time.Second)
		time.Sleep(2 * time.Second)
		m = metrics(t, addr)
		if m["switchtap_capture_frames_total"] <= framesFull {
			t.Errorf("capture stopped on a full disk: %v frames, %v before", m["switchtap_capture_frames_total"], framesFull)
		}
		if m["switchtap_capture_up"] != 1 {
			t.Errorf("capture down on a full disk")
		}

		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		waitMetric(t, d, addr, "switchtap_store_disk_full", func(v float64) bool { return v == 0 }, 10*time.Second)
		d.waitLog(t, `msg="end of input"`, 60*time.Second)
		m = waitMetric(t, d, addr, "switchtap_store_queue_records", func(v float64) bool { return v == 0 }, 30*time.Second)
		if m["switchtap_store_dropped_records_total"] != 0 {
			t.Errorf("%v records dropped", m["switchtap_store_dropped_records_total"])
		}
		if m["switchtap_store_disk_refused_writes_total"] == 0 {
			t.Errorf("no write was refused: the disk never looked full to the store")
		}
		d.stop(t)
		if ids := storedIDs(t, bin, data); len(ids) != calls {
			t.Errorf("%d records stored, want %d", len(ids), calls)
		}

		// `calls` reads the store on a full disk.
		fill(t, filler)
		if ids := storedIDs(t, bin, data); len(ids) != calls {
			t.Errorf("calls on a full disk: %d records, want %d", len(ids), calls)
		}

		// A start on a full disk: a clear error or a degraded start,
		// never a fault; once space returns the calls it took are stored.
		const more = 3
		small := filepath.Join(dir, "small.pcap")
		writeLoad(t, small, more, time.Now().UTC().Add(time.Hour).Truncate(time.Second))
		args := []string{"run", "--pcap", small, "--config", cfg, "--data-dir", data, "--web-listen", "off", "--metrics-listen", "127.0.0.1:0"}
		d = start(t, bin, args...)
		select {
		case <-d.done:
			if strings.Contains(d.out.String(), "fatal error") || strings.Contains(d.out.String(), "SIGBUS") {
				t.Fatalf("start on a full disk crashed:\n%s", tailOf(d.out.String(), 3000))
			}
			if !strings.Contains(d.out.String(), "disk full") {
				t.Errorf("start on a full disk failed without saying why:\n%s", tailOf(d.out.String(), 3000))
			}
			t.Logf("start on a full disk refused: %s", tailOf(strings.TrimSpace(d.out.String()), 400))
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			d = start(t, bin, args...)
			d.waitLog(t, `msg="switchtap ready"`, readyBudget)
		case <-time.After(5 * time.Second):
			addr := d.waitLog(t, `msg="switchtap ready"`, readyBudget)["metrics"]
			t.Logf("started degraded on a full disk")
			d.waitLog(t, `msg="end of input"`, 30*time.Second)
			waitMetric(t, d, addr, "switchtap_store_disk_full", func(v float64) bool { return v == 1 }, 10*time.Second)
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			waitMetric(t, d, addr, "switchtap_store_queue_records", func(v float64) bool { return v == 0 }, 30*time.Second)
		}
		d.waitLog(t, `msg="end of input"`, 30*time.Second)
		d.stop(t)
		if ids := storedIDs(t, bin, data); len(ids) != calls+more {
			t.Errorf("after the start on a full disk: %d records, want %d", len(ids), calls+more)
		}
	})

	// The daemon's own recordings fill the disk (the reproduction:
	// recording.min_free: 0, a live load with RTP, no other writer): the
	// store's floor is reached first (records wait in memory, the lamp
	// shows the fault, capture goes on), then the recorder's writes fail
	// for lack of space and it stops writing audio (each file cut where
	// the disk ended). Once recordings are deleted every record is stored,
	// once.
	t.Run("recordings fill the disk", func(t *testing.T) {
		fs := tmpfs.Mount(t, selfFillSize)
		dir := t.TempDir()
		pcap := filepath.Join(dir, "talk.pcap")
		// selfFillCalls of selfFillTalk, one every 10 ms: about 1,000
		// talking at once, 16 MB of audio a second, 130 MB in all, over
		// what the disk holds above the store's files.
		writeLoadWith(t, pcap, selfFillCalls, time.Now().UTC().Truncate(time.Second),
			pcapgen.LoadOptions{Interval: 10 * time.Millisecond, Talk: selfFillTalk})
		cfg := filepath.Join(dir, "switchtap.yaml")
		writeConfig(t, cfg, "0")
		data := filepath.Join(fs, "data")
		d := start(t, bin, "run", "--pcap", pcap, "--realtime", "--config", cfg, "--data-dir", data,
			"--web-listen", "off", "--metrics-listen", "127.0.0.1:0")
		addr := d.waitLog(t, `msg="switchtap ready"`, readyBudget)["metrics"]
		m := waitMetric(t, d, addr, "switchtap_store_disk_full", func(v float64) bool { return v == 0 }, 5*time.Second)
		t.Logf("free at start %.1f MiB (tmpfs %d MiB, store floor %.0f MiB, reserve %.0f MiB)",
			m["switchtap_disk_free_bytes"]/(1<<20), selfFillSize>>20, m["switchtap_store_disk_floor_bytes"]/(1<<20),
			m["switchtap_store_disk_reserve_bytes"]/(1<<20))

		// The store's floor first: no write reaches badger below it.
		m = waitMetric(t, d, addr, "switchtap_store_disk_full", func(v float64) bool { return v == 1 }, 60*time.Second)
		framesFull := m["switchtap_capture_frames_total"]
		waitMetric(t, d, addr, `switchtap_status_lamp{state="fault"}`, func(v float64) bool { return v == 1 }, 10*time.Second)
		waitMetric(t, d, addr, "switchtap_store_queue_records", func(v float64) bool { return v > 0 }, 30*time.Second)
		d.waitLog(t, `msg="disk full: store writes refused`, 5*time.Second)
		// Then the recorder: with no floor of its own, its writes fail
		// when the disk has no block left, and it stops writing audio.
		d.waitLog(t, `msg="recordings not written"`, 60*time.Second)
		m = metrics(t, addr)
		if m["switchtap_capture_frames_total"] <= framesFull {
			t.Errorf("capture stopped on a full disk: %v frames, %v when the store's floor was reached",
				m["switchtap_capture_frames_total"], framesFull)
		}
		if m["switchtap_capture_up"] != 1 {
			t.Errorf("capture down on a full disk")
		}
		if m["switchtap_store_disk_full"] != 1 {
			t.Errorf("store writes resumed on a disk the recordings filled: free %v", m["switchtap_disk_free_bytes"])
		}
		d.waitLog(t, `msg="end of input"`, 120*time.Second)
		if d.exited() {
			t.Fatalf("switchtap exited: %v", d.err)
		}

		// Space returns: the recordings are deleted (as an administrator
		// would), the store takes its reserve back and writes the queue.
		// The files whose writes failed are still ".part" (Repair at the
		// next start makes them WAVs): they go too.
		removed := removeRecordings(t, filepath.Join(data, "recordings"))
		t.Logf("deleted: %v", removed)
		waitMetric(t, d, addr, "switchtap_store_disk_full", func(v float64) bool { return v == 0 }, 10*time.Second)
		m = waitMetric(t, d, addr, "switchtap_store_queue_records", func(v float64) bool { return v == 0 }, 60*time.Second)
		if m["switchtap_store_dropped_records_total"] != 0 {
			t.Errorf("%v records dropped", m["switchtap_store_dropped_records_total"])
		}
		if m["switchtap_store_disk_refused_writes_total"] == 0 {
			t.Errorf("no write was refused: the disk never looked full to the store")
		}
		d.stop(t)
		recs := storedCalls(t, bin, data)
		if len(recs) != selfFillCalls {
			t.Errorf("%d records stored, want %d", len(recs), selfFillCalls)
		}
		// The recorder did stop: records say their audio was not (wholly)
		// written.
		cut, reasons := 0, map[string]int{}
		for _, r := range recs {
			if r.Recording == nil {
				t.Errorf("%s: no recording object", r.CallID)
				continue
			}
			if r.Recording.NotRecordable != "" {
				cut++
			}
			reasons[r.Recording.NotRecordable]++
		}
		if cut == 0 {
			t.Errorf("every one of %d recordings whole on a disk too small for them", len(recs))
		}
		t.Logf("%d records stored, %d with their audio cut by the full disk; not_recordable: %v", len(recs), cut, reasons)
	})
}
