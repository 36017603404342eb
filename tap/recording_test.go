package tap_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// rtpRef is one RTP packet as tshark decodes it: the independent reference.
type rtpRef struct {
	at       time.Time
	src, dst string
	ts       uint32
	pt       int
	payload  []byte
}

func tsharkRTP(t *testing.T, pcap string) []rtpRef {
	t.Helper()
	out, err := exec.Command("tshark", "-r", pcap, "-Y", "rtp", "-T", "fields", "-E", "separator=|",
		"-e", "frame.time_epoch", "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport",
		"-e", "rtp.timestamp", "-e", "rtp.p_type", "-e", "rtp.payload", "-e", "ipv6.src", "-e", "ipv6.dst").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var refs []rtpRef
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 10 || f[7] == "" {
			continue
		}
		if f[1] == "" {
			f[1], f[3] = f[8], f[9] // IPv6
		}
		sec, frac, _ := strings.Cut(f[0], ".")
		s, _ := strconv.ParseInt(sec, 10, 64)
		ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		ts, _ := strconv.ParseUint(f[5], 10, 32)
		pt, _ := strconv.Atoi(f[6])
		payload, err := hex.DecodeString(strings.ReplaceAll(f[7], ":", ""))
		if err != nil {
			t.Fatalf("payload %q: %v", f[7], err)
		}
		refs = append(refs, rtpRef{at: time.Unix(s, ns), src: f[1] + ":" + f[2], dst: f[3] + ":" + f[4], ts: uint32(ts), pt: pt, payload: payload})
	}
	return refs
}

// wavChannels reads a stereo 8-bit G.711 WAV into its two channels.
func wavChannels(t *testing.T, path string) (left, right []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("data"))
	if i < 0 || binary.LittleEndian.Uint16(b[22:24]) != 2 || binary.LittleEndian.Uint16(b[34:36]) != 8 {
		t.Fatalf("%s is not a stereo 8-bit WAV", path)
	}
	data := b[i+8:]
	data = data[:min(len(data), int(binary.LittleEndian.Uint32(b[i+4:i+8])))]
	for j := 0; j+1 < len(data); j += 2 {
		left = append(left, data[j])
		right = append(right, data[j+1])
	}
	return left, right
}

// TestRecordingBitExact replays the public captures with answered G.711
// calls through the whole pipeline with the recorder on, and checks every
// audio packet tshark sees after the answer: its payload is in the WAV
// byte for byte (so its decoded samples are those of any reference
// decoder), in the channel of its direction, placed by its capture time
// within one packet (160 samples) — the channels are aligned.
func TestRecordingBitExact(t *testing.T) {
	dir := testenv.SharedPcaps(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		testenv.SkipOrFail(t, "tshark not installed")
	}
	for _, name := range []string{"voipshark-call-pcmu.pcap", "sip-call-rtp-g711.pcap", "fax-t38-reinvite-488.pcap", "sip-tcp-call-pcma.pcap"} {
		t.Run(name, func(t *testing.T) {
			checkRecordingBitExact(t, filepath.Join(dir, name))
		})
	}
}

// TestRecordingBitExactSynthetic does the same on the generated calls that
// carry RTP (PCMU both ways, the caller's stream starting near the sequence
// and timestamp wrap), over every path: plain, VLAN, QinQ, IPv6, fragmented
// INVITE, SIP over TCP, compact headers, retransmissions.
func TestRecordingBitExactSynthetic(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		testenv.SkipOrFail(t, "tshark not installed")
	}
	for _, name := range []string{"answered", "answered-retransmissions", "vlan", "qinq", "ipv6", "ipv6-fragmented", "fragmented-invite", "tcp-split", "compact"} {
		t.Run(name, func(t *testing.T) {
			sc, err := pcapgen.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			pcap, _ := writeScenario(t, sc, t.TempDir())
			checkRecordingBitExact(t, pcap)
		})
	}
}

// checkRecordingBitExact replays pcap with the recorder on and checks every
// recorded leg's channels against tshark's RTP payloads.
func checkRecordingBitExact(t *testing.T, pcap string) {
	t.Helper()
	{
		{
			recDir := t.TempDir()
			rec, err := recorder.New(recorder.Config{Dir: recDir}, discard())
			if err != nil {
				t.Fatal(err)
			}
			src, err := capture.OpenFile(pcap)
			if err != nil {
				t.Fatal(err)
			}
			var col tap.Collector
			p := tap.NewPipeline(sip.DefaultTrackerConfig(), col.Add, discard(), tap.WithRecorder(rec))
			if err := tap.Replay(context.Background(), src, p); err != nil {
				t.Fatal(err)
			}
			src.Close()
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			refs := tsharkRTP(t, pcap)
			checked := 0
			for _, c := range col.Calls() {
				if c.Recording == nil || c.Recording.File == "" {
					continue
				}
				left, right := wavChannels(t, filepath.Join(recDir, c.Recording.File))
				checked += checkChannels(t, c, pcap, refs, left, right)
			}
			if checked == 0 {
				t.Fatal("no audio packet checked")
			}
			t.Logf("%d audio packets found bit-exact in their channel", checked)
		}
	}
}

// sdpSides returns the media address (ip:port) of each side of a call as
// tshark reads its SDP: the caller's from the first INVITE, the callee's
// from the first 200 (the call may be seen on several hops).
func sdpSides(t *testing.T, pcap, callID string) (caller, callee map[string]bool) {
	t.Helper()
	out, err := exec.Command("tshark", "-r", pcap, "-Y", `sip.Call-ID == "`+callID+`" && sdp`, "-T", "fields", "-E", "separator=|",
		"-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sdp.connection_info.address", "-e", "sdp.media.port").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	caller, callee = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 || f[2] == "" {
			continue
		}
		addr := strings.Split(f[2], ",")[0] + ":" + strings.Split(f[3], ",")[0]
		switch {
		case f[0] == "INVITE" && len(caller) == 0:
			caller[addr] = true
		case f[1] == "200" && len(callee) == 0 && len(caller) > 0:
			callee[addr] = true
		}
	}
	return caller, callee
}

// checkChannels checks each G.711 packet sent to one side's SDP address
// after the answer: it must be in its channel (left = sent by the caller,
// i.e. to the callee's address) byte for byte. Within a flow, packets are
// placed by RTP timestamp (RFC 3550: not by arrival, which jitters), so
// each is looked for exactly at anchor + (ts − anchor ts); the anchor is
// found near the packet's capture-time position, and found again only where
// the sender's timestamps jump (a new segment).
func checkChannels(t *testing.T, c sip.Call, pcap string, refs []rtpRef, left, right []byte) int {
	t.Helper()
	callerAddrs, calleeAddrs := sdpSides(t, pcap, c.CallID)
	end := c.InviteAt.Add(24 * time.Hour)
	if c.EndedAt != nil {
		end = *c.EndedAt
	}
	type anchor struct {
		pos, jumps int
		ts         uint32
		set        bool
	}
	flows := map[string]*anchor{}
	n := 0
	for _, r := range refs {
		if (r.pt != 0 && r.pt != 8) || r.at.Before(*c.AnsweredAt) || !r.at.Before(end) || len(r.payload) == 0 {
			continue
		}
		var data []byte
		switch {
		case calleeAddrs[r.dst]:
			data = left
		case callerAddrs[r.dst]:
			data = right
		default:
			continue // another leg's media
		}
		flow := r.src + ">" + r.dst
		a := flows[flow]
		if a == nil {
			a = &anchor{}
			flows[flow] = a
		}
		if a.set {
			pos := a.pos + int(int32(r.ts-a.ts))
			if pos >= 0 && pos+len(r.payload) <= len(data) && bytes.Equal(data[pos:pos+len(r.payload)], r.payload) {
				n++
				continue
			}
			a.jumps++
		}
		if uniform(r.payload) {
			a.set = false // silence matches anywhere: wait for real audio
			continue
		}
		want := int(r.at.Sub(*c.AnsweredAt) * 8000 / time.Second)
		a.set = false
		for pos := max(want-8000, 0); pos <= want+8000 && pos+len(r.payload) <= len(data); pos++ {
			if bytes.Equal(data[pos:pos+len(r.payload)], r.payload) {
				a.pos, a.ts, a.set = pos, r.ts, true
				break
			}
		}
		if !a.set {
			t.Errorf("%s: packet %s at %s (ts %d) not in its channel within 1 s of sample %d", c.CallID, flow, r.at.Format(time.RFC3339Nano), r.ts, want)
			continue
		}
		n++
	}
	for flow, a := range flows {
		// The fax gateway resets its timestamps once (seq 1145); a stray
		// re-anchor more would mean audio misplaced.
		if a.jumps > 2 {
			t.Errorf("%s: flow %s needed %d re-anchors", c.CallID, flow, a.jumps)
		}
	}
	return n
}

func uniform(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return true
}
