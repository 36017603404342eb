package nettest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The recording check shared by the recorder's end-to-end tests (tap) and
// the lab: tshark decodes the RTP of a capture, independently of our code,
// and every audio packet must be found byte for byte in its channel of the
// WAV (G.711 as captured: equal codes decode to equal samples in any
// decoder).

// RTPRef is one RTP packet as tshark decodes it: the independent reference.
type RTPRef struct {
	at       time.Time
	src, dst string
	ts       uint32
	pt       int
	payload  []byte
}

func TsharkRTP(t *testing.T, pcap string, extra ...string) []RTPRef {
	t.Helper()
	args := append(append([]string{"-r", pcap}, extra...), "-Y", "rtp", "-T", "fields", "-E", "separator=|",
		"-e", "frame.time_epoch", "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport",
		"-e", "rtp.timestamp", "-e", "rtp.p_type", "-e", "rtp.payload", "-e", "ipv6.src", "-e", "ipv6.dst")
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var refs []RTPRef
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
		refs = append(refs, RTPRef{at: time.Unix(s, ns), src: f[1] + ":" + f[2], dst: f[3] + ":" + f[4], ts: uint32(ts), pt: pt, payload: payload})
	}
	return refs
}

// WAVChannels reads a stereo 8-bit G.711 WAV into its two channels.
func WAVChannels(t *testing.T, path string) (left, right []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("data"))
	if len(b) < 44 || i < 0 || binary.LittleEndian.Uint16(b[22:24]) != 2 || binary.LittleEndian.Uint16(b[34:36]) != 8 {
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

// SDPSides returns the media address (ip:port) of each side of a call as
// tshark reads its SDP: the caller's from the first INVITE, the callee's
// from the first 200 (the call may be seen on several hops).
func SDPSides(t *testing.T, pcap, callID string, extra ...string) (caller, callee map[string]bool) {
	t.Helper()
	args := append(append([]string{"-r", pcap}, extra...), "-Y", `sip.Call-ID == "`+callID+`" && sdp`, "-T", "fields", "-E", "separator=|",
		"-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sdp.connection_info.address", "-e", "sdp.media.port")
	out, err := exec.Command("tshark", args...).Output()
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

// CheckChannels checks each G.711 packet sent to one side's SDP address
// after the answer: it must be in its channel (left = sent by the caller,
// i.e. to the callee's address) byte for byte. Within a flow, packets are
// placed by RTP timestamp (RFC 3550: not by arrival, which jitters), so
// each is looked for exactly at anchor + (ts − anchor ts); the anchor is
// found near the packet's capture-time position, and found again only where
// the sender's timestamps jump (a new segment).
func CheckChannels(t *testing.T, callID string, answeredAt, endedAt time.Time, callerAddrs, calleeAddrs map[string]bool, refs []RTPRef, left, right []byte) int {
	t.Helper()
	end := endedAt
	if end.IsZero() {
		end = answeredAt.Add(24 * time.Hour)
	}
	type anchor struct {
		pos, jumps int
		ts         uint32
		set        bool
	}
	flows := map[string]*anchor{}
	n := 0
	for _, r := range refs {
		if (r.pt != 0 && r.pt != 8) || r.at.Before(answeredAt) || !r.at.Before(end) || len(r.payload) == 0 {
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
		want := int(r.at.Sub(answeredAt) * 8000 / time.Second)
		a.set = false
		for pos := max(want-8000, 0); pos <= want+8000 && pos+len(r.payload) <= len(data); pos++ {
			if bytes.Equal(data[pos:pos+len(r.payload)], r.payload) {
				a.pos, a.ts, a.set = pos, r.ts, true
				break
			}
		}
		if !a.set {
			t.Errorf("%s: packet %s at %s (ts %d) not in its channel within 1 s of sample %d", callID, flow, r.at.Format(time.RFC3339Nano), r.ts, want)
			continue
		}
		n++
	}
	for flow, a := range flows {
		// The fax gateway resets its timestamps once (seq 1145); a stray
		// re-anchor more would mean audio misplaced.
		if a.jumps > 2 {
			t.Errorf("%s: flow %s needed %d re-anchors", callID, flow, a.jumps)
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
