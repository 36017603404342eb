package pcapgen

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gopacket/gopacket/layers"
	"github.com/pion/rtp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden") //nolint:gochecknoglobals // test flag

// capture is a scenario written and read back.
type capture struct {
	exp    []Expect
	pcap   []byte
	frames []frame
	dgs    []datagram
	sip    []sipMsg
}

func writeScenario(t *testing.T, s Scenario, ng bool) capture {
	t.Helper()
	w, buf := newTestWriter(t, ng)
	exp, err := s.Write(w)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	frames, dgs := readBack(t, w, buf, ng)
	return capture{exp: exp, pcap: buf.Bytes(), frames: frames, dgs: dgs, sip: parseSIP(t, dgs)}
}

func jsonLines(t *testing.T, exp []Expect) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, e := range exp {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestScenarios(t *testing.T) {
	seen := map[string]string{}
	for k, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			c := writeScenario(t, s, false)
			if len(c.exp) == 0 {
				t.Fatal("no expectations")
			}
			for _, e := range c.exp {
				if other, dup := seen[e.CallID]; dup {
					t.Errorf("Call-ID %s also used by %s", e.CallID, other)
				}
				seen[e.CallID] = s.Name
			}
			start := scenarioStart(k)
			for i, f := range c.frames {
				if f.ci.Timestamp.Before(start) || (i > 0 && f.ci.Timestamp.Before(c.frames[i-1].ci.Timestamp)) {
					t.Fatalf("frame %d at %v goes back in time", i, f.ci.Timestamp)
				}
			}
			if end := c.frames[len(c.frames)-1].ci.Timestamp; !end.Before(scenarioStart(k + 1)) {
				t.Errorf("scenario runs until %v, into the next one's slot", end)
			}
			for _, m := range c.sip {
				if !m.dg.tcp {
					checkContentLength(t, m.raw)
				}
			}
			// The expectations must be what the packets say.
			o := newOracle()
			for _, m := range c.sip {
				o.feed(t, m)
			}
			if got, want := jsonLines(t, o.result()), jsonLines(t, c.exp); got != want {
				t.Errorf("packets say\n%s\nexpectations say\n%s", got, want)
			}
			checkMedia(t, c)
			checkSpecifics(t, s.Name, c)
		})
	}
}

// checkMedia checks every non-SIP datagram is a PCMU RTP packet of 20 ms.
func checkMedia(t *testing.T, c capture) {
	t.Helper()
	n := 0
	for _, dg := range c.dgs {
		if isSIP(dg) {
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(dg.payload); err != nil || p.Version != 2 || p.PayloadType != PayloadPCMU || len(p.Payload) != RTPPayloadSize {
			t.Fatalf("bad RTP at %v: %v %+v", dg.at, err, p.Header)
		}
		n++
	}
	talk := talkTime
	if c.exp[0].CallID == callIDFor("hold-refused", "a") {
		talk = holdCallTalk
	}
	if answered := c.exp[0].AnsweredAt != nil && c.exp[0].Transfer == nil; answered && n != 2*int(talk/RTPInterval) {
		t.Errorf("%d RTP packets, want %d", n, 2*int(talk/RTPInterval))
	}
}

func checkSpecifics(t *testing.T, name string, c capture) {
	t.Helper()
	invites := func() []sipMsg {
		var out []sipMsg
		for _, m := range c.sip {
			if r, ok := m.msg.(*sip.Request); ok && r.Method == sip.INVITE {
				out = append(out, m)
			}
		}
		return out
	}
	switch name {
	case "answered-retransmissions":
		inv := invites()
		if len(inv) != 2 || inv[0].raw != inv[1].raw || !inv[1].at.Equal(inv[0].at.Add(500*time.Millisecond)) {
			t.Errorf("want a byte-identical INVITE 500 ms later, got %d INVITEs", len(inv))
		}
	case "fragmented-invite", "ipv6-fragmented":
		inv := invites()[0]
		if inv.dg.frags != 2 || len(inv.raw) < 2500 {
			t.Errorf("INVITE of %d bytes came in %d fragments, want >= 2500 in 2", len(inv.raw), inv.dg.frags)
		}
		if !inv.at.Equal(c.exp[0].InviteAt) || !inv.at.Equal(c.frames[0].ci.Timestamp.Add(fragGap)) {
			t.Errorf("INVITE complete at %v, want the second fragment's time", inv.at)
		}
		if v6 := name == "ipv6-fragmented"; inv.dg.src.Addr().Is6() != v6 {
			t.Errorf("address family of %v", inv.dg.src)
		}
	case "tcp-split":
		if !c.dgs[0].tcp || len(c.dgs[0].payload) != 0 {
			t.Errorf("first segment should be the SYN")
		}
		segs := 0
		for _, dg := range c.dgs {
			if dg.tcp && len(dg.payload) > 0 && dg.at.Before(c.exp[0].InviteAt.Add(time.Nanosecond)) {
				segs++
			}
		}
		if segs != 3 {
			t.Errorf("INVITE in %d segments, want 3", segs)
		}
		if c.sip[1].at != c.sip[2].at || c.sip[1].msg.(*sip.Response).StatusCode != 100 {
			t.Errorf("100 and 180 should share one segment")
		}
		keepalives := 0
		for _, dg := range c.dgs {
			if string(dg.payload) == "\r\n\r\n" {
				keepalives++
			}
		}
		if keepalives != 2 {
			t.Errorf("%d CRLF keep-alives, want 2", keepalives)
		}
	case "vlan", "qinq":
		want := map[string][]uint16{"vlan": {100}, "qinq": {200, 100}}[name]
		for _, dg := range c.dgs {
			if !slices.Equal(dg.vlans, want) {
				t.Fatalf("datagram at %v has tags %v, want %v", dg.at, dg.vlans, want)
			}
		}
	case "compact":
		if !strings.Contains(invites()[0].raw, "\r\ni: ") {
			t.Errorf("compact INVITE uses long forms")
		}
	case "attended-transfer":
		if n := len(invites()); n != 4 {
			t.Errorf("%d INVITEs, want 4 (A, hold re-INVITE, C, D)", n)
		}
	}
}

func TestScenariosPcapng(t *testing.T) {
	s, err := Lookup("blind-transfer")
	if err != nil {
		t.Fatal(err)
	}
	a, b := writeScenario(t, s, false), writeScenario(t, s, true)
	if len(a.frames) != len(b.frames) {
		t.Fatalf("pcap %d frames, pcapng %d", len(a.frames), len(b.frames))
	}
	for i := range a.frames {
		if !a.frames[i].ci.Timestamp.Equal(b.frames[i].ci.Timestamp) || !bytes.Equal(a.frames[i].data, b.frames[i].data) {
			t.Fatalf("frame %d differs between pcap and pcapng", i)
		}
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup of an unknown name must fail")
	}
}

// TestScenariosGolden pins the expectations and the bytes written, so a
// change to the generator shows up as a diff (go test -update to accept).
func TestScenariosGolden(t *testing.T) {
	var sums strings.Builder
	for _, s := range Scenarios() {
		w, buf := newTestWriter(t, false)
		exp, err := s.Write(w)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		fmt.Fprintf(&sums, "%s  %s.pcap\n", hex.EncodeToString(sum[:]), s.Name)
		compareGolden(t, filepath.Join("testdata", "golden", s.Name+".jsonl"), jsonLines(t, exp))
	}
	compareGolden(t, filepath.Join("testdata", "golden", "pcap.sha256"), sums.String())
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil { //nolint:gosec // G306: test data
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n got: %s\nwant: %s", path, got, want)
	}
}

func TestLoad(t *testing.T) {
	w, buf := newTestWriter(t, false)
	const n = 25
	calls, packets, err := Load(w, n, testTime)
	if err != nil {
		t.Fatal(err)
	}
	perCall := 7 + 2*int(LoadTalk/RTPInterval) // INVITE 100 180 200 ACK BYE 200, RTP
	if len(calls) != n || packets != n*perCall || w.Frames() != packets {
		t.Fatalf("%d calls, %d packets (writer %d), want %d and %d", len(calls), packets, w.Frames(), n, n*perCall)
	}
	frames, dgs := readBack(t, w, buf, false)
	for i := 1; i < len(frames); i++ {
		if frames[i].ci.Timestamp.Before(frames[i-1].ci.Timestamp) {
			t.Fatalf("frame %d goes back in time", i)
		}
	}
	for i, c := range calls {
		if want := testTime.Add(time.Duration(i) * LoadInterval); !c.InviteAt.Equal(want) {
			t.Errorf("call %d invited at %v, want %v", i, c.InviteAt, want)
		}
	}
	o := newOracle()
	for _, m := range parseSIP(t, dgs) {
		o.feed(t, m)
	}
	if got, want := jsonLines(t, o.result()), jsonLines(t, calls); got != want {
		t.Errorf("packets say\n%s\nexpectations say\n%s", got, want)
	}
	// Each RTP stream must be gapless in sequence numbers across the wrap.
	next := map[uint32]uint16{}
	for _, dg := range dgs {
		if isSIP(dg) {
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(dg.payload); err != nil {
			t.Fatal(err)
		}
		if want, ok := next[p.SSRC]; ok && p.SequenceNumber != want {
			t.Fatalf("SSRC %x seq %d, want %d", p.SSRC, p.SequenceNumber, want)
		}
		next[p.SSRC] = p.SequenceNumber + 1
	}
	if len(next) != 2*n {
		t.Errorf("%d RTP streams, want %d", len(next), 2*n)
	}
}

const tsharkPath = "/usr/bin/tshark"

// TestTshark checks that Wireshark's dissectors read the scenarios without
// complaint and see each INVITE at the expected time (to the µs). All
// scenarios go into one file, since they never overlap in time: one tshark
// run instead of one per scenario.
func TestTshark(t *testing.T) {
	if _, err := os.Stat(tsharkPath); err != nil {
		t.Skipf("%s not installed", tsharkPath)
	}
	path := filepath.Join(t.TempDir(), "scenarios.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	var exp []Expect
	for _, s := range Scenarios() {
		e, err := s.Write(w)
		if err != nil {
			t.Fatal(err)
		}
		exp = append(exp, e...)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tsharkPath, "-r", path, "-Y", "sip", "-T", "fields", //nolint:gosec // G204: fixed binary
		"-e", "frame.time_epoch", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.Call-ID",
		"-o", "tcp.desegment_tcp_streams:TRUE", "-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && !strings.HasPrefix(line, "Running as user") {
			t.Errorf("tshark: %s", line)
		}
	}
	firstInvite := map[string]time.Time{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 4 || !strings.Contains(f[1], "INVITE") {
			continue
		}
		id, _, _ := strings.Cut(f[3], ",")
		if _, ok := firstInvite[id]; !ok {
			firstInvite[id] = parseEpoch(t, f[0])
		}
	}
	for _, e := range exp {
		got, ok := firstInvite[e.CallID]
		if !ok {
			t.Errorf("tshark saw no INVITE for %s", e.CallID)
			continue
		}
		if !got.Truncate(time.Microsecond).Equal(e.InviteAt.Truncate(time.Microsecond)) {
			t.Errorf("%s: tshark INVITE at %v, want %v", e.CallID, got, e.InviteAt)
		}
	}
	if len(firstInvite) != len(exp) {
		t.Errorf("tshark saw %d calls, want %d", len(firstInvite), len(exp))
	}
}

// parseEpoch parses tshark's seconds.fraction without float rounding.
func parseEpoch(t *testing.T, s string) time.Time {
	t.Helper()
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		t.Fatalf("epoch %q: %v", s, err)
	}
	frac = (frac + "000000000")[:9]
	ns, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		t.Fatalf("epoch %q: %v", s, err)
	}
	return time.Unix(secs, ns).UTC()
}

func BenchmarkLoad(b *testing.B) {
	const calls = 10
	b.ReportAllocs()
	packets := 0
	for b.Loop() {
		w, err := NewWriter(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		_, n, err := Load(w, calls, testTime)
		if err != nil {
			b.Fatal(err)
		}
		packets += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
}

func BenchmarkScenarios(b *testing.B) {
	list := Scenarios()
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewWriter(io.Discard, WithLinkType(layers.LinkTypeEthernet))
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range list {
			if _, err := s.Write(w); err != nil {
				b.Fatal(err)
			}
		}
	}
}
