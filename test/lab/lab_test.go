// Package lab_test is the "switchboard in a box": the appliance proved the
// way it is deployed. Real phones (SIPp, with RTP both ways and different
// audio on each side) call each other through a real switch (a Linux bridge
// whose host ports are copied to a mirror port by tc mirred), and
// `switchtap run -i <mirror>` captures there with its real configuration
// file, store, metrics endpoint and alarm panel (log driver). tcpdump
// records the same mirror port; tshark's reading of that file is the
// independent truth every stored record, alarm edge and metric is checked
// against.
//
// Run it as root:
//
//	SWITCHTAP_REQUIRE_ALL=1 go test ./test/lab/ -run TestLab -v
//
// It needs ip, tc, ss (iproute2), sipp (sip-tester), tcpdump, tshark, sox
// and curl; without root or any of them it skips, unless
// SWITCHTAP_REQUIRE_ALL=1 (CI), which makes that a failure. Namespaces are
// named slab-<pid>-<role> and always removed; if the test binary is killed
// before its cleanup runs, `ip netns list | grep ^slab-` shows leftovers.
//
// The lab's ring cadence is short (max_rings 2, 1 s on, 1 s off: warning
// 2 s, limit 4 s after the 180) so that "past the limit" takes seconds, not
// the 24 s of the default policy.
package lab_test

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
)

const (
	// labMaxRings and labCycle are the lab configuration's ring policy.
	labMaxRings = 2
	labCycle    = 2 * time.Second
	// scenarioBudget bounds one scenario: daemon, calls, checks.
	scenarioBudget = 90 * time.Second
	// panelLatency is how late the panel may change after a threshold.
	panelLatency = 50 * time.Millisecond
	// timeTolerance: stored times must equal tshark's to the microsecond.
	timeTolerance = time.Microsecond
)

// labConfig is the daemon's configuration file, as an installer writes it.
const labConfig = `
ring:
  max_rings: 2
  ring_on: 1s
  ring_off: 1s
receptionists:
  - name: Reception
    extensions: ["2001"]
    ips: ["192.0.2.31", "192.0.2.32"]
calls:
  linger: 1s
metrics:
  listen: "127.0.0.1:7060"
device:
  panel: log
`

// phone is one SIPp instance of a scenario.
type phone struct {
	name string
	host func(*lab) host
	ip   string // -i and -mi
	port string // -p
	xml  string // in test/lab/sipp
	uas  bool
	args []string // -d, -key, -s, -cid_str …
	// remote is the UAC's destination ip:port.
	remote string
}

// result is what one scenario produced, for its checks.
type result struct {
	pcap    string
	records map[string]record // by Call-ID
	legs    map[string]*legTruth
	frames  []sipFrame
	edges   []edgeLine
	panels  []panelLine
	metrics string
}

// scenario is one case of the lab.
type scenario struct {
	name   string
	phones []phone
	tcp    bool
	vlan   bool
	// check asserts what is particular to the scenario; every leg's
	// times, end reason and hangup side are checked for all.
	check func(t *testing.T, r *result)
	// recording checks a leg's recording against the capture (nil: the
	// default checkRecording).
	recording func(t *testing.T, rec record, pcap string)
}

func callerPhone(xml string, args ...string) phone {
	return phone{name: "caller", host: func(l *lab) host { return l.caller }, ip: callerIP, port: "5060", xml: xml,
		// SIPp keeps a key's first value: the scenario's args come first.
		args:   append(args, "-s", recExt, "-key", "caller", callerExt, "-key", "ftag", "callerA", "-key", "pad", "-"),
		remote: recIP + ":5060"}
}

func recPhone(xml string, args ...string) phone {
	return phone{name: "receptionist", host: func(l *lab) host { return l.rec }, ip: recIP, port: "5060", xml: xml, uas: true,
		args: append(args, "-key", "ttag", "recA", "-key", "ftag", "callerA", "-key", "caller", callerExt)}
}

func targetPhone(port, xml string, args ...string) phone {
	return phone{name: "target:" + port, host: func(l *lab) host { return l.target }, ip: targetIP, port: port, xml: xml, uas: true,
		args: append(args, "-key", "ttag", "tgt"+port)}
}

// TestLabScenarios runs every call scenario through the lab, one daemon
// run (fresh store, fresh capture) per scenario, on one lab.
func TestLabScenarios(t *testing.T) {
	requireLab(t)
	root := moduleRoot(t)
	bin := buildSwitchtap(t, root)
	start := time.Now()
	l := newLab(t.Context(), t)
	audio := t.TempDir()
	makeAudio(t.Context(), t, audio, 30*time.Second)
	makeGreetingAudio(t.Context(), t, audio)

	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), scenarioBudget)
			defer cancel()
			if sc.vlan && l.noVLAN != "" {
				t.Skip(l.noVLAN)
			}
			runScenario(ctx, t, root, bin, l, audio, sc)
		})
	}
	t.Logf("lab scenarios took %v", time.Since(start).Round(time.Millisecond))
}

// runScenario starts tcpdump and the daemon on the mirror port, places the
// scenario's calls, stops everything and checks the records against the
// capture.
func runScenario(ctx context.Context, t *testing.T, root, bin string, l *lab, audio string, sc scenario) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "switchtap.yaml")
	if err := os.WriteFile(cfgPath, []byte(labConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	pcapPath := filepath.Join(dir, "mirror.pcap")

	// -Z root: tcpdump would otherwise drop to user tcpdump, who cannot
	// write in the root-owned temporary folder.
	tcpdump := startIn(ctx, t, l.tapNS, dir, "tcpdump",
		"tcpdump", "-n", "-i", l.tapIface, "-w", pcapPath, "-U", "--time-stamp-precision=nano", "-Z", "root")
	daemon := startIn(ctx, t, l.tapNS, dir, "switchtap run",
		bin, "run", "-i", l.tapIface, "--config", cfgPath, "--data-dir", dataDir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("switchtap run output:\n%s", daemon.Tail(12000))
		}
	})
	if err := tcpdump.WaitFor("listening on", 10*time.Second); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	if err := daemon.WaitFor(`msg="capture started"`, 10*time.Second); err != nil {
		t.Fatalf("switchtap run: %v", err)
	}

	placeCalls(ctx, t, root, audio, l, sc)

	// The last leg's linger (1 s) passes, then the daemon is scraped while
	// it runs, then stopped.
	time.Sleep(1500 * time.Millisecond)
	res := &result{pcap: pcapPath}
	res.metrics = scrape(ctx, t, l)
	if err := daemon.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("stop switchtap run (want exit 0 on SIGTERM): %v", err)
	}
	if err := tcpdump.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatalf("stop tcpdump: %v", err)
	}

	res.frames = tsharkFrames(ctx, t, pcapPath)
	res.legs = legsFromFrames(res.frames)
	recs, err := parseJSONLines(runOut(ctx, t, 20*time.Second, bin, "calls", "--data-dir", dataDir, "--json"))
	if err != nil {
		t.Fatalf("switchtap calls --json: %v", err)
	}
	res.records = map[string]record{}
	for _, r := range recs {
		res.records[r.Str("call_id")] = r
	}
	res.edges, res.panels = parseAlarmLog(t, daemon.Out.String())

	checkLegs(t, res, sc.tcp)
	checkAlarms(t, res)
	checkMetrics(t, res)
	for id, rec := range res.records {
		t.Logf("record %s: %s", id, show(map[string]any(rec), true))
		checkSpeech(t, res, rec)
		if sc.recording != nil {
			sc.recording(t, rec, pcapPath)
		} else {
			checkRecording(t, rec, filepath.Join(dataDir, "recordings"), pcapPath)
		}
	}
	if sc.check != nil {
		sc.check(t, res)
	}
}

// placeCalls starts the scenario's answering phones, waits until they
// listen, starts the calling ones together and waits for every SIPp to
// succeed (exit 0).
func placeCalls(ctx context.Context, t *testing.T, root, audio string, l *lab, sc scenario) {
	t.Helper()

	sipp := filepath.Join(root, "test", "lab", "sipp")
	var procs []*proc
	start := func(i int, p phone) *proc {
		argv := []string{"sipp", "-sf", filepath.Join(sipp, p.xml), "-i", p.ip, "-p", p.port,
			"-mi", p.ip, "-mp", fmt.Sprint(6000 + 10*i), "-m", "1",
			"-timeout", "40s", "-timeout_error", "-nostdin", "-nd"}
		if sc.tcp {
			argv = append(argv, "-t", "t1")
		}
		argv = append(argv, p.args...)
		if !p.uas {
			argv = append(argv, p.remote)
		}
		pr := startIn(ctx, t, p.host(l).ns, audio, "sipp "+p.name+" ("+p.xml+")", argv...)
		procs = append(procs, pr)
		return pr
	}
	for i, p := range sc.phones {
		if p.uas {
			pr := start(i, p)
			waitListen(ctx, t, p.host(l).ns, p.port, sc.tcp, pr)
		}
	}
	for i, p := range sc.phones {
		if !p.uas {
			start(i, p)
		}
	}
	for _, pr := range procs {
		if err := pr.Wait(45 * time.Second); err != nil {
			for _, other := range procs {
				t.Logf("%s:\n%s", other.Name, other.Tail(3000))
			}
			t.Fatalf("SIPp (exit 0 means its calls succeeded): %v", err)
		}
	}
}

// waitListen waits until something listens on port in namespace ns.
func waitListen(ctx context.Context, t *testing.T, ns, port string, tcp bool, p *proc) {
	t.Helper()

	flags := "-Hlun"
	if tcp {
		flags = "-Hltn"
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "ss", flags, "sport", "=", ":"+port).Output()
		if err == nil && len(strings.TrimSpace(string(out))) > 0 {
			return
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("%s is not listening on %s: %v\n%s", p.Name, port, err, p.Tail(3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkLegs compares every leg the capture shows with the stored record of
// its Call-ID: one record per leg, the four times to the microsecond, the
// end reason and who hung up.
//
// Over TCP the two captures of the same frame may differ by a few µs: the
// kernel clears the timestamp of a locally generated TCP segment when it
// crosses into another namespace (skb_scrub_tstamp), so each packet socket,
// tcpdump's and the daemon's, stamps the frame as it receives it. (Each
// message here is in one segment; frames from a real mirror port carry the
// NIC's one timestamp.) There the stored time may differ from tshark's by
// up to tcpSpread either way.
func checkLegs(t *testing.T, r *result, tcp bool) {
	t.Helper()

	if len(r.legs) == 0 {
		t.Fatalf("tshark found no call in the capture")
	}
	if len(r.records) != len(r.legs) {
		t.Errorf("%d records stored, capture has %d legs", len(r.records), len(r.legs))
	}
	for id, leg := range r.legs {
		rec, ok := r.records[id]
		if !ok {
			t.Errorf("leg %s: no stored record", id)
			continue
		}
		for _, f := range []struct {
			key  string
			want time.Time
		}{{"invite_at", leg.invite}, {"ringing_at", leg.ringing}, {"answered_at", leg.answered}, {"ended_at", leg.ended}} {
			if tcp {
				checkTimeTCP(t, id, rec, f.key, f.want)
				continue
			}
			checkTime(t, id, rec, f.key, f.want)
		}
		if got := rec.Str("end_reason"); got != leg.endReason {
			t.Errorf("leg %s: end_reason = %q, capture says %q", id, got, leg.endReason)
		}
		if leg.endReason == "completed" {
			if got := rec.Str("hangup_by"); got != leg.hangupBy {
				t.Errorf("leg %s: hangup_by = %q, capture says %q", id, got, leg.hangupBy)
			}
		}
	}
}

// checkTime requires field key of rec to be want (null when want is zero)
// within timeTolerance, in UTC.
func checkTime(t *testing.T, id string, rec record, key string, want time.Time) {
	t.Helper()

	got, ok := rec.Time(key)
	switch {
	case want.IsZero() && ok:
		t.Errorf("leg %s: %s = %s, the capture has no such message", id, key, rec.Str(key))
	case want.IsZero():
	case !ok:
		t.Errorf("leg %s: %s = %s, want %s", id, key, show(rec[key], true), want.Format(time.RFC3339Nano))
	case got.Sub(want).Abs() >= timeTolerance:
		t.Errorf("leg %s: %s = %s, tshark %s: off by %v", id, key, rec.Str(key), want.Format(time.RFC3339Nano), got.Sub(want))
	case got.Location() != time.UTC:
		t.Errorf("leg %s: %s = %s, want UTC", id, key, rec.Str(key))
	case !got.Equal(want):
		t.Logf("leg %s: %s within 1 µs of tshark but %v off", id, key, got.Sub(want))
	}
}

// checkAlarms requires the daemon's alarm edges to be exactly those the
// capture's 180 and answer/end times give for the legs ringing at the
// receptionist, and the panel to follow each within panelLatency.
func checkAlarms(t *testing.T, r *result) {
	t.Helper()

	var want []edgeLine
	for _, leg := range r.legs {
		if h := hostOf(leg.dst); h == recIP || h == recVLANIP {
			want = append(want, wantEdges(leg)...)
		}
	}
	if len(r.edges) != len(want) {
		t.Fatalf("alarm edges %+v, want %+v", r.edges, want)
	}
	for i, w := range want {
		g := r.edges[i]
		if g.state != w.state || g.callID != w.callID || !g.at.Equal(w.at) {
			t.Errorf("edge %d = %s %s at %s, want %s %s at %s (from the capture)", i, g.callID, g.state,
				g.at.Format(time.RFC3339Nano), w.callID, w.state, w.at.Format(time.RFC3339Nano))
		}
		match := map[string]func(panelLine) bool{
			"warning": func(p panelLine) bool { return p.amber && !p.red },
			"alarm":   func(p panelLine) bool { return p.red && p.buzzer },
			"clear":   func(p panelLine) bool { return !p.amber && !p.red && !p.buzzer },
		}[w.state]
		found := false
		for _, p := range r.panels {
			if p.at.Before(w.at.Add(-time.Second)) || !match(p) {
				continue
			}
			lat := p.at.Sub(w.at)
			t.Logf("panel %s %v after the threshold", w.state, lat)
			if lat < 0 || lat > panelLatency {
				t.Errorf("panel %s at %s, threshold %s: latency %v, want 0…%v", w.state,
					p.at.Format(time.RFC3339Nano), w.at.Format(time.RFC3339Nano), lat, panelLatency)
			}
			found = true
			break
		}
		if !found {
			t.Errorf("panel never showed %s (panel log %+v)", w.state, r.panels)
		}
	}
}

// checkMetrics requires the scrape taken while the daemon ran to show the
// capture up, no kernel drop and one finished call per leg.
func checkMetrics(t *testing.T, r *result) {
	t.Helper()

	m := parseMetrics(t, r.metrics)
	if got := m["switchtap_capture_kernel_dropped_packets_total"]; got != 0 {
		t.Errorf("kernel dropped %v packets", got)
	}
	if got := m["switchtap_capture_up"]; got != 1 {
		t.Errorf("switchtap_capture_up = %v, want 1", got)
	}
	if got := m["switchtap_calls_total"]; int(got) != len(r.legs) {
		t.Errorf("switchtap_calls_total (all labels) = %v, capture has %d legs", got, len(r.legs))
	}
}

// tcpSpread bounds how far the stored time of a message over TCP may be
// from tshark's (seen: 1.5–3 µs).
const tcpSpread = 100 * time.Microsecond

// checkTimeTCP is checkTime for a message that came over TCP.
func checkTimeTCP(t *testing.T, id string, rec record, key string, want time.Time) {
	t.Helper()

	got, ok := rec.Time(key)
	if want.IsZero() || !ok {
		checkTime(t, id, rec, key, want)
		return
	}
	d := want.Sub(got)
	if d < -tcpSpread || d > tcpSpread {
		t.Errorf("leg %s: %s = %s, tshark %s: want within %v, is %v apart",
			id, key, rec.Str(key), want.Format(time.RFC3339Nano), tcpSpread, d)
	} else if d != 0 {
		t.Logf("leg %s: %s %v from tshark's (each socket stamped the frame)", id, key, d)
	}
}

// leg returns the record and truth of the leg whose INVITE went to dst
// (ip:port), failing when there is not exactly one.
func (r *result) leg(t *testing.T, dst string) (record, *legTruth) {
	t.Helper()

	var found *legTruth
	for _, l := range r.legs {
		if l.dst == dst {
			if found != nil {
				t.Fatalf("two legs to %s: %s and %s", dst, found.callID, l.callID)
			}
			found = l
		}
	}
	if found == nil {
		t.Fatalf("no leg to %s in the capture", dst)
	}
	rec := r.records[found.callID]
	if rec == nil {
		t.Fatalf("no record for %s", found.callID)
	}

	return rec, found
}

// want compares string-valued fields.
func want(t *testing.T, rec record, kv ...string) {
	t.Helper()

	for i := 0; i+1 < len(kv); i += 2 {
		if got := show(rec[kv[i]], true); got != kv[i+1] {
			t.Errorf("%s: %s = %s, want %s", rec.Str("call_id"), kv[i], got, kv[i+1])
		}
	}
}
