package recorder

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/switchtap/switchtap/capture"
)

// t0 is the answer time of the synthetic legs.
var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// placement is one call of place.
type placement struct {
	pos     int64
	k       kind
	payload []byte
}

// timeline collects placements as a sample array; -1 is "nothing placed".
type timeline struct {
	got []placement
}

func (t *timeline) place(pos int64, k kind, p []byte) {
	t.got = append(t.got, placement{pos, k, append([]byte(nil), p...)})
}

// samples renders the placements on n samples.
func (t *timeline) samples(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = -1
	}
	for _, p := range t.got {
		for i, b := range p.payload {
			if q := p.pos + int64(i); q >= 0 && q < int64(n) {
				out[q] = int(b)
			}
		}
	}
	return out
}

// pkt describes a synthetic RTP packet.
type pkt struct {
	seq    uint16
	ts     uint32
	ssrc   uint32
	pt     uint8
	marker bool
	at     time.Duration // capture time after t0
	fill   byte          // payload byte
	n      int           // payload length, 160 when 0
	raw    []byte        // payload, instead of fill/n
}

func (p pkt) header() rtp.Header {
	ssrc := p.ssrc
	if ssrc == 0 {
		ssrc = 0x1234
	}
	return rtp.Header{Version: 2, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: ssrc, PayloadType: p.pt, Marker: p.marker}
}

func (p pkt) payload() []byte {
	if p.raw != nil {
		return p.raw
	}
	n := p.n
	if n == 0 {
		n = 160
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = p.fill
	}
	return b
}

func (p pkt) marshal(t testing.TB) []byte {
	t.Helper()
	h := p.header()
	b, err := (&rtp.Packet{Header: h, Payload: p.payload()}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expect builds an expected timeline from runs: a fill value (or -1 for
// silence) repeated n times.
type run struct {
	v, n int
}

func expectRuns(runs ...run) []int {
	var out []int
	for _, r := range runs {
		for range r.n {
			out = append(out, r.v)
		}
	}
	return out
}

func diffTimeline(got, want []int) string {
	if len(got) != len(want) {
		return fmt.Sprintf("length %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("sample %d = %d, want %d (got %v around, want %v)", i, got[i], want[i],
				got[max(0, i-2):min(len(got), i+3)], want[max(0, i-2):min(len(want), i+3)])
		}
	}
	return ""
}

// Addresses of the synthetic legs (RFC 5737 documentation ranges).
var (
	callerAddr = netip.MustParseAddrPort("192.0.2.10:40000")
	calleeAddr = netip.MustParseAddrPort("198.51.100.20:50000")
)

func sdpBody(addr netip.AddrPort, proto, formats, extra string) []byte {
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d %s %s\r\n%s",
		addr.Addr(), addr.Addr(), addr.Port(), proto, formats, extra)
}

const g711Attrs = "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"

func datagram(src, dst netip.AddrPort, at time.Time, b []byte) *capture.Datagram {
	return &capture.Datagram{Time: at, Src: src, Dst: dst, Transport: capture.UDP, Payload: b}
}

// readWAV returns the format tag, the data payload and the header fields
// of a WAV file written here.
func readWAV(t *testing.T, path string) (wavFormat, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wf, off, err := readWAVLayout(f, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	data := b[off:]
	if got := binary.LittleEndian.Uint32(b[off-4 : off]); int(got) != len(data) {
		t.Fatalf("data size in header %d, file has %d", got, len(data))
	}
	if got := binary.LittleEndian.Uint32(b[4:8]); int(got) != len(b)-8 {
		t.Fatalf("RIFF size %d, want %d", got, len(b)-8)
	}
	return wf, data
}

// syncRec waits until the files of the legs ended so far are committed
// (durable and in place).
func syncRec(t testing.TB, r *Recorder) {
	t.Helper()
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// finishInPlace finishes w and puts it in place as the committer would.
func finishInPlace(w *wavWriter) error {
	if err := w.finish(); err != nil {
		return err
	}
	return os.Rename(w.path+partSuffix, w.path)
}

// tableOf is a stream's payload table as a leg holds it.
func tableOf(t *ptTable) **ptTable { return &t }

// idle reports whether the writer has carried out every op queued.
func (w *fileWriter) idle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queued == 0 && w.done >= w.issued
}
