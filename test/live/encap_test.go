package live_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
)

// A box in another room gets the mirror over the network (issue 12): the
// switch wraps each mirrored frame in a tunnel to the box. The unit tests
// of capture decode such frames from bytes; this test sends whole calls,
// each in a different tunnel, through a real veth into the real daemon,
// as the kernel delivers them, kernel filter included.

// The mirror's own addresses (RFC 5737): the switch that sends the tunnel
// and the box at its end. The calls inside use 192.0.2.0/24.
const (
	encapMirrorSrc = "198.51.100.1"
	encapMirrorDst = "198.51.100.2"
	// encapMetricsAddr is where the daemon serves metrics, on the tap
	// namespace's loopback.
	encapMetricsAddr = "127.0.0.1:7060"
	// The ERSPAN II header's VLAN (the copy lost its tag, En 2) and the
	// 802.1Q tag inside the transparent Ethernet frame: the record must
	// report the VLAN the call was on, not the tunnel's.
	encapERSPANVLAN = 42
	encapTEBVLAN    = 7
)

// Offsets of each call's messages from its INVITE, as tcpreplay keeps them:
// 0.5 s of ringing, 0.5 s of talk.
const (
	encapRinging  = 100 * time.Millisecond
	encapAnswer   = 600 * time.Millisecond
	encapAck      = 620 * time.Millisecond
	encapBye      = 1100 * time.Millisecond
	encapByeOK    = 1120 * time.Millisecond
	encapStagger  = 40 * time.Millisecond
	encapRingWant = 0.5
	// encapRingTolerance allows for tcpreplay's and the scheduler's timing.
	encapRingTolerance = 0.2
)

// encapMsg is one SIP message of a call and its offset from the capture's
// start.
type encapMsg struct {
	at   time.Duration
	from bool // sent by the caller
	sip  []byte
}

// encapCall is one call carried in one encapsulation.
type encapCall struct {
	name           string
	callID         string
	caller, callee netip.Addr
	// vlan is the record's expected vlan field ("" for none).
	vlan string
	// wrap turns the inner IPv4 packet into the frame on the wire.
	wrap func(ip []byte) ([]byte, error)
	msgs []encapMsg
	// invite, answered and bye index msgs: the messages whose capture
	// times the record's invite_at, answered_at and ended_at are.
	invite, answered, bye int
}

// TestLiveRemoteMirrors replays six whole calls (INVITE, 180, 200, ACK,
// BYE, 200), each in one remote-mirror encapsulation, with tcpreplay into
// a veth whose other end `switchtap run` captures on, tcpdump beside it as
// the oracle of the capture times. The daemon must store one record per
// call with its Call-ID, the INNER addresses and VLAN, and the capture
// times of its INVITE, 200 and BYE to the nanosecond; its metrics must
// count every message and no undecodable frame; and replay of tcpdump's
// file must give the same records.
func TestLiveRemoteMirrors(t *testing.T) {
	requireEncapTools(t)
	root := moduleRoot(t)
	bin := buildSwitchtap(t, root)
	ctx, cancel := context.WithTimeout(t.Context(), liveBudget)
	defer cancel()

	dir := t.TempDir()
	calls := encapCalls()
	mirrors := filepath.Join(dir, "mirrors.pcap")
	nFrames, err := writeEncapPcap(mirrors, calls)
	if err != nil {
		t.Fatal(err)
	}

	inj, tap := nsName("e", "inject"), nsName("e", "tap")
	addNetns(ctx, t, inj)
	addNetns(ctx, t, tap)
	runCmd(ctx, t, "ip", "-n", inj, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", tap)
	runCmd(ctx, t, "ip", "-n", inj, "link", "set", "eth0", "up")
	runCmd(ctx, t, "ip", "-n", tap, "link", "set", "eth0", "up")

	dataDir := filepath.Join(dir, "data")
	capPath := filepath.Join(dir, "cap.pcap")
	tcpdump := startIn(ctx, t, tap, dir, "tcpdump",
		"tcpdump", "-n", "-i", "eth0", "-w", capPath, "-U", "--immediate-mode", "--time-stamp-precision=nano", "-Z", "root")
	daemon := startIn(ctx, t, tap, dir, "switchtap run", bin, "run", "-i", "eth0", "--data-dir", dataDir,
		"--metrics-listen", encapMetricsAddr, "--web-listen", "off")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("switchtap run output:\n%s", daemon.Tail(8000))
			t.Logf("tcpdump output:\n%s", tcpdump.Tail(2000))
		}
	})
	if err := tcpdump.WaitFor("listening on", 10*time.Second); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	if err := daemon.WaitFor(`msg="capture started"`, 10*time.Second); err != nil {
		t.Fatalf("switchtap run: %v", err)
	}

	// At the capture's own pace (no --topspeed): the ringing and talk
	// times are real seconds on the kernel's clock.
	start := time.Now()
	runCmd(ctx, t, "ip", "netns", "exec", inj, "tcpreplay", "-q", "-i", "eth0", mirrors)
	t.Logf("tcpreplay sent %d frames in %v", nFrames, time.Since(start).Round(time.Millisecond))

	m := waitEncapMetrics(ctx, t, tap, nFrames)
	checkEncapMetrics(t, m, nFrames)

	// tcpdump writes each frame as it comes (-U, immediate mode): once
	// its file holds every message, stopping it loses none.
	seen := waitEncapTimes(t, capPath, calls)
	if err := daemon.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("stop switchtap run (want exit 0 on SIGTERM): %v", err)
	}
	if err := tcpdump.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatalf("stop tcpdump: %v", err)
	}

	live, err := parseJSONLines(runSwitchtap(ctx, t, bin, "calls", "--data-dir", dataDir, "--json"))
	if err != nil {
		t.Fatal(err)
	}
	replay, err := parseJSONLines(runSwitchtap(ctx, t, bin, "replay", "--json",
		"--record-dir", filepath.Join(dir, "replay-recordings"), capPath))
	if err != nil {
		t.Fatal(err)
	}
	checkEncapRecords(t, calls, seen, live, replay)
}

// requireEncapTools skips (or fails, see testenv.SkipOrFail) without root
// or the tools the test runs.
func requireEncapTools(t *testing.T) {
	t.Helper()

	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces)")
	}
	for _, tool := range []string{"ip", "tcpreplay", "tcpdump", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		testenv.SkipOrFail(t, "remote mirror test needs "+strings.Join(missing, ", "))
	}
}

// encapCalls builds one call per encapsulation, each between its own
// pair of inner addresses.
func encapCalls() []encapCall {
	var seq, index uint32
	next := func() uint32 { seq++; return seq }
	wraps := []struct {
		name string
		vlan string
		wrap func(ip []byte) ([]byte, error)
	}{
		{"erspan-ii", strconv.Itoa(encapERSPANVLAN), func(ip []byte) ([]byte, error) {
			index++
			g := &layers.GRE{Protocol: 0x88be, SeqPresent: true, Seq: next()}
			return encapGRE(g, append(encapERSPAN2Header(encapERSPANVLAN, 2, 100, index), encapEther(ip)...))
		}},
		{"erspan-iii", "", func(ip []byte) ([]byte, error) {
			g := &layers.GRE{Protocol: 0x22eb, SeqPresent: true, Seq: next()}
			return encapGRE(g, append(encapERSPAN3Header(0, 200, next()*1000, true), encapEther(ip)...))
		}},
		{"gre-teb", strconv.Itoa(encapTEBVLAN), func(ip []byte) ([]byte, error) {
			g := &layers.GRE{Protocol: 0x6558, KeyPresent: true, Key: 0x5a}
			return encapGRE(g, encapEther(ip, encapTEBVLAN))
		}},
		{"vxlan", "", func(ip []byte) ([]byte, error) {
			return encapVXLAN(encapEther(ip))
		}},
		{"pppoe", "", encapPPPoE},
		{"ipip", "", func(ip []byte) ([]byte, error) {
			outer, err := encapOuterIP(layers.IPProtocolIPv4, ip)
			return encapEtherOf(outer), err
		}},
	}

	calls := make([]encapCall, 0, len(wraps))
	for i, w := range wraps {
		c := encapCall{
			name:   w.name,
			callID: fmt.Sprintf("%s-%d@mirror.example", w.name, i+1),
			caller: netip.AddrFrom4([4]byte{192, 0, 2, byte(11 + i)}),
			callee: netip.AddrFrom4([4]byte{192, 0, 2, byte(111 + i)}),
			vlan:   w.vlan,
			wrap:   w.wrap,
		}
		d := &pcapgen.Dialog{
			CallID:  c.callID,
			Caller:  pcapgen.Party{User: strconv.Itoa(1001 + i), Addr: netip.AddrPortFrom(c.caller, 5060)},
			Callee:  pcapgen.Party{User: strconv.Itoa(2001 + i), Addr: netip.AddrPortFrom(c.callee, 5060)},
			FromTag: fmt.Sprintf("ft%d", i), ToTag: fmt.Sprintf("tt%d", i),
		}
		t0 := time.Duration(i) * encapStagger
		inv := d.Invite()
		bye := d.Bye(true)
		c.msgs = []encapMsg{
			{t0, true, inv.Bytes},
			{t0 + encapRinging, false, d.Response(180, "Ringing", inv)},
			{t0 + encapAnswer, false, d.Response(200, "OK", inv)},
			{t0 + encapAck, true, d.Ack(inv, 200)},
			{t0 + encapBye, true, bye.Bytes},
			{t0 + encapByeOK, false, d.Response(200, "OK", bye)},
		}
		c.invite, c.answered, c.bye = 0, 2, 4
		calls = append(calls, c)
	}
	return calls
}

// writeEncapPcap writes every call's messages, wrapped, in time order to
// a microsecond pcap of Ethernet frames (what tcpreplay reads), and
// returns the number of frames.
func writeEncapPcap(path string, calls []encapCall) (int, error) {
	type frame struct {
		at   time.Duration
		data []byte
	}
	var frames []frame
	for _, c := range calls {
		for _, m := range c.msgs {
			src, dst := c.caller, c.callee
			if !m.from {
				src, dst = dst, src
			}
			ip, err := encapUDP(src, dst, m.sip)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", c.name, err)
			}
			f, err := c.wrap(ip)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", c.name, err)
			}
			if len(f) > 1514 {
				return 0, fmt.Errorf("%s: frame of %d bytes does not fit the veth's MTU", c.name, len(f))
			}
			frames = append(frames, frame{m.at, f})
		}
	}
	// Stable: frames of one call at the same offset keep their order.
	for i := 1; i < len(frames); i++ {
		for j := i; j > 0 && frames[j].at < frames[j-1].at; j-- {
			frames[j], frames[j-1] = frames[j-1], frames[j]
		}
	}

	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("create pcap: %w", err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		_ = f.Close()
		return 0, fmt.Errorf("pcap header: %w", err)
	}
	base := pcapgen.BaseTime()
	for _, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: base.Add(fr.at), CaptureLength: len(fr.data), Length: len(fr.data)}
		if err := w.WritePacket(ci, fr.data); err != nil {
			_ = f.Close()
			return 0, fmt.Errorf("write frame: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("close pcap: %w", err)
	}
	return len(frames), nil
}

// waitEncapTimes reads tcpdump's capture until it holds every message, for
// at most 5 s.
func waitEncapTimes(t *testing.T, path string, calls []encapCall) [][]time.Time {
	t.Helper()

	deadline := time.Now().Add(5 * time.Second)
	for {
		seen, err := readEncapTimes(path, calls)
		if err == nil {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("tcpdump's capture: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readEncapTimes reads tcpdump's capture and returns, per call and
// message, the capture time of the frame that carries the message's exact
// bytes. It decodes nothing: the oracle shares no code with the daemon.
// Every message must be there exactly once.
func readEncapTimes(path string, calls []encapCall) ([][]time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open pcap: %w", err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read pcap header: %w", err)
	}
	if r.Resolution() != gopacket.TimestampResolutionNanosecond {
		return nil, fmt.Errorf("pcap resolution %v, want ns", r.Resolution())
	}

	seen := make([][]time.Time, len(calls))
	for i := range calls {
		seen[i] = make([]time.Time, len(calls[i].msgs))
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read packet: %w", err)
		}
		for i, c := range calls {
			for j, m := range c.msgs {
				if !bytes.Contains(data, m.sip) {
					continue
				}
				if !seen[i][j].IsZero() {
					return nil, fmt.Errorf("%s message %d captured twice", c.name, j)
				}
				seen[i][j] = ci.Timestamp
			}
		}
	}
	for i, c := range calls {
		for j := range c.msgs {
			if seen[i][j].IsZero() {
				return nil, fmt.Errorf("%s message %d (%q) not captured", c.name, j, firstLine(c.msgs[j].sip))
			}
		}
	}
	return seen, nil
}

// firstLine returns a SIP message's start line.
func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	return string(line)
}

// checkEncapRecords compares the daemon's records with the calls sent and
// tcpdump's times, and replay's records with the daemon's.
func checkEncapRecords(t *testing.T, calls []encapCall, seen [][]time.Time, live, replay []record) {
	t.Helper()

	byID := func(recs []record, what string) map[string]record {
		m := map[string]record{}
		for _, r := range recs {
			id := r.Str("call_id")
			if _, dup := m[id]; dup {
				t.Errorf("%s: two records of %s", what, id)
			}
			m[id] = r
		}
		return m
	}
	if len(live) != len(calls) || len(replay) != len(calls) {
		t.Errorf("%d live and %d replayed records, want %d (one per call)", len(live), len(replay), len(calls))
	}
	liveBy, replayBy := byID(live, "live"), byID(replay, "replay")

	for i, c := range calls {
		r, ok := liveBy[c.callID]
		if !ok {
			t.Errorf("%s: no live record of %s", c.name, c.callID)
			continue
		}
		for k, want := range map[string]string{
			"from":       strconv.Itoa(1001 + i),
			"to":         strconv.Itoa(2001 + i),
			"src_ip":     c.caller.String(),
			"dst_ip":     c.callee.String(),
			"transport":  "udp",
			"end_reason": "completed",
			"hangup_by":  "caller",
		} {
			if got := r.Str(k); got != want {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, want)
			}
		}
		if got, ok := r["vlan"]; c.vlan == "" && ok || c.vlan != "" && show(got, ok) != c.vlan {
			t.Errorf("%s: vlan = %s, want %q", c.name, show(got, ok), c.vlan)
		}
		for k, j := range map[string]int{"invite_at": c.invite, "answered_at": c.answered, "ended_at": c.bye} {
			want := seen[i][j]
			got, ok := r.Time(k)
			if !ok || !got.Equal(want) {
				t.Errorf("%s: %s = %s, want %s (tcpdump's time of %q)", c.name, k, show(r[k], true),
					want.UTC().Format(time.RFC3339Nano), firstLine(c.msgs[j].sip))
			}
		}
		rs, ok := r.Float("ring_seconds")
		if !ok || math.Abs(rs-encapRingWant) > encapRingTolerance {
			t.Errorf("%s: ring_seconds = %s, want %v ± %v", c.name, show(r["ring_seconds"], true), encapRingWant, encapRingTolerance)
		}

		rp, ok := replayBy[c.callID]
		if !ok {
			t.Errorf("%s: no replayed record of %s", c.name, c.callID)
			continue
		}
		if diffs := diffFields(r, rp, "id"); len(diffs) > 0 {
			t.Errorf("%s: live and replay differ:\n  %s", c.name, strings.Join(diffs, "\n  "))
		}
	}
	if !t.Failed() {
		t.Logf("%d records, e.g. %s", len(live), show(map[string]any(liveBy[calls[0].callID]), true))
	}
}

// waitEncapMetrics scrapes the daemon until it has given an account of
// every frame sent — decoded into a datagram or counted undecodable (the
// link's own chatter, ICMPv6, is neither) — or the context or a 10 s
// deadline ends, and returns the last scrape summed by name. On time out
// it reports the metrics that fall short before failing.
func waitEncapMetrics(ctx context.Context, t *testing.T, ns string, frames int) map[string]float64 {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := scrapeEncap(ctx, ns)
		if err == nil && m["switchtap_capture_datagrams_total"]+m["switchtap_capture_undecodable_frames_total"] >= float64(frames) {
			return m
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if m != nil {
				checkEncapMetrics(t, m, frames)
			}
			t.Fatalf("the daemon did not account for the %d frames sent in time (scrape error: %v)", frames, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrapeEncap fetches the metrics inside namespace ns and sums each
// metric's samples over its labels.
func scrapeEncap(ctx context.Context, ns string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns,
		"curl", "-sSf", "--max-time", "3", "http://"+encapMetricsAddr+"/metrics").Output()
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 {
			name, rest = line[:i], line[strings.LastIndexByte(line, '}')+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metric line %q has no value", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		m[name] += v
	}
	return m, nil
}

// checkEncapMetrics requires that every frame was decoded: none
// undecodable, no SIP error, nothing dropped by the kernel, one SIP
// message per frame sent.
func checkEncapMetrics(t *testing.T, m map[string]float64, frames int) {
	t.Helper()

	for name, want := range map[string]float64{
		"switchtap_capture_undecodable_frames_total":     0,
		"switchtap_sip_errors_total":                     0,
		"switchtap_capture_kernel_dropped_packets_total": 0,
		"switchtap_capture_datagrams_total":              float64(frames),
		"switchtap_sip_messages_total":                   float64(frames),
	} {
		got, ok := m[name]
		if !ok || got != want {
			t.Errorf("metric %s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	t.Logf("daemon metrics: %v frames read, %v datagrams, %v SIP messages, %v undecodable",
		m["switchtap_capture_frames_total"], m["switchtap_capture_datagrams_total"],
		m["switchtap_sip_messages_total"], m["switchtap_capture_undecodable_frames_total"])
}

// encapUDP returns the inner IPv4 packet of one SIP datagram (port 5060
// both ways).
func encapUDP(src, dst netip.Addr, payload []byte) ([]byte, error) {
	ip := encapIPv4(src.String(), dst.String(), layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: 5060, DstPort: 5060}
	if err := u.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, fmt.Errorf("udp checksum: %w", err)
	}
	return encapSerialize(ip, u, gopacket.Payload(payload))
}

// encapIPv4 is an IPv4 header from src to dst carrying proto.
func encapIPv4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, Id: 0x1234,
		SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

// encapSerialize writes layers with lengths and checksums filled in.
func encapSerialize(ls ...gopacket.SerializableLayer) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		return nil, fmt.Errorf("serialize: %w", err)
	}
	return append([]byte(nil), buf.Bytes()...), nil
}

// encapEther wraps an inner IPv4 packet in the phones' Ethernet header,
// with 802.1Q tags (outermost first).
func encapEther(ip []byte, vlans ...uint16) []byte {
	b := []byte{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2}
	for _, v := range vlans {
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = binary.BigEndian.AppendUint16(b, 0x0800)
	return append(b, ip...)
}

// encapEtherOf wraps an outer IPv4 packet in the mirror's Ethernet header
// (MACs other than the phones', so that a dump tells them apart).
func encapEtherOf(ip []byte) []byte {
	b := []byte{0x02, 0, 0, 0, 0xee, 1, 0x02, 0, 0, 0, 0xee, 2, 0x08, 0x00}
	return append(b, ip...)
}

// encapOuterIP is the IPv4 packet from the switch to the box carrying
// payload as protocol proto.
func encapOuterIP(proto layers.IPProtocol, payload []byte) ([]byte, error) {
	return encapSerialize(encapIPv4(encapMirrorSrc, encapMirrorDst, proto), gopacket.Payload(payload))
}

// encapGRE is the frame of a GRE packet from the switch carrying payload.
func encapGRE(g *layers.GRE, payload []byte) ([]byte, error) {
	gre, err := encapSerialize(g, gopacket.Payload(payload))
	if err != nil {
		return nil, err
	}
	ip, err := encapOuterIP(layers.IPProtocolGRE, gre)
	return encapEtherOf(ip), err
}

// encapVXLAN is the frame of a VXLAN datagram (VNI 5001, port 4789)
// carrying an Ethernet frame.
func encapVXLAN(frame []byte) ([]byte, error) {
	vx, err := encapSerialize(&layers.VXLAN{ValidIDFlag: true, VNI: 5001}, gopacket.Payload(frame))
	if err != nil {
		return nil, err
	}
	ip := encapIPv4(encapMirrorSrc, encapMirrorDst, layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: 49152, DstPort: 4789}
	if err := u.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, fmt.Errorf("udp checksum: %w", err)
	}
	p, err := encapSerialize(ip, u, gopacket.Payload(vx))
	return encapEtherOf(p), err
}

// encapPPPoE is an Ethernet frame carrying an IPv4 packet in PPPoE
// session 0x1234 (RFC 2516).
func encapPPPoE(ip []byte) ([]byte, error) {
	p, err := encapSerialize(&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 0x1234},
		&layers.PPP{PPPType: layers.PPPTypeIPv4}, gopacket.Payload(ip))
	if err != nil {
		return nil, err
	}
	b := []byte{0x02, 0, 0, 0, 0xee, 1, 0x02, 0, 0, 0, 0xee, 2, 0x88, 0x64}
	return append(b, p...), nil
}

// encapERSPAN2Header builds an ERSPAN type II header by hand (gopacket's
// layer cannot write En): Ver 1, VLAN, COS 0, En, T 0, session, index.
func encapERSPAN2Header(vlan uint16, en uint8, session uint16, index uint32) []byte {
	b := binary.BigEndian.AppendUint16(nil, 1<<12|vlan&0xfff)
	b = binary.BigEndian.AppendUint16(b, uint16(en&3)<<11|session&0x3ff)
	return binary.BigEndian.AppendUint32(b, index&0xfffff)
}

// encapERSPAN3Header builds an ERSPAN type III header by hand for an
// Ethernet frame (FT 0): Ver 2, VLAN, session, timestamp, SGT 0, hardware
// ID 5, granularity 3 and, when sub is set, the O bit and an 8-byte
// platform sub-header (platform ID 3: a port ID and a timestamp's upper
// bits).
func encapERSPAN3Header(vlan, session uint16, ts uint32, sub bool) []byte {
	b := binary.BigEndian.AppendUint16(nil, 2<<12|vlan&0xfff)
	b = binary.BigEndian.AppendUint16(b, session&0x3ff)
	b = binary.BigEndian.AppendUint32(b, ts)
	b = binary.BigEndian.AppendUint16(b, 0) // SGT
	w := uint16(5<<4 | 3<<1)
	if sub {
		w |= 1
	}
	b = binary.BigEndian.AppendUint16(b, w)
	if sub {
		b = binary.BigEndian.AppendUint32(b, 3<<26|0x0007) // platform 3, port 7
		b = binary.BigEndian.AppendUint32(b, 0x0000_1234)
	}
	return b
}
