package rtpquality_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/rtp"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/rtpquality"
)

// flowKey is what tshark's rtp,streams tells streams apart by.
type flowKey struct {
	src, dst netip.AddrPort
	ssrc     uint32
}

// flowJitter is our estimator over one of those streams, fed straight from
// the capture in order of arrival.
type flowJitter struct {
	j      rtpquality.Jitter
	pkts   int
	prevPT uint8
	prevTS uint32
	seen   bool
	// left counts the packets after the first left out of the figures;
	// wsMean is Wireshark's running mean over our own estimates (see
	// wiresharkMean).
	left   int
	wsMean float64
}

// wiresharkMean is the running "mean" of Wireshark's RTP analysis
// (ui/tap-rtp-analysis.c): mean = (mean·(n−1) + J)/n with n every packet
// so far, including those it leaves out of the figures. With none left out
// it is the mean over the packets after the first; with some, each one
// left out counts as a copy of the running mean, which is not a mean. Our
// figure is the true mean; feeding our per-packet estimates to this
// formula shows that the estimates themselves are Wireshark's.
func (f *flowJitter) wiresharkMean(regular bool) {
	if !regular {
		f.left++
		return
	}
	n := float64(f.pkts - 1)
	f.wsMean = (f.wsMean*(n-1) + f.j.CurrentMs()) / n
}

// captureJitter runs the estimator over every RTP packet of a capture.
func captureJitter(t *testing.T, path string) map[flowKey]*flowJitter {
	t.Helper()
	src, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := capture.NewDecoder()
	flows := map[flowKey]*flowJitter{}
	var h rtp.Header
	fn := func(d *capture.Datagram) {
		p := d.Payload
		if d.Transport != capture.UDP || len(p) < 12 || p[0]>>6 != 2 || (p[1] >= 192 && p[1] <= 223) {
			return
		}
		if _, err := h.Unmarshal(p); err != nil {
			return
		}
		k := flowKey{d.Src, d.Dst, h.SSRC}
		f := flows[k]
		if f == nil {
			f = &flowJitter{j: rtpquality.NewJitter(8000)}
			flows[k] = f
		}
		f.pkts++
		rate := rtpquality.StaticClockRate(h.PayloadType)
		if rate == 0 {
			// A dynamic type (RFC 4733 events here): its clock is in an
			// SDP this test does not read, and an event's timestamp is
			// its start, not a sampling instant (RFC 4733 §2.2.1).
			f.left++
			return
		}
		regular := rtpquality.Regular(h.Marker, rtpquality.StaticCN(h.PayloadType), rtpquality.StaticCN(f.prevPT), f.seen && int32(h.Timestamp-f.prevTS) < 0)
		f.j.Update(d.Time, h.Timestamp, regular)
		if f.seen {
			f.wiresharkMean(regular)
		}
		f.prevPT, f.prevTS, f.seen = h.PayloadType, h.Timestamp, true
	}
	for {
		fr, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		_ = dec.Decode(fr.LinkType, fr.Data, fr.Info, fn)
		dec.Expire(fr.Info.Timestamp)
	}
	return flows
}

// tsharkStream is one row of tshark's "-z rtp,streams".
type tsharkStream struct {
	key             flowKey
	payload         string
	pkts            int
	meanJit, maxJit float64
	// problem is tshark's "X": its analysis saw a wrong sequence or
	// timestamp, a payload change, or a clock it does not know.
	problem bool
}

// tsharkStreams runs tshark's RTP stream analysis on a capture.
func tsharkStreams(t *testing.T, path string) []tsharkStream {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		testenv.SkipOrFail(t, "tshark is not installed")
	}
	// The heuristic finds streams whose SDP tshark does not see (a leg of
	// a PBX call set up on another hop).
	out, err := exec.Command(bin, "-q", "-n", "-r", path, "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var rows []tsharkStream
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		r, ok := parseStreamRow(sc.Text())
		if ok {
			rows = append(rows, r)
		}
	}
	return rows
}

// parseStreamRow reads "start end srcIP srcPort dstIP dstPort SSRC
// payload… pkts lost (pct) minΔ meanΔ maxΔ minJ meanJ maxJ [X]"; the
// payload column may hold spaces ("g711A, CN").
func parseStreamRow(line string) (tsharkStream, bool) {
	f := strings.Fields(line)
	if len(f) < 17 || !strings.HasPrefix(f[6], "0x") {
		return tsharkStream{}, false
	}
	problem := f[len(f)-1] == "X"
	if problem {
		f = f[:len(f)-1]
	}
	src, err1 := addrPort(f[2], f[3])
	dst, err2 := addrPort(f[4], f[5])
	ssrc, err3 := strconv.ParseUint(f[6][2:], 16, 32)
	n := len(f)
	pkts, err4 := strconv.Atoi(f[n-9])
	mean, err5 := strconv.ParseFloat(f[n-2], 64)
	maxJ, err6 := strconv.ParseFloat(f[n-1], 64)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return tsharkStream{}, false
	}
	return tsharkStream{
		key:     flowKey{src, dst, uint32(ssrc)},
		payload: strings.Join(f[7:n-9], " "),
		pkts:    pkts, meanJit: mean, maxJit: maxJ, problem: problem,
	}, true
}

func addrPort(ip, port string) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}

// within reports whether a figure is within 1 % of tshark's, or within
// the 0.5 µs of rounding of tshark's three decimals of a millisecond.
func within(ours, tshark float64) bool {
	d := ours - tshark
	if d < 0 {
		d = -d
	}
	return d <= 0.01*tshark || d <= 0.0005
}

// TestJitterMatchesTshark compares our interarrival jitter per stream with
// tshark's RTP stream analysis on the public captures (streams matched by
// addresses and SSRC): the maximum within 1 %, the mean within 1 % where
// Wireshark's running mean is a mean (no packet left out after the first),
// and Wireshark's formula over our per-packet estimates within 1 % on every
// stream. Streams tshark flags as problems are logged, not compared: in
// fax-t38-reinvite-488.pcap one sender resets its timestamp to 0 mid-call
// (frame 3149; tshark counts that packet's estimate, we leave a backwards
// timestamp out) and tshark decodes the other stream's packets after the
// re-INVITE as T.38 (1,838 RTP packets where there are 3,848).
func TestJitterMatchesTshark(t *testing.T) {
	dir := testenv.SharedPcaps(t)
	compared := 0
	for _, name := range []string{"sip-call-rtp-g711.pcap", "voipshark-call-pcmu.pcap", "sip-tcp-call-pcma.pcap", "fax-t38-reinvite-488.pcap"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			rows := tsharkStreams(t, path)
			if len(rows) == 0 {
				t.Fatal("tshark found no RTP stream")
			}
			flows := captureJitter(t, path)
			for _, r := range rows {
				f := flows[r.key]
				label := fmt.Sprintf("%v→%v ssrc %#x (%s)", r.key.src, r.key.dst, r.key.ssrc, r.payload)
				if f == nil {
					t.Errorf("%s: stream not found in the capture", label)
					continue
				}
				mean, maxJ := f.j.MeanMs(), f.j.MaxMs()
				t.Logf("%s: %d pkts (tshark %d), %d left out: mean %.4f ms, Wireshark's formula %.4f (tshark %.3f), max %.4f ms (tshark %.3f)",
					label, f.pkts, r.pkts, f.left, mean, f.wsMean, r.meanJit, maxJ, r.maxJit)
				if r.problem {
					continue
				}
				compared++
				if f.pkts != r.pkts {
					t.Errorf("%s: %d packets, tshark %d", label, f.pkts, r.pkts)
				}
				if !within(maxJ, r.maxJit) {
					t.Errorf("%s: max jitter %.4f ms, tshark %.3f", label, maxJ, r.maxJit)
				}
				if !within(f.wsMean, r.meanJit) {
					t.Errorf("%s: Wireshark's mean over our estimates %.4f ms, tshark %.3f", label, f.wsMean, r.meanJit)
				}
				if f.left == 0 && !within(mean, r.meanJit) {
					t.Errorf("%s: mean jitter %.4f ms, tshark %.3f", label, mean, r.meanJit)
				}
			}
		})
	}
	if compared < 8 {
		t.Errorf("only %d streams compared", compared)
	}
}
