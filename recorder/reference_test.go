package recorder

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/switchtap/switchtap/capture"

	"github.com/switchtap/switchtap/internal/testenv"
)

const pcapDir = "/work/shared/pcaps"

// refPacket is one RTP packet as tshark decodes it.
type refPacket struct {
	at      time.Time
	seq     uint16
	ts      uint32
	pt      uint8
	payload []byte
}

type fiveTuple struct{ src, dst netip.AddrPort }

// tsharkRTP returns the RTP packets of the busiest flow of file, decoded
// by tshark (an independent reader).
func tsharkRTP(t *testing.T, file string) (fiveTuple, []refPacket) {
	t.Helper()
	out, err := exec.Command("tshark", "-r", file, "-o", "rtp.heuristic_rtp:TRUE", "-Y", "rtp", "-T", "fields",
		"-e", "frame.time_epoch", "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport",
		"-e", "rtp.seq", "-e", "rtp.timestamp", "-e", "rtp.p_type", "-e", "rtp.payload").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	flows := map[fiveTuple][]refPacket{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 9 {
			continue
		}
		sec, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		secs, frac, _ := strings.Cut(f[0], ".")
		s, _ := strconv.ParseInt(secs, 10, 64)
		ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		_ = sec
		src := netip.MustParseAddrPort(f[1] + ":" + f[2])
		dst := netip.MustParseAddrPort(f[3] + ":" + f[4])
		seq, _ := strconv.Atoi(f[5])
		ts, _ := strconv.ParseUint(f[6], 10, 32)
		pt, _ := strconv.Atoi(f[7])
		p, err := hex.DecodeString(strings.ReplaceAll(f[8], ":", ""))
		if err != nil {
			t.Fatal(err)
		}
		k := fiveTuple{src, dst}
		flows[k] = append(flows[k], refPacket{time.Unix(s, ns), uint16(seq), uint32(ts), uint8(pt), p})
	}
	var best fiveTuple
	for k, v := range flows {
		if len(v) > len(flows[best]) {
			best = k
		}
	}
	return best, flows[best]
}

// TestReferencePcaps feeds the busiest RTP flow of real captures through a
// stream and the WAV writer, and compares every audio packet's samples
// with tshark's payload (G.711 file) and with sox's decode (PCM file).
func TestReferencePcaps(t *testing.T) {
	require := testenv.Required()
	if _, err := os.Stat(pcapDir); err != nil {
		if require {
			t.Fatal(err)
		}
		t.Skip("no public captures")
	}
	for _, tool := range []string{"tshark", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			if require {
				t.Fatal(err)
			}
			t.Skip(tool + " not installed")
		}
	}
	for _, tc := range []struct {
		file  string
		law   kind
		cn    bool
		event bool
	}{
		{"voipshark-call-pcmu.pcap", kindPCMU, false, false},
		{"sip-call-rtp-g711.pcap", kindPCMA, false, false},
		{"fax-t38-reinvite-488.pcap", kindPCMA, true, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(pcapDir, tc.file)
			flow, ref := tsharkRTP(t, path)
			sort.SliceStable(ref, func(i, j int) bool { return ref[i].at.Before(ref[j].at) })
			answer := ref[0].at
			for _, pcm := range []bool{false, true} {
				f := fileFormat(tc.law, tc.law, pcm)
				data, st := recordFlow(t, path, flow, answer, f)
				checkReference(t, ref, data, st, f, tc.law)
				if tc.cn && st.c.Packets == st.c.Undecodable {
					t.Error("no audio")
				}
			}
		})
	}
}

// recordFlow reads the capture with the capture package and records one
// flow as the left channel of a WAV file of format f.
func recordFlow(t *testing.T, path string, flow fiveTuple, answer time.Time, f format) ([]byte, *stream) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	wavPath := filepath.Join(t.TempDir(), "x.wav")
	w, err := createWAV(wavPath, f)
	if err != nil {
		t.Fatal(err)
	}
	m := newMixer(w, f, DefaultBufferFrames)
	table := defaultTable()
	for pt := range table {
		if table[pt] == kindUnknown {
			// The dynamic types of these captures are telephone-events.
			table[pt] = kindEvent
		}
	}
	st := newStream(answer, DefaultMaxJump, DefaultReorderWindow, tableOf(&table), m.channel(left), &dtmf{})
	dec := capture.NewDecoder()
	var pkt rtp.Packet
	var last time.Time
	for {
		fr, err := src.ReadFrame()
		if err != nil {
			break
		}
		_ = dec.Decode(fr.LinkType, fr.Data, fr.Info, func(d *capture.Datagram) {
			if d.Transport != capture.UDP || d.Src != flow.src || d.Dst != flow.dst {
				return
			}
			if pkt.Unmarshal(d.Payload) != nil {
				t.Fatal("bad rtp")
			}
			st.push(d.Time, &pkt.Header, pkt.Payload)
			last = d.Time
		})
	}
	st.drain()
	m.flushTo(max(samplesOf(last.Sub(answer))+800, m.ch[0].hi))
	if err := finishInPlace(w); err != nil {
		t.Fatal(err)
	}
	_, data := readWAV(t, wavPath)
	checkReaders(t, wavPath, 2, len(data)/int(f.wav().blockAlign))
	return data, st
}

// checkReference compares the left channel with the reference payloads:
// G.711 bytes as tshark shows them, or sox's decode of them.
func checkReference(t *testing.T, ref []refPacket, data []byte, st *stream, f format, law kind) {
	t.Helper()
	var audio []refPacket
	for _, p := range ref {
		if p.pt == 0 || p.pt == 8 {
			audio = append(audio, p)
		}
	}
	want := make([][]int16, len(audio))
	if f == formatPCM16 {
		var raw []byte
		for _, p := range audio {
			raw = append(raw, p.payload...)
		}
		typ := "ul"
		if law == kindPCMA {
			typ = "al"
		}
		cmd := exec.Command("sox", "-t", typ, "-r", "8000", "-c", "1", "-", "-t", "s16", "-e", "signed", "-L", "-")
		cmd.Stdin = strings.NewReader(string(raw))
		out, err := cmd.Output()
		if err != nil || len(out) != 2*len(raw) {
			t.Fatalf("sox: %v, %d bytes for %d", err, len(out), len(raw))
		}
		off := 0
		for i, p := range audio {
			for range p.payload {
				want[i] = append(want[i], int16(binary.LittleEndian.Uint16(out[off:])))
				off += 2
			}
		}
	} else {
		for i, p := range audio {
			for _, b := range p.payload {
				want[i] = append(want[i], int16(b))
			}
		}
	}
	block := int(f.wav().blockAlign)
	sample := func(frame int) int16 {
		if f == formatPCM16 {
			return int16(binary.LittleEndian.Uint16(data[frame*block:]))
		}
		return int16(data[frame*block])
	}
	// Placement (the brief's formula): capture time of the segment's first
	// packet plus the timestamp distance from it; a timestamp going back
	// (fax capture, seq 1145) starts a new segment, never overlapping.
	ts0 := audio[0].ts
	pos0 := samplesOf(audio[0].at.Sub(ref[0].at))
	checked, segments, end := 0, 1, int64(0)
	for i, p := range audio {
		pos := pos0 + int64(int32(p.ts-ts0))
		if pos < end {
			ts0, pos0, segments = p.ts, max(samplesOf(p.at.Sub(ref[0].at)), end), segments+1
			pos = pos0
		}
		end = pos + int64(len(p.payload))
		for j, w := range want[i] {
			fr := int(pos) + j
			if fr*block >= len(data) {
				t.Fatalf("packet seq %d beyond the file", p.seq)
			}
			if got := sample(fr); got != w {
				t.Fatalf("%v: packet seq %d sample %d = %d, want %d", f, p.seq, j, got, w)
			}
		}
		checked++
	}
	if checked == 0 || st.c.Resyncs != uint64(segments-1) {
		t.Errorf("checked %d packets, %d resyncs, want %d", checked, st.c.Resyncs, segments-1)
	}
	if got, want := st.c.Packets+st.c.Duplicates, uint64(len(ref)); got != want {
		t.Errorf("stream took %d packets (+dups), tshark saw %d", got, want)
	}
	t.Logf("%v: %d audio packets compared, lost %d, dup %d, late %d, undecodable %d", f, checked, st.c.Lost, st.c.Duplicates, st.c.Late, st.c.Undecodable)
}
