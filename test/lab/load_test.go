package lab_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadStats is what one load run measured.
type loadStats struct {
	talk            time.Duration // each call's conversation
	cps             int
	placed, ok      int // SIPp's total and successful calls
	stored, missing int
	// incomplete counts stored calls whose recording is missing, partial
	// or lost packets.
	incomplete int
	// notCompleted counts stored calls whose end_reason is not completed.
	notCompleted     int
	peakConcurrent   int
	pps              float64 // frames/s the kernel passed to the daemon
	kernelDrops      float64
	rssPeakKB, cpuPc float64
	elapsed          time.Duration
	// web is what the API client measured (webload_test.go); nil when
	// the run had none.
	web *webStats
}

// TestLabLoad: SIPp at a steady call rate with RTP both ways on every
// call, ≥ 200 calls at once for SWITCHTAP_LAB_LOAD_DURATION (default 2m):
// no call may be missing from the store and the kernel may drop nothing,
// while a técnico hammers the web API and holds the live stream open
// (issue 8: the web must not disturb the capture).
func TestLabLoad(t *testing.T) {
	requireLab(t)
	if testing.Short() {
		t.Skip("load run skipped in -short mode")
	}
	root := moduleRoot(t)
	bin := buildSwitchtap(t, root)
	l := newLab(t.Context(), t)
	dur := envDuration(t, "SWITCHTAP_LAB_LOAD_DURATION", 2*time.Minute)
	// 10 calls/s × (1 s ring + 20 s talk) ≈ 210 calls at once, each with
	// 50 packets/s each way: ~21k RTP packets/s through the mirror.
	st := runLoad(t, root, bin, l, 10, 20*time.Second, dur, true)
	reportLoad(t, st)
	if st.missing != 0 || st.ok != st.placed {
		t.Errorf("%d of %d calls failed in SIPp, %d missing from the store", st.placed-st.ok, st.placed, st.missing)
	}
	if st.kernelDrops != 0 {
		t.Errorf("kernel dropped %v packets", st.kernelDrops)
	}
	if st.peakConcurrent < 200 {
		t.Errorf("peak %d calls at once, want ≥ 200", st.peakConcurrent)
	}
	if st.incomplete != 0 || st.notCompleted != 0 {
		t.Errorf("%d recordings incomplete, %d calls not ended by their BYE", st.incomplete, st.notCompleted)
	}
	checkWebLoad(t, st)
}

// TestLabCapacity raises the call rate until the first kernel drop or
// missed call (SWITCHTAP_LAB_CAPACITY=1; `make lab-capacity`).
func TestLabCapacity(t *testing.T) {
	if os.Getenv("SWITCHTAP_LAB_CAPACITY") != "1" {
		t.Skip("capacity probe: set SWITCHTAP_LAB_CAPACITY=1")
	}
	requireLab(t)
	root := moduleRoot(t)
	bin := buildSwitchtap(t, root)
	l := newLab(t.Context(), t)
	step := envDuration(t, "SWITCHTAP_LAB_CAPACITY_STEP", 45*time.Second)
	var last loadStats
	for _, cps := range []int{10, 15, 20, 30, 40, 60, 80, 100} {
		st := runLoad(t, root, bin, l, cps, 20*time.Second, step, false)
		reportLoad(t, st)
		if st.missing != 0 || st.kernelDrops != 0 || st.ok != st.placed || st.incomplete != 0 || st.notCompleted != 0 {
			t.Logf("CAPACITY: first loss at %d calls/s; last clean step: %d calls/s, %d calls at once, %.0f packets/s, CPU %.0f%%, RSS %.0f MB",
				cps, last.cps, last.peakConcurrent, last.pps, last.cpuPc, last.rssPeakKB/1024)
			return
		}
		last = st
	}
	t.Logf("CAPACITY: no loss up to %d calls/s (%d at once, %.0f packets/s)", last.cps, last.peakConcurrent, last.pps)
}

// runLoad places calls at cps for dur (plus the ramp-down) and measures;
// the caller decides what counts as a failure (the capacity probe expects
// to find one). With web, a client hammers the API from the daemon's start
// to just before its stop (the capacity probe measures the capture alone).
func runLoad(t *testing.T, root, bin string, l *lab, cps int, talk, dur time.Duration, web bool) loadStats {
	t.Helper()

	callLen := talk + time.Second
	total := cps * int((dur + callLen).Seconds())
	budget := dur + 2*callLen + 90*time.Second
	ctx, cancel := context.WithTimeout(t.Context(), budget)
	defer cancel()

	dir := t.TempDir()
	makeAudio(ctx, t, dir, talk+5*time.Second)
	dataDir := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "switchtap.yaml")
	if err := os.WriteFile(cfgPath, []byte(labConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	// The web on the tap namespace's loopback: the API client reaches it
	// there and nothing outside the lab's namespaces.
	daemon := startIn(ctx, t, l.tapNS, dir, "switchtap run",
		bin, "run", "-i", l.tapIface, "--config", cfgPath, "--data-dir", dataDir, "--web-listen", webAddr)
	if err := daemon.WaitFor(`msg="capture started"`, 10*time.Second); err != nil {
		t.Fatalf("switchtap run: %v", err)
	}
	var wl *webLoad
	if web {
		wl = startWebLoad(ctx, t, l, bin, cfgPath, dataDir)
	}
	pid := daemon.Cmd.Process.Pid
	cpu0 := cpuTicks(pid)

	sipp := filepath.Join(root, "test", "lab", "sipp")
	timeout := fmt.Sprintf("%ds", int(budget.Seconds())-30)
	common := []string{"-m", strconv.Itoa(total), "-timeout", timeout, "-timeout_error", "-nostdin", "-nd",
		"-key", "caller", callerExt, "-key", "ftag", "loadA", "-key", "ttag", "loadB", "-key", "pad", "-"}
	uas := startIn(ctx, t, l.rec.ns, dir, "sipp uas (load)", append([]string{"sipp", "-sf", filepath.Join(sipp, "uas-load.xml"),
		"-i", recIP, "-p", "5060", "-mi", recIP, "-mp", "6000", "-d", "1000"}, common...)...)
	waitListen(ctx, t, l.rec.ns, "5060", false, uas)
	start := time.Now()
	uac := startIn(ctx, t, l.caller.ns, dir, "sipp uac (load)", append([]string{"sipp", "-sf", filepath.Join(sipp, "uac.xml"),
		"-i", callerIP, "-p", "5060", "-mi", callerIP, "-mp", "6000", "-s", recExt,
		"-r", strconv.Itoa(cps), "-l", strconv.Itoa(cps * int(callLen.Seconds()) * 2), "-d", strconv.Itoa(int(talk.Milliseconds())),
		"-cid_str", "load-%u@lab", recIP + ":5060"}, common...)...)

	st := loadStats{cps: cps, talk: talk, placed: total}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for !uac.Exited() {
		select {
		case <-tick.C:
			kb := rssKB(pid)
			if kb > st.rssPeakKB {
				st.rssPeakKB = kb
			}
			t.Logf("t=%3.0fs daemon RSS %.1f MB", time.Since(start).Seconds(), kb/1024)
		case <-uac.Done:
		case <-ctx.Done():
			t.Fatalf("load run over its %v budget", budget)
		}
	}
	st.elapsed = time.Since(start)
	if err := uac.Wait(time.Second); err != nil {
		t.Logf("SIPp UAC: %v\n%s", err, uac.Tail(4000))
	}
	st.ok = sippSuccessful(t, uac.Out.String())
	if err := uas.Wait(30 * time.Second); err != nil {
		t.Logf("SIPp UAS: %v\n%s", err, uas.Tail(4000))
	}

	time.Sleep(2 * time.Second) // the last legs' linger
	if wl != nil {
		// Before the scrape, so that the drops counted cover the whole web
		// load; after the linger, so that the live stream saw every end.
		st.web = wl.finish(ctx, t)
	}
	m := parseMetrics(t, scrape(ctx, t, l))
	st.kernelDrops = m["switchtap_capture_kernel_dropped_packets_total"]
	st.pps = m["switchtap_capture_kernel_received_packets_total"] / st.elapsed.Seconds()
	st.cpuPc = float64(cpuTicks(pid)-cpu0) / 100 / st.elapsed.Seconds() * 100
	if kb := rssKB(pid); kb > st.rssPeakKB {
		st.rssPeakKB = kb
	}
	if err := daemon.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("stop switchtap run: %v\n%s", err, daemon.Tail(4000))
	}

	recs, err := parseJSONLines(runOut(ctx, t, time.Minute, bin, "calls", "--data-dir", dataDir, "--json"))
	if err != nil {
		t.Fatalf("switchtap calls: %v", err)
	}
	seen := map[string]bool{}
	type span struct{ a, b time.Time }
	var spans []span
	for _, r := range recs {
		seen[r.Str("call_id")] = true
		a, _ := r.Time("invite_at")
		b, _ := r.Time("ended_at")
		if r.Str("end_reason") != "completed" {
			st.notCompleted++
			if st.notCompleted <= 5 {
				t.Logf("load call %s ended %s (%s)", r.Str("call_id"), r.Str("end_reason"), r.Str("end_detail"))
			}
		}
		if why := recordingIncomplete(r, filepath.Join(dataDir, "recordings")); why != "" {
			st.incomplete++
			if st.incomplete <= 5 {
				t.Logf("load call %s: recording %s", r.Str("call_id"), why)
			}
		}
		spans = append(spans, span{a, b})
	}
	st.stored = len(recs)
	if st.web != nil {
		st.web.matchStored(recs)
	}
	var missing []string
	for i := 1; i <= total; i++ {
		if id := fmt.Sprintf("load-%d@lab", i); !seen[id] {
			missing = append(missing, id)
		}
	}
	st.missing = len(missing)
	if len(missing) > 0 {
		t.Logf("%d calls missing from the store, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	// Peak concurrency from the stored records themselves.
	for _, s := range spans {
		n := 0
		for _, o := range spans {
			if !o.a.After(s.a) && o.b.After(s.a) {
				n++
			}
		}
		st.peakConcurrent = max(st.peakConcurrent, n)
	}

	return st
}

// recordingIncomplete says what is wrong with a load call's recording, ""
// when it is complete: a WAV on disk covering the answer to the end (within
// one packet), both directions with packets and none lost.
func recordingIncomplete(r record, dir string) string {
	rc := r.Obj("recording")
	if rc == nil || rc.Str("file") == "" {
		return fmt.Sprintf("missing (%s)", show(r["recording"], true))
	}
	if nr := rc.Str("not_recordable"); nr != "" {
		return "not recordable: " + nr
	}
	if _, err := os.Stat(filepath.Join(dir, rc.Str("file"))); err != nil {
		return err.Error()
	}
	for _, side := range []string{"caller", "callee"} {
		packets, _ := rc.Obj(side).Float("packets")
		lost, _ := rc.Obj(side).Float("lost")
		if packets == 0 || lost != 0 {
			return fmt.Sprintf("%s: %v packets, %v lost", side, packets, lost)
		}
	}
	a, _ := r.Time("answered_at")
	b, _ := r.Time("ended_at")
	dur, _ := rc.Float("duration_seconds")
	if d := dur - b.Sub(a).Seconds(); d < -0.02 || d > 0.02 {
		return fmt.Sprintf("%.3f s of audio for %.3f s of call", dur, b.Sub(a).Seconds())
	}
	return ""
}

func reportLoad(t *testing.T, st loadStats) {
	t.Helper()
	t.Logf("LOAD: %d calls/s, %v talk, %d placed, %d successful (SIPp), %d stored, %d missing, %d recordings incomplete, peak %d at once, "+
		"%.0f packets/s to the daemon, %v kernel drops, daemon CPU %.0f%% of one core, RSS peak %.1f MB, run %v",
		st.cps, st.talk, st.placed, st.ok, st.stored, st.missing, st.incomplete, st.peakConcurrent, st.pps, st.kernelDrops,
		st.cpuPc, st.rssPeakKB/1024, st.elapsed.Round(time.Second))
}

var successfulRE = regexp.MustCompile(`Successful call\s*\|\s*\d+\s*\|\s*(\d+)`)

// sippSuccessful reads the cumulative "Successful call" count from SIPp's
// final statistics screen.
func sippSuccessful(t *testing.T, out string) int {
	t.Helper()
	ms := successfulRE.FindAllStringSubmatch(out, -1)
	if len(ms) == 0 {
		t.Errorf("no Successful call line in SIPp's output:\n%s", out[max(0, len(out)-3000):])
		return 0
	}
	n, _ := strconv.Atoi(ms[len(ms)-1][1])
	return n
}

// rssKB reads VmRSS of pid in kB.
func rssKB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

// cpuTicks reads utime+stime of pid in clock ticks (USER_HZ, 100).
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}
