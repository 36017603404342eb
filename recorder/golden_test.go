package recorder

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var updateWAV = flag.Bool("update-wav", false, "rewrite testdata/wav.golden")

// goldenLeg is one synthetic leg of TestWAVGolden: what each side offers,
// what each direction sends and how the network treats it.
type goldenLeg struct {
	name string
	// offer and answer are the formats of the caller's and callee's SDP.
	offer, answer string
	// pts are the payload types sent by caller and callee; switchAt, when
	// set, is the packet from which the caller sends switchPT instead.
	pts      [2]uint8
	switchAt int
	switchPT uint8
	// samples per packet of each direction (80, 160, 240: 10–30 ms).
	ptime [2]int
	// packets sent by each direction (0: that side is silent).
	packets [2]int
	// start of each direction after the answer.
	start [2]time.Duration
	// delay is added to the packets of a direction from packet delayFrom
	// on (a queue in the network: beyond the look-ahead its audio comes
	// late).
	delay     [2]time.Duration
	delayFrom int
	// dtx is a silence (no packets, timestamps advance) of the caller
	// from packet dtxAt for dtxLen packets.
	dtxAt, dtxLen int
	// ssrcAt is the packet from which the callee changes SSRC and
	// sequence space.
	ssrcAt int
	// lossy drops, duplicates and jitters packets.
	lossy bool
	// open legs are left for Close; the others end at their last packet
	// plus endPad.
	open   bool
	endPad time.Duration
}

// goldenLegs cover the file formats (μ-law as sent, A↔μ transcoded, 16-bit
// PCM of both laws), the mixer's look-ahead (one-way audio, late audio,
// DTX), reordering, loss, duplicates, a source change, a leg with no audio
// and one finished by Close.
var goldenLegs = []goldenLeg{
	{name: "ulaw", offer: "0 8 101", answer: "0 8 101", pts: [2]uint8{0, 0}, ptime: [2]int{160, 160},
		packets: [2]int{400, 400}, start: [2]time.Duration{90 * time.Millisecond, 310 * time.Millisecond},
		dtxAt: 100, dtxLen: 90, lossy: true, endPad: 500 * time.Millisecond},
	{name: "a2u", offer: "0 8", answer: "0 8", pts: [2]uint8{0, 8}, switchAt: 120, switchPT: 8,
		ptime: [2]int{160, 240}, packets: [2]int{300, 200}, start: [2]time.Duration{40 * time.Millisecond, 20 * time.Millisecond},
		lossy: true, endPad: 30 * time.Millisecond},
	{name: "u2a", offer: "8 0", answer: "8 0", pts: [2]uint8{0, 8}, ptime: [2]int{80, 160},
		packets: [2]int{500, 250}, start: [2]time.Duration{0, 700 * time.Millisecond}, ssrcAt: 90, lossy: true},
	{name: "oneway", offer: "0", answer: "0", pts: [2]uint8{0, 0}, ptime: [2]int{160, 160},
		packets: [2]int{350, 0}, start: [2]time.Duration{200 * time.Millisecond, 0}, endPad: 2 * time.Second},
	{name: "late", offer: "8", answer: "8", pts: [2]uint8{8, 8}, ptime: [2]int{160, 160},
		packets: [2]int{300, 300}, delay: [2]time.Duration{0, 1300 * time.Millisecond}, delayFrom: 100, lossy: true},
	{name: "silent", offer: "0", answer: "0", endPad: 2500 * time.Millisecond},
	{name: "open", offer: "0 8", answer: "8 0", pts: [2]uint8{8, 0}, ptime: [2]int{160, 160},
		packets: [2]int{260, 240}, start: [2]time.Duration{15 * time.Millisecond, 25 * time.Millisecond}, lossy: true, open: true},
}

// goldenEvent is one datagram of the synthetic capture.
type goldenEvent struct {
	at  time.Time
	leg int
	d   *callDatagram
}

type callDatagram struct {
	src, dst netip.AddrPort
	payload  []byte
}

// lcg is a small deterministic generator (the golden must not depend on
// a library's random sequence).
type lcg uint64

func (g *lcg) next(n int) int {
	*g = *g*6364136223846793005 + 1442695040888963407
	return int(uint64(*g>>33) % uint64(n)) //nolint:gosec // G115: n is small.
}

func goldenAddrs(i int) (netip.AddrPort, netip.AddrPort) {
	return netip.AddrPortFrom(callerAddr.Addr(), uint16(41000+2*i)), netip.AddrPortFrom(calleeAddr.Addr(), uint16(51000+2*i))
}

// goldenCapture builds the datagrams of every leg, in capture order.
func goldenCapture(t *testing.T) []goldenEvent {
	t.Helper()
	g := lcg(12)
	var evs []goldenEvent
	for li, gl := range goldenLegs {
		ca, ce := goldenAddrs(li)
		for dir := range 2 {
			src, dst := ca, ce
			if dir == 1 {
				src, dst = ce, ca
			}
			ssrc := uint32(0x100 + 2*li + dir)
			seq, ts := uint16(65000+li*97+dir*13), uint32(4_000_000_000)+uint32(li*1000+dir*77)
			n := gl.ptime[dir]
			for k := range gl.packets[dir] {
				if dir == 0 && gl.dtxLen > 0 && k >= gl.dtxAt && k < gl.dtxAt+gl.dtxLen {
					ts += uint32(n)
					continue // DTX: the timestamp runs on, nothing is sent.
				}
				if dir == 1 && gl.ssrcAt > 0 && k == gl.ssrcAt {
					ssrc, seq, ts = ssrc+1000, seq+20000, ts+123456
				}
				pt := gl.pts[dir]
				if dir == 0 && gl.switchAt > 0 && k >= gl.switchAt {
					pt = gl.switchPT
				}
				raw := make([]byte, n)
				for j := range raw {
					raw[j] = byte(k*31 + j*7 + dir*101 + li)
				}
				b := pkt{seq: seq, ts: ts, ssrc: ssrc, pt: pt, raw: raw, marker: k == 0}.marshal(t)
				at := t0.Add(gl.start[dir] + time.Duration(k*n)*time.Second/sampleRate)
				if k >= gl.delayFrom {
					at = at.Add(gl.delay[dir])
				}
				seq++
				ts += uint32(n)
				if gl.lossy {
					switch g.next(40) {
					case 0:
						continue // lost
					case 1:
						evs = append(evs, goldenEvent{at.Add(time.Duration(5+g.next(30)) * time.Millisecond), li, &callDatagram{src, dst, b}})
					}
					at = at.Add(time.Duration(g.next(45)) * time.Millisecond)
				}
				evs = append(evs, goldenEvent{at, li, &callDatagram{src, dst, b}})
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b goldenEvent) int { return a.at.Compare(b.at) })
	return evs
}

// TestWAVGolden records the synthetic legs and compares every file, byte
// for byte (SHA-256), and its duration and late samples with
// testdata/wav.golden, under three configurations: the default, 16-bit
// PCM files, and the smallest look-ahead.
func TestWAVGolden(t *testing.T) {
	evs := goldenCapture(t)
	var got strings.Builder
	for _, cfg := range []struct {
		name string
		cfg  Config
	}{
		{"default", Config{}},
		{"pcm", Config{PCM: true}},
		{"small", Config{BufferFrames: 2 * maxPayload}},
	} {
		dir := filepath.Join(t.TempDir(), "rec")
		c := cfg.cfg
		c.Dir = dir
		r := newRecorder(t, c)
		for li, gl := range goldenLegs {
			ca, ce := goldenAddrs(li)
			id := "golden-" + gl.name
			r.Media(id, t0.Add(-time.Second), true, false, sdpBody(ca, "RTP/AVP", gl.offer, ""))
			r.Media(id, t0, false, false, sdpBody(ce, "RTP/AVP", gl.answer, ""))
			r.Answered(id, gl.name, t0)
		}
		last := make([]time.Time, len(goldenLegs))
		for _, e := range evs {
			r.Advance(e.at)
			r.Packet(datagram(e.d.src, e.d.dst, e.at, e.d.payload))
			last[e.leg] = e.at
		}
		results := make([]*Result, len(goldenLegs))
		// End in the order the legs' last packets came.
		order := make([]int, len(goldenLegs))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return last[a].Compare(last[b]) })
		for _, li := range order {
			gl := goldenLegs[li]
			if gl.open {
				continue
			}
			end := last[li]
			if end.IsZero() {
				end = t0
			}
			results[li] = r.EndResult("golden-"+gl.name, end.Add(gl.endPad))
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		for li, gl := range goldenLegs {
			res := results[li]
			if gl.open {
				res = r.EndResult("golden-"+gl.name, time.Time{})
			}
			if res == nil || res.Recording.File == "" {
				t.Fatalf("%s/%s: recording %+v", cfg.name, gl.name, res)
			}
			b, err := os.ReadFile(filepath.Join(dir, res.Recording.File))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			fmt.Fprintf(&got, "%s/%s %d %s duration=%v late=%d\n", cfg.name, gl.name, len(b), hex.EncodeToString(sum[:]),
				res.Recording.DurationSeconds, res.LateSamples)
		}
	}
	path := filepath.Join("testdata", "wav.golden")
	if *updateWAV {
		if err := os.WriteFile(path, []byte(got.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("files differ from %s:\ngot:\n%swant:\n%s", path, got.String(), want)
	}
}
