package recorder

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/zaf/g711"

	"github.com/switchtap/switchtap/internal/testenv"
)

const callID = "call-1@192.0.2.10"

func newRecorder(t *testing.T, cfg Config) *Recorder {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "rec")
	}
	r, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The writer goroutine may still be creating files of a recorder the
	// test did not close: stop it before the directory is removed.
	t.Cleanup(func() { r.wr.stopAndWait(time.Minute) })
	return r
}

// answer sets up a leg: offer from the caller, answer from the callee,
// answered at t0.
func answer(r *Recorder, offer, ans []byte) {
	r.Media(callID, t0.Add(-2*time.Second), true, false, offer)
	r.Media(callID, t0, false, false, ans)
	r.Answered(callID, "rec-1", t0)
}

// talker sends a 20 ms G.711 stream from src to dst; tone() says which
// packets carry the tone byte instead of silence.
type talker struct {
	src, dst netip.AddrPort
	seq      uint16
	ts       uint32
	ssrc     uint32
	pt       uint8
}

func (k *talker) send(t testing.TB, r *Recorder, at time.Time, fill byte) bool {
	b := pkt{seq: k.seq, ts: k.ts, ssrc: k.ssrc, pt: k.pt, fill: fill}.marshal(t)
	k.seq++
	k.ts += 160
	return r.Packet(datagram(k.src, k.dst, at, b))
}

// firstTone returns the first frame of channel c (0 left, 1 right) that is
// not silence, for a G.711 stereo file.
func firstTone(data []byte, c int, silence byte) int {
	for i := c; i < len(data); i += 2 {
		if data[i] != silence {
			return i / 2
		}
	}
	return -1
}

func TestAlignment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0 101", g711Attrs), sdpBody(calleeAddr, "RTP/AVP", "0 101", g711Attrs))
	// The caller sends to the callee's SDP address (left channel), the
	// callee back to the caller's (right). Random-ish start values, a
	// network jitter of a few ms on capture times, and different starts.
	l := &talker{src: callerAddr, dst: calleeAddr, seq: 65500, ts: 1<<32 - 4000, ssrc: 7}
	rt := &talker{src: calleeAddr, dst: callerAddr, seq: 100, ts: 123456, ssrc: 7}
	toneL, toneR := 1500*time.Millisecond, 2300*time.Millisecond
	jitter := []time.Duration{0, 3, 1, 4, 2}
	for i := range 200 {
		off := time.Duration(i) * 20 * time.Millisecond
		at := t0.Add(120*time.Millisecond + off + jitter[i%5]*time.Millisecond)
		fill := byte(0xFF)
		if off+120*time.Millisecond >= toneL {
			fill = 0x10
		}
		if !l.send(t, r, at, fill) {
			t.Fatal("caller packet not matched")
		}
		at = t0.Add(330*time.Millisecond + off + jitter[(i+2)%5]*time.Millisecond)
		fill = 0xFF
		if off+330*time.Millisecond >= toneR {
			fill = 0x20
		}
		if !rt.send(t, r, at, fill) {
			t.Fatal("callee packet not matched")
		}
		r.Advance(at)
	}
	end := t0.Add(5 * time.Second)
	rec := r.End(callID, end)
	syncRec(t, r)
	if rec == nil || rec.NotRecordable != "" {
		t.Fatalf("recording %+v", rec)
	}
	if rec.File != filepath.Join("2026", "03", "04", "rec-1.wav") {
		t.Errorf("file %q", rec.File)
	}
	if rec.DurationSeconds != 5 {
		t.Errorf("duration %v, want 5", rec.DurationSeconds)
	}
	if rec.Caller.Codec != "PCMU" || rec.Caller.Packets != 200 || rec.Caller.Lost != 0 || rec.Callee.Packets != 200 {
		t.Errorf("caller %+v callee %+v", rec.Caller, rec.Callee)
	}
	path := filepath.Join(dir, rec.File)
	wf, data := readWAV(t, path)
	if wf.tag != tagULaw || len(data) != 5*8000*2 {
		t.Fatalf("format %+v, %d bytes", wf, len(data))
	}
	for c, want := range []time.Duration{toneL, toneR} {
		got := firstTone(data, c, 0xFF)
		wantFrame := int(want * 8000 / time.Second)
		if d := got - wantFrame; d < -160 || d > 160 {
			t.Errorf("channel %d: tone at frame %d, want %d ± 160", c, got, wantFrame)
		}
	}
	// Both streams stop before the end (4.1 s and 4.33 s): silence after.
	if f := 4400 * 8; data[2*f] != 0xFF || data[2*f+1] != 0xFF || data[2*4320*8+1] != 0x20 {
		t.Error("no silence after the last packets")
	}
	checkModes(t, dir, path)
	checkReaders(t, path, 2, 5*8000)
	if again := r.End(callID, end.Add(time.Minute)); *again != *rec {
		t.Errorf("second End %+v, want %+v", again, rec)
	}
}

func checkModes(t *testing.T, root, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", st.Mode().Perm())
	}
	for d := filepath.Dir(path); d != filepath.Dir(root); d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("dir %s mode %v", d, st.Mode().Perm())
		}
	}
}

// checkReaders opens the file with sox and ffprobe (when installed) and
// checks the channels and sample count they see.
func checkReaders(t *testing.T, path string, ch, samples int) {
	t.Helper()
	require := testenv.Required()
	if _, err := exec.LookPath("sox"); err == nil {
		out, err := exec.Command("sox", "--i", path).CombinedOutput()
		if err != nil {
			t.Fatalf("sox --i: %v\n%s", err, out)
		}
		s := string(out)
		if !strings.Contains(s, "Channels       : 2") || !strings.Contains(s, "Sample Rate    : 8000") ||
			!strings.Contains(s, " = "+itoa(samples)+" samples") {
			t.Errorf("sox sees:\n%s", s)
		}
		if strings.Contains(s, "WARN") {
			t.Errorf("sox warns:\n%s", s)
		}
	} else if require {
		t.Error("sox not installed")
	}
	if _, err := exec.LookPath("ffprobe"); err == nil {
		out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=channels,sample_rate,duration_ts", "-of", "csv=p=0", path).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); !strings.Contains(got, "8000,2") {
			t.Errorf("ffprobe sees %q", got)
		}
	} else if require {
		t.Error("ffprobe not installed")
	}
}

func TestPCMFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir, PCM: true})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "8", ""), sdpBody(calleeAddr, "RTP/AVP", "8", ""))
	l := &talker{src: callerAddr, dst: calleeAddr, ssrc: 1, pt: 8}
	for i := range 10 {
		l.send(t, r, t0.Add(time.Duration(i)*20*time.Millisecond), byte(0x40+i))
	}
	rec := r.End(callID, t0.Add(200*time.Millisecond))
	syncRec(t, r)
	if rec.Caller.Codec != "PCMA" {
		t.Errorf("codec %q", rec.Caller.Codec)
	}
	wf, data := readWAV(t, filepath.Join(dir, rec.File))
	if wf.tag != tagPCM || wf.bits != 16 || len(data) != 1600*4 {
		t.Fatalf("format %+v, %d bytes", wf, len(data))
	}
	for i := range 1600 {
		l := int16(uint16(data[4*i]) | uint16(data[4*i+1])<<8)
		rr := int16(uint16(data[4*i+2]) | uint16(data[4*i+3])<<8)
		if want := g711.DecodeAlawFrame(byte(0x40 + i/160)); l != want || rr != 0 {
			t.Fatalf("frame %d = %d,%d, want %d,0", i, l, rr, want)
		}
	}
	checkReaders(t, filepath.Join(dir, rec.File), 2, 1600)
}

func TestNATLearnedSource(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "8", ""), sdpBody(calleeAddr, "RTP/AVP", "8", ""))
	nat := netip.MustParseAddrPort("192.0.2.99:7000")
	l := &talker{src: nat, dst: calleeAddr, ssrc: 5, pt: 8}
	rt := &talker{src: calleeAddr, dst: nat, ssrc: 5, pt: 8} // same SSRC both ways
	if rt.send(t, r, t0, 0x11) {
		t.Fatal("packet toward an unknown address matched")
	}
	for i := range 5 {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		l.send(t, r, at, 0x11)
		if !rt.send(t, r, at, 0x22) {
			t.Fatal("callee packet toward the learned source not matched")
		}
	}
	rec := r.End(callID, t0.Add(100*time.Millisecond))
	syncRec(t, r)
	if rec.Caller.Packets != 5 || rec.Callee.Packets != 5 {
		t.Fatalf("caller %+v callee %+v", rec.Caller, rec.Callee)
	}
	_, data := readWAV(t, filepath.Join(dir, rec.File))
	if len(data) != 1600 || data[0] != 0x11 || data[1] != 0x22 || data[2*799+1] != 0x22 {
		t.Errorf("%d bytes, frames 0, 799: % x, % x", len(data), data[0:2], data[1598:1600])
	}
}

func TestReInviteReanchor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	moved := netip.MustParseAddrPort("198.51.100.77:51000")
	r.Media(callID, t0.Add(time.Second), false, false, sdpBody(moved, "RTP/AVP", "0", ""))
	l := &talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
	if l.send(t, r, t0.Add(time.Second), 1) {
		t.Error("packet to the old address matched after re-anchoring")
	}
	l.dst = moved
	if !l.send(t, r, t0.Add(time.Second), 1) {
		t.Error("packet to the new address not matched")
	}
	// Legacy hold: c=0.0.0.0 removes the address.
	r.Media(callID, t0.Add(2*time.Second), false, false, sdpBody(netip.MustParseAddrPort("0.0.0.0:51000"), "RTP/AVP", "0", "a=sendonly\r\n"))
	if l.send(t, r, t0.Add(2*time.Second), 1) {
		t.Error("packet to a held address matched")
	}
	r.End(callID, t0.Add(3*time.Second))
	if l.send(t, r, t0.Add(4*time.Second), 1) {
		t.Error("packet matched after End")
	}
}

// TestReInviteRefusedKeepsAddress: a re-INVITE moving the callee's media
// that is refused (488) never took effect (RFC 3264 §8): RTP keeps going
// to the old address and is still recorded there.
func TestReInviteRefusedKeepsAddress(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	moved := netip.MustParseAddrPort("198.51.100.77:51000")
	r.Media(callID, t0.Add(time.Second), false, false, sdpBody(moved, "RTP/AVP", "0", "a=sendonly\r\n"))
	r.OfferRefused(callID, t0.Add(time.Second+30*time.Millisecond), false)
	l := &talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
	if !l.send(t, r, t0.Add(2*time.Second), 1) {
		t.Error("packet to the old address not matched after the move was refused")
	}
	l.dst = moved
	if l.send(t, r, t0.Add(2*time.Second), 1) {
		t.Error("packet to the refused address matched")
	}
	if n := r.Stats().OffersRefused; n != 1 {
		t.Errorf("OffersRefused %d, want 1", n)
	}
	res := r.EndResult(callID, t0.Add(3*time.Second))
	if res.Quality != nil && res.Quality.HoldSeconds != 0 {
		t.Errorf("hold %v s after a refused hold", res.Quality.HoldSeconds)
	}
}

func TestNotRecordable(t *testing.T) {
	tests := []struct {
		name, proto, formats, extra, reason string
		pcap                                bool
	}{
		{"sdes srtp", "RTP/SAVP", "0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n", "encrypted (SRTP)", true},
		{"dtls srtp", "UDP/TLS/RTP/SAVPF", "0", "a=fingerprint:sha-256 AB:CD\r\n", "encrypted (SRTP)", true},
		{"g729", "RTP/AVP", "18", "", "codec G729", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rec")
			r := newRecorder(t, Config{Dir: dir})
			answer(r, sdpBody(callerAddr, tc.proto, tc.formats, tc.extra), sdpBody(calleeAddr, tc.proto, tc.formats, tc.extra))
			l := &talker{src: callerAddr, dst: calleeAddr, ssrc: 1, pt: 18}
			for i := range 7 {
				l.send(t, r, t0.Add(time.Duration(i)*20*time.Millisecond), 3)
			}
			res := r.EndResult(callID, t0.Add(time.Second))
			syncRec(t, r)
			if res.Recording.NotRecordable != tc.reason || res.Recording.File != "" {
				t.Fatalf("recording %+v", res.Recording)
			}
			if res.Pcap == "" {
				t.Fatal("no pcap kept")
			}
			path := filepath.Join(dir, res.Pcap)
			checkPcap(t, path, 7)
			if m, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*", "*.wav*")); len(m) != 0 {
				t.Errorf("wav written: %v", m)
			}
		})
	}
}

// checkPcap reads the pcap back with the capture package and, when
// installed, with tshark.
func checkPcap(t *testing.T, path string, n int) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := capture.NewDecoder()
	got := 0
	for {
		f, err := src.ReadFrame()
		if err != nil {
			break
		}
		if err := dec.Decode(f.LinkType, f.Data, f.Info, func(d *capture.Datagram) {
			if d.Src == callerAddr && d.Dst == calleeAddr && len(d.Payload) == 172 {
				got++
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got != n {
		t.Errorf("pcap has %d RTP datagrams, want %d", got, n)
	}
	if _, err := exec.LookPath("tshark"); err == nil {
		out, err := exec.Command("tshark", "-r", path, "-d", "udp.port==50000,rtp", "-T", "fields", "-e", "rtp.seq").Output()
		if err != nil || len(strings.Fields(string(out))) != n {
			t.Errorf("tshark: %v\n%s", err, out)
		}
	}
}

func TestUnansweredAndUnknown(t *testing.T) {
	r := newRecorder(t, Config{})
	r.Media(callID, t0, true, false, sdpBody(callerAddr, "RTP/AVP", "0", ""))
	r.Media(callID, t0, false, true, sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	l := &talker{src: calleeAddr, dst: callerAddr, ssrc: 1}
	if !l.send(t, r, t0, 1) {
		t.Error("early media not matched")
	}
	if rec := r.End(callID, t0.Add(time.Second)); rec != nil {
		t.Errorf("unanswered leg recorded: %+v", rec)
	}
	if rec := r.End("nope", t0); rec != nil {
		t.Errorf("unknown leg recorded: %+v", rec)
	}
	if s := r.Stats(); s.Early != 1 || s.Legs != 0 || s.FilesWritten != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestStreamTimeoutNoBye(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir, StreamTimeout: 10 * time.Second})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	l := &talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
	var at time.Time
	for i := range 100 {
		at = t0.Add(time.Duration(i) * 20 * time.Millisecond)
		l.send(t, r, at, 2)
		r.Advance(at)
	}
	if s := r.Stats(); s.StreamsOpen != 1 {
		t.Fatalf("streams open %d", s.StreamsOpen)
	}
	r.Advance(at.Add(11 * time.Second))
	if s := r.Stats(); s.StreamsOpen != 0 || s.StreamsTimedOut != 1 {
		t.Fatalf("stats after timeout %+v", s)
	}
	// The leg is ended by the tracker's timeout much later: the file stops
	// with the audio, the last packet's 20 ms included (100 × 20 ms).
	rec := r.End(callID, t0.Add(time.Hour))
	syncRec(t, r)
	if rec.DurationSeconds != 2 {
		t.Errorf("duration %v, want 2", rec.DurationSeconds)
	}
}

func TestDiskFloor(t *testing.T) {
	r := newRecorder(t, Config{MinFreeBytes: 1 << 62})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	rec := r.End(callID, t0.Add(time.Second))
	syncRec(t, r)
	if rec == nil || rec.NotRecordable != ReasonDiskFloor || rec.File != "" {
		t.Fatalf("recording %+v", rec)
	}
	if !r.Stats().FloorReached {
		t.Error("floor not reported")
	}
}

func TestDiskFloorTruncates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	wall := t0
	r := newRecorder(t, Config{Dir: dir, Now: func() time.Time { return wall }})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	l := &talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
	l.send(t, r, t0, 1)
	r.mu.Lock()
	r.cfg.MinFreeBytes = 1 << 62
	r.mu.Unlock()
	wall = wall.Add(time.Minute)
	r.Advance(t0.Add(time.Second))
	l.send(t, r, t0.Add(20*time.Millisecond), 1)
	rec := r.End(callID, t0.Add(time.Minute))
	syncRec(t, r)
	if rec.NotRecordable != ReasonDiskTruncated || rec.File == "" || rec.DurationSeconds != 0 {
		t.Fatalf("recording %+v", rec)
	}
	readWAV(t, filepath.Join(dir, rec.File))
}

func TestRepair(t *testing.T) {
	dir := t.TempDir()
	day := filepath.Join(dir, "2026", "03", "04")
	if err := os.MkdirAll(day, 0o700); err != nil {
		t.Fatal(err)
	}
	// A crash: frames written, header never patched, one odd trailing byte.
	w, err := createWAV(filepath.Join(day, "a.wav"), formatALaw)
	if err != nil {
		t.Fatal(err)
	}
	lr := make([]int16, 4000)
	fill(lr, 0x55)
	for range 3 {
		if err := w.frames(lr, lr); err != nil {
			t.Fatal(err)
		}
	}
	w.abort()
	f, _ := os.OpenFile(filepath.Join(day, "a.wav.part"), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.Write([]byte{1})
	_ = f.Close()
	// A crash right after creation of a PCM file: empty data.
	w2, err := createWAV(filepath.Join(day, "b.wav"), formatPCM16)
	if err != nil {
		t.Fatal(err)
	}
	w2.abort()
	// Garbage left as .part.
	if err := os.WriteFile(filepath.Join(day, "c.wav.part"), append([]byte("RIFX"), make([]byte, 60)...), 0o600); err != nil {
		t.Fatal(err)
	}
	// Killed before the header reached the disk: nothing to keep.
	if err := os.WriteFile(filepath.Join(day, "d.wav.part"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := Repair(dir)
	if n != 2 || !errors.Is(err, ErrBadWAV) {
		t.Fatalf("Repair = %d, %v", n, err)
	}
	wf, data := readWAV(t, filepath.Join(day, "a.wav"))
	if wf.tag != tagALaw || len(data) != 12000*2 {
		t.Errorf("repaired %+v with %d bytes", wf, len(data))
	}
	checkReaders(t, filepath.Join(day, "a.wav"), 2, 12000)
	if _, data := readWAV(t, filepath.Join(day, "b.wav")); len(data) != 0 {
		t.Errorf("b has %d bytes", len(data))
	}
	if _, err := os.Stat(filepath.Join(day, "c.wav.broken")); err != nil {
		t.Errorf("garbage not set aside: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(day, "d.wav*")); len(m) != 0 {
		t.Errorf("empty leftover kept: %v", m)
	}
	if m, _ := filepath.Glob(filepath.Join(day, "*.part")); len(m) != 0 {
		t.Errorf("left: %v", m)
	}
}

func TestRepairPcap(t *testing.T) {
	dir := t.TempDir()
	p, err := createPcap(filepath.Join(dir, "x.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		d := datagram(callerAddr, calleeAddr, t0, pkt{seq: uint16(i), fill: 1}.marshal(t))
		if err := p.write(d); err != nil {
			t.Fatal(err)
		}
	}
	_ = p.bw.Flush()
	st, _ := p.f.Stat()
	_ = p.f.Truncate(st.Size() - 50) // the last record is cut
	_ = p.f.Close()
	if n, err := Repair(dir); n != 1 || err != nil {
		t.Fatalf("Repair = %d, %v", n, err)
	}
	checkPcap(t, filepath.Join(dir, "x.pcap"), 2)
}

func TestCloseFinishesFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	l := &talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
	for i := range 50 {
		l.send(t, r, t0.Add(time.Duration(i)*20*time.Millisecond), 9)
	}
	writeOut(t, r)
	if m, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*", "*.wav.part")); len(m) != 1 {
		t.Fatalf("part files while recording: %v", m)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_, data := readWAV(t, filepath.Join(dir, "2026", "03", "04", "rec-1.wav"))
	if len(data) != 8000*2 || !bytes.Equal(data[len(data)-2:], []byte{9, 0xFF}) {
		t.Errorf("%d bytes, ends % x", len(data), data[len(data)-2:])
	}
}

func TestSweep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	now := t0.Add(100 * 24 * time.Hour)
	r := newRecorder(t, Config{Dir: dir, MaxTotalBytes: 2500, MaxAge: 30 * 24 * time.Hour, Now: func() time.Time { return now }})
	files := []struct {
		rel string
		age time.Duration
	}{
		{"2026/01/01/old.wav", 60 * 24 * time.Hour},
		{"2026/01/02/kept.wav", 50 * 24 * time.Hour},
		{"2026/03/01/a.wav", 3 * time.Hour},
		{"2026/03/01/b.pcap", 2 * time.Hour},
		{"2026/03/01/c.wav", time.Hour},
		{"2026/03/01/d.wav.part", 4 * time.Hour},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.rel)
		_ = os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, make([]byte, 1000), 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Chtimes(p, now.Add(-f.age), now.Add(-f.age))
	}
	del, err := r.Sweep(context.Background(), func(id string) bool { return id == "kept" })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range del {
		got = append(got, d.RecordID+":"+d.Reason)
	}
	// 5 finished files of 1000 bytes: old goes by age, kept is protected,
	// then a and b by size until 2000 <= 2500 remain (kept and c).
	if want := "old:age a:size b:size"; strings.Join(got, " ") != want {
		t.Errorf("deleted %v, want %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026/01/01")); !os.IsNotExist(err) {
		t.Errorf("empty day directory left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026/03/01/d.wav.part")); err != nil {
		t.Errorf("part file swept: %v", err)
	}
}

func TestUnmatchedPacketAllocs(t *testing.T) {
	r := newRecorder(t, Config{})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	d := datagram(callerAddr, netip.MustParseAddrPort("192.0.2.50:9999"), t0, pkt{fill: 1}.marshal(t))
	if n := testing.AllocsPerRun(1000, func() {
		if r.Packet(d) {
			t.Fatal("matched")
		}
	}); n != 0 {
		t.Errorf("%v allocs per unmatched packet", n)
	}
}
