package capacity_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
)

// daemonConfig is the daemon's configuration for a step: recording on
// into the data directory with no free-space floor of its own (the store
// keeps its fixed 64 MiB one: /tmp has room), calls stored 1 s after
// their BYE, web and metrics on the namespace's loopback, the alarm panel
// logged.
const daemonConfig = `
recording:
  enabled: true
  min_free: 0
calls:
  linger: 1s
metrics:
  listen: "` + metricsAddr + `"
web:
  listen: "` + webAddr + `"
device:
  panel: log
`

// rate is one speed of the probe.
type rate struct {
	name string
	// arg is tcpreplay's option; mult the speed-up it asks for, 0 for
	// --topspeed.
	arg  string
	mult float64
}

func multiplier(m float64) rate {
	return rate{name: fmt.Sprintf("×%g", m), arg: fmt.Sprintf("--multiplier=%g", m), mult: m}
}

func topSpeed() rate { return rate{name: "top speed", arg: "--topspeed"} }

// harness is what every step shares: the daemon's binary, the link and
// the capture.
type harness struct {
	bin string
	// memLimit is the daemon's GOMEMLIMIT (daemonMemLimit).
	memLimit string
	link     link
	load     load
	dir      string
}

// step is what one step measured.
type step struct {
	rate    rate
	replay  replaySummary
	peakPPS float64 // highest one-second rate at the daemon's interface
	// kernelReceived and kernelDrops are the daemon's capture socket's.
	kernelReceived, kernelDrops float64
	// lagMax is the daemon's longest capture lag (kernel timestamp to
	// pipeline), in seconds: near what the ring holds, drops follow.
	lagMax  float64
	records recordCheck
	// cpu is the daemon's CPU seconds (user+system) from the first
	// packet to when the daemon has stored the last call and is back to
	// its idle rate.
	cpu float64
	// coreBusy is how long the daemon's core was busy over the same span,
	// whoever ran: what is not the daemon's (coreBusy - cpu) is other
	// tasks on its core, the kernel's writeback of the recordings above
	// all, which competes with the capture for the core. othersPeak is
	// their highest share of the core in one second; kernelThreads the
	// kinds of kernel thread that ran most (on any core).
	coreBusy      float64
	othersPeak    float64
	kernelThreads string
	// idle is the daemon's CPU use before the step, with no traffic (CPU
	// seconds per second).
	idle float64
	// rssIdleKB is the daemon's VmRSS before the step, rssPeakKB the
	// highest sampled during it, hwmKB its VmHWM at the end.
	rssIdleKB, rssPeakKB, hwmKB float64
	// anonPeakKB is the highest RssAnon sampled (VmRSS less the binary's
	// pages and the capture ring).
	anonPeakKB float64
	// allUp is VmRSS and RssAnon at their highest while every call of
	// the load was up at once (from the records' times, the kernel's
	// capture clock): the memory of that many concurrent calls, without
	// the second in which they all end and their records are stored.
	allUp allUpPeak
	// peakSet is the resident set by kind at VmRSS's peak.
	peakSet residentSet
	elapsed time.Duration
	// asked is the average rate the step asks of tcpreplay (0 at top
	// speed); load the machine's load averages over 1 minute at the
	// step's start and end (other work on the cores skews the figures).
	asked float64
	load  [2]string
}

func (s step) cpuPerMillion() float64 { return s.cpu / float64(s.replay.packets) * 1e6 }

// callsPerCore is how many calls of 100 packets/s (50 each way) one core
// records at this cost: (1e6 / cpu-seconds-per-million) / 100.
func (s step) callsPerCore() float64 { return 1e6 / s.cpuPerMillion() / 100 }

// problems lists why a step is not clean; none when every packet went
// out and was taken, and every call was stored and recorded exactly.
func (s step) problems(l load) []string {
	var p []string
	if s.replay.packets != int64(l.frames) || s.replay.failed != 0 {
		p = append(p, fmt.Sprintf("tcpreplay sent %d of %d packets, %d failed", s.replay.packets, l.frames, s.replay.failed))
	}
	if s.kernelDrops != 0 {
		p = append(p, fmt.Sprintf("%.0f kernel drops", s.kernelDrops))
	}
	if s.kernelReceived < float64(l.frames) {
		p = append(p, fmt.Sprintf("the capture socket got %.0f of %d packets", s.kernelReceived, l.frames))
	}
	r := s.records
	if r.missing != 0 || r.extra != 0 || r.wrong != 0 {
		p = append(p, fmt.Sprintf("%d records missing, %d extra, %d wrong", r.missing, r.extra, r.wrong))
	}
	if r.incomplete != 0 {
		p = append(p, fmt.Sprintf("%d recordings incomplete", r.incomplete))
	}
	return p
}

func (s step) String() string {
	asked := "as fast as it can"
	if s.asked > 0 {
		asked = fmt.Sprintf("%.0f/s asked", s.asked)
	}
	return fmt.Sprintf("%s: %.0f packets/s (tcpreplay, %s, %d packets in %.2f s; peak %.0f/s at the veth), %.0f kernel drops (capture lag up to %.0f ms), "+
		"%d/%d records (%d missing, %d wrong), %d recordings incomplete, %d calls at once; daemon %.2f CPU-s = %.3f CPU-s per million packets = %.0f recorded calls per core (idle %.1f%% of a core); "+
		"the daemon's core busy %.2f CPU-s, %.2f of them other tasks (up to %.0f%% of the core in a second; kernel threads, any core: %s); "+
		"VmRSS idle %.1f MB, peak %.1f MB (RssAnon peak %.1f MB), VmHWM %.1f MB; at the peak %v; %s; step %v, load average %s → %s",
		s.rate.name, s.replay.pps, asked, s.replay.packets, s.replay.seconds, s.peakPPS, s.kernelDrops, 1000*s.lagMax,
		s.records.stored-s.records.extra, s.records.stored+s.records.missing-s.records.extra, s.records.missing, s.records.wrong,
		s.records.incomplete, s.records.peakConcurrent, s.cpu, s.cpuPerMillion(), s.callsPerCore(), 100*s.idle,
		s.coreBusy, max(s.coreBusy-s.cpu, 0), 100*s.othersPeak, s.kernelThreads,
		s.rssIdleKB/1024, s.rssPeakKB/1024, s.anonPeakKB/1024, s.hwmKB/1024, s.peakSet, s.allUp.describe(s.records.peakConcurrent), s.elapsed.Round(time.Second), s.load[0], s.load[1])
}

// describe says what the resident set was with n calls open at once.
func (a allUpPeak) describe(n int) string {
	if a.samples == 0 {
		return "no reading with every call up at once"
	}
	return fmt.Sprintf("with all %d calls up VmRSS up to %.1f MB (RssAnon %.1f MB, %d readings)", n, a.rssKB/1024, a.anonKB/1024, a.samples)
}

// runStep runs one step: a fresh data directory and daemon, the capture
// replayed at rate r, the daemon's figures read once it has stored the
// last call, then the daemon stopped and the store checked.
func runStep(t *testing.T, h harness, r rate) step {
	t.Helper()

	length := h.load.span()
	if r.mult > 0 {
		length = time.Duration(float64(length) / r.mult)
	}
	budget := length + 3*time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), budget)
	defer cancel()

	dir, err := os.MkdirTemp(h.dir, "step-")
	if err != nil {
		t.Fatal(err)
	}
	// Each step's recordings are as large as the capture's audio: gone
	// with the step, not at the end of the test.
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	}()
	cfgPath, dataDir := filepath.Join(dir, "switchtap.yaml"), filepath.Join(dir, "data")
	cfg := daemonConfig
	if ring := os.Getenv(ringEnv); ring != "" {
		cfg += "capture:\n  ring_size: " + ring + "\n"
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	defer freshExt4(t, dataDir, dataSize(h.load.bytes))()

	// taskset and env exec the daemon in place: the pid is the daemon's,
	// and its threads inherit the one-core mask (GOMAXPROCS follows it).
	daemon := nettest.StartIn(ctx, t, h.link.tapNS, dir, "switchtap run",
		"taskset", "-c", daemonCPU, "env", memLimitEnv+"="+h.memLimit,
		h.bin, "run", "-i", vethName, "--config", cfgPath, "--data-dir", dataDir)
	defer func() {
		if t.Failed() {
			t.Logf("switchtap run output:\n%s", daemon.Tail(6000))
		}
	}()
	if err := daemon.WaitFor(`msg="capture started"`, 20*time.Second); err != nil {
		t.Fatalf("switchtap run: %v", err)
	}
	pid := daemon.Cmd.Process.Pid
	smp := startSampler(ctx, pid, h.link.tapNS, dataDir)
	st := step{rate: r, load: [2]string{loadAverage(), ""}}
	if r.mult > 0 {
		st.asked = float64(h.load.frames) / length.Seconds()
	}
	if st.idle, err = idleCPU(pid, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if st.rssIdleKB, err = statusKB(pid, "VmRSS"); err != nil {
		t.Fatal(err)
	}
	rx0, err := rxPackets(ctx, h.link.tapNS)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	replay := nettest.StartIn(ctx, t, h.link.senderNS, dir, "tcpreplay",
		"taskset", "-c", senderCPU, "tcpreplay", "--preload-pcap", "-i", vethName, r.arg, h.load.path)
	// The daemon's CPU is counted from the first packet, not from
	// tcpreplay's start: preloading the capture takes seconds.
	cpu0, err := cpuAtFirstPacket(ctx, pid, h.link.tapNS, rx0, replay)
	if err != nil {
		t.Fatal(err)
	}
	core0 := readCore(t)
	if err := replay.Wait(budget); err != nil {
		t.Fatalf("tcpreplay: %v\n%s", err, replay.Tail(3000))
	}
	if st.replay, err = parseReplaySummary(replay.Out.String()); err != nil {
		t.Fatal(err)
	}

	m, cpu1 := waitSettled(ctx, t, h, pid, st.idle)
	st.cpu = cpu1 - cpu0
	core1 := readCore(t)
	st.coreBusy, st.kernelThreads = core1.busy-core0.busy, topKernelThreads(core0.threads, core1.threads, 3)
	st.elapsed = time.Since(start)
	st.load[1] = loadAverage()
	st.kernelReceived, st.kernelDrops, st.lagMax = m[mKernelReceived], m[mKernelDropped], m[mLagMax]
	if st.hwmKB, err = statusKB(pid, "VmHWM"); err != nil {
		t.Fatal(err)
	}
	if st.rssPeakKB, st.anonPeakKB, st.peakPPS, st.othersPeak, err = smp.finish(); err != nil {
		t.Fatalf("sampling the daemon: %v", err)
	}

	// The split is a reading for the note, not a condition of the step.
	if rs, err := smp.peakResidentSet(); err != nil {
		t.Logf("resident set at the peak: %v", err)
	} else {
		st.peakSet = rs
	}
	if err := daemon.Stop(syscall.SIGTERM, time.Minute); err != nil {
		t.Fatalf("stop switchtap run (want exit 0 on SIGTERM): %v", err)
	}

	recs, err := nettest.ParseJSONLines(runOut(ctx, t, h.bin, "calls", "--data-dir", dataDir, "--json"))
	if err != nil {
		t.Fatalf("switchtap calls: %v", err)
	}
	st.records = checkRecords(t, recs, h.load, filepath.Join(dataDir, "recordings"))
	st.allUp = smp.peakWithin(st.records.allUp[0], st.records.allUp[1])
	return st
}

// waitSettled waits until the daemon has taken every packet sent and
// ended every call, then until its CPU falls back to its idle rate (the
// last recordings and records committed), and returns its metrics and
// its CPU seconds at that point. Past 30 s without the counts it returns
// what it has: the step's checks say what is missing.
func waitSettled(ctx context.Context, t *testing.T, h harness, pid int, idle float64) (map[string]float64, float64) {
	t.Helper()

	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for {
		m, err := scrape(ctx, h.link.tapNS)
		if err != nil {
			t.Fatal(err)
		}
		if m[mKernelReceived] >= float64(h.load.frames) && m[mCallsEnded] >= float64(h.load.n) && m[mCallsOpen] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Logf("30 s after tcpreplay ended the daemon has %.0f of %d packets and ended %.0f of %d calls, %.0f open",
				m[mKernelReceived], h.load.frames, m[mCallsEnded], h.load.n, m[mCallsOpen])
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	counted := time.Since(start)
	// Settled: half a second at the idle rate, give or take a clock tick.
	const window = 500 * time.Millisecond
	cpu, err := cpuSeconds(pid)
	if err != nil {
		t.Fatal(err)
	}
	for {
		time.Sleep(window)
		next, err := cpuSeconds(pid)
		if err != nil {
			t.Fatal(err)
		}
		if next-cpu <= idle*window.Seconds()+1.0/clockTicks {
			break
		}
		if time.Since(start) > time.Minute {
			t.Logf("the daemon still works a minute after tcpreplay ended")
			break
		}
		cpu = next
	}
	t.Logf("the daemon had every packet and call %v after tcpreplay ended, and was back to idle %v after",
		counted.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	m, err := scrape(ctx, h.link.tapNS)
	if err != nil {
		t.Fatal(err)
	}
	return m, cpu
}

// idleCPU measures the daemon's CPU use with no traffic, in CPU seconds
// per second, over d.
func idleCPU(pid int, d time.Duration) (float64, error) {
	a, err := cpuSeconds(pid)
	if err != nil {
		return 0, err
	}
	time.Sleep(d)
	b, err := cpuSeconds(pid)
	if err != nil {
		return 0, err
	}
	return (b - a) / d.Seconds(), nil
}

// coreReading is the daemon's core's busy time and the kernel threads'
// CPU, read together at a step's start and end.
type coreReading struct {
	busy    float64
	threads map[string]float64
}

func readCore(t *testing.T) coreReading {
	t.Helper()
	busy, err := coreSeconds(daemonCPU)
	if err != nil {
		t.Fatal(err)
	}
	threads, err := kernelThreadSeconds()
	if err != nil {
		t.Fatal(err)
	}
	return coreReading{busy: busy, threads: threads}
}

// cpuAtFirstPacket polls the daemon's interface until a packet arrives
// (or tcpreplay ends) and returns the daemon's CPU seconds then.
func cpuAtFirstPacket(ctx context.Context, pid int, ns string, rx0 int64, replay *nettest.Proc) (float64, error) {
	for {
		cpu, err := cpuSeconds(pid)
		if err != nil {
			return 0, err
		}
		rx, err := rxPackets(ctx, ns)
		if err != nil {
			return 0, err
		}
		if rx > rx0 || replay.Exited() {
			return cpu, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for tcpreplay's first packet: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// loadAverage returns the 1-minute load average ("?" when unreadable).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// runOut runs a short command in the test's own namespace and returns its
// stdout; a failure ends the test with stderr.
func runOut(ctx context.Context, t *testing.T, name string, args ...string) []byte {
	t.Helper()

	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr nettest.LockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}
