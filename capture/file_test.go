package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// writePcap writes frames (all Ethernet) to a pcap file, nanosecond or
// microsecond resolution.
func writePcap(t *testing.T, path string, nanos bool, times []time.Time, frames [][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w *pcapgo.Writer
	if nanos {
		w = pcapgo.NewWriterNanos(f)
	} else {
		w = pcapgo.NewWriter(f)
	}
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, b := range frames {
		if err := w.WritePacket(ci(times[i], len(b)), b); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll reads a source to the end, copying frames.
func readAll(t *testing.T, s Source) []Frame {
	t.Helper()
	var out []Frame
	for {
		f, err := s.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		f.Data = append([]byte(nil), f.Data...)
		out = append(out, f)
	}
}

func udpFrame(t *testing.T, payload string) []byte {
	return ether(udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte(payload)))
}

func TestOpenFilePcap(t *testing.T) {
	dir := t.TempDir()
	times := []time.Time{t0, t0.Add(1500 * time.Nanosecond), t0.Add(time.Second)}
	frames := [][]byte{udpFrame(t, "one"), udpFrame(t, "two"), udpFrame(t, "three")}
	for _, nanos := range []bool{true, false} {
		name := map[bool]string{true: "ns", false: "us"}[nanos]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".pcap")
			writePcap(t, path, nanos, times, frames)
			s, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got := readAll(t, s)
			if len(got) != len(frames) {
				t.Fatalf("%d frames, want %d", len(got), len(frames))
			}
			for i, f := range got {
				want := times[i]
				if !nanos {
					want = want.Truncate(time.Microsecond)
				}
				if !f.Info.Timestamp.Equal(want) || string(f.Data) != string(frames[i]) || f.LinkType != layers.LinkTypeEthernet {
					t.Errorf("frame %d: %v %v", i, f.Info.Timestamp, f.LinkType)
				}
			}
		})
	}
}

func TestOpenFilePcapngMixedLinkTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mixed.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriterInterface(f, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	sllIf, err := w.AddInterface(pcapgo.NgInterface{Name: "any", LinkType: layers.LinkTypeLinuxSLL, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	p := udpPacket(t, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte("hello"))
	e, s := ether(p), sll(p)
	ci0 := ci(t0, len(e))
	ci1 := ci(t0.Add(time.Microsecond), len(s))
	ci1.InterfaceIndex = sllIf
	if err := w.WritePacket(ci0, e); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(ci1, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frames := readAll(t, src)
	if len(frames) != 2 || frames[0].LinkType != layers.LinkTypeEthernet || frames[1].LinkType != layers.LinkTypeLinuxSLL {
		t.Fatalf("frames %+v", frames)
	}
	d := NewDecoder()
	var out []got
	for _, fr := range frames {
		if err := d.Decode(fr.LinkType, fr.Data, fr.Info, collect(&out)); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) != 2 || out[1].Payload != "hello" || !out[1].Time.Equal(t0.Add(time.Microsecond)) {
		t.Errorf("decoded %+v", out)
	}
}

func TestOpenFilesMerges(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	writePcap(t, a, true,
		[]time.Time{t0, t0.Add(2 * time.Millisecond), t0.Add(4 * time.Millisecond)},
		[][]byte{udpFrame(t, "a0"), udpFrame(t, "a2"), udpFrame(t, "a4")})
	writePcap(t, b, true,
		[]time.Time{t0.Add(time.Millisecond), t0.Add(2 * time.Millisecond), t0.Add(5 * time.Millisecond)},
		[][]byte{udpFrame(t, "b1"), udpFrame(t, "b2"), udpFrame(t, "b5")})
	s, err := OpenFiles([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	out, st := decodeSource(t, s)
	for reason, n := range st.Undecodable {
		if n != 0 {
			t.Fatalf("%d frames undecodable (%s)", n, reason)
		}
	}
	var order []string
	for _, g := range out {
		order = append(order, g.Payload)
	}
	// Equal times keep the order of the paths: a2 before b2.
	if got, want := strings.Join(order, " "), "a0 b1 a2 b2 a4 b5"; got != want {
		t.Errorf("order %q, want %q", got, want)
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pcap")
	if err := os.WriteFile(junk, []byte("this is not a capture file"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pcap")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{junk, empty} {
		if _, err := OpenFile(p); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("%s: err = %v, want ErrUnknownFormat", p, err)
		}
	}
	if _, err := OpenFile(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: err = %v", err)
	}
	if _, err := OpenFiles([]string{junk, empty}); err == nil {
		t.Error("OpenFiles of junk succeeded")
	}
}

// sharedPcap returns the path of a public capture, skipping the test when
// the folder is absent.
func sharedPcap(t *testing.T, name string) string {
	t.Helper()
	const dir = "../../shared/pcaps"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("public captures absent: %v", err)
	}
	return filepath.Join(dir, name)
}

// decodeFile decodes a whole file and returns its datagrams and stats.
func decodeFile(t *testing.T, path string) ([]got, DecoderStats) {
	t.Helper()
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeSource(t, s)
}

// decodeSource decodes every frame of s, then closes it.
func decodeSource(t *testing.T, s Source) ([]got, DecoderStats) {
	t.Helper()
	defer s.Close()
	d := NewDecoder()
	var out []got
	for {
		f, err := s.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		_ = d.Decode(f.LinkType, f.Data, f.Info, collect(&out))
		d.Expire(f.Info.Timestamp)
	}
	return out, d.Stats()
}

func TestPublicCaptureIPv6Fragments(t *testing.T) {
	out, st := decodeFile(t, sharedPcap(t, "sngrep-ipv6-frag-prack.pcap"))
	if st.FragmentsReassembled == 0 {
		t.Fatalf("nothing reassembled: %+v", st)
	}
	found := false
	for _, g := range out {
		if g.Transport == UDP && strings.HasPrefix(g.Payload, "INVITE sip:") && g.Src.Addr().Is6() {
			found = true
			if !strings.Contains(g.Payload, "\r\n\r\nv=0") {
				t.Errorf("reassembled INVITE lacks its SDP body (%d bytes)", len(g.Payload))
			}
		}
	}
	if !found {
		t.Errorf("no reassembled IPv6 UDP INVITE among %d datagrams (%+v)", len(out), st)
	}
	if n := st.Undecodable[ReasonMalformed] + st.Undecodable[ReasonTruncated]; n != 0 {
		t.Errorf("%d undecodable frames", n)
	}
}

func TestPublicCaptureTCP(t *testing.T) {
	out, st := decodeFile(t, sharedPcap(t, "sip-tcp-call-pcma.pcap"))
	var stream strings.Builder
	for _, g := range out {
		if g.Transport == TCP && (g.Dst.Port() == 5060 || g.Src.Port() == 5060) {
			stream.WriteString(g.Payload)
		}
	}
	s := stream.String()
	if !strings.Contains(s, "INVITE sip:") {
		t.Fatalf("no INVITE in %d bytes of TCP (%+v)", len(s), st)
	}
	// Every message appears once: no retransmitted bytes delivered twice.
	if n := strings.Count(s, "INVITE sip:"); n != 1 {
		t.Errorf("%d INVITEs in the TCP stream", n)
	}
	if st.TCPBytes == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestPublicCapturesDecode(t *testing.T) {
	dir := filepath.Dir(sharedPcap(t, "MANIFEST.md"))
	for _, name := range []string{"sip-call-rtp-g711.pcap", "voipshark-call-pcmu.pcap", "aaa-cancel-auth.pcap",
		"fax-t38-reinvite-488.pcap", "sip-ipv6-udp.pcap", "sipp-load-1334calls.pcapng"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			out, st := decodeFile(t, path)
			sip := 0
			for _, g := range out {
				if strings.Contains(g.Payload, "SIP/2.0") {
					sip++
				}
			}
			if sip == 0 || st.Datagrams == 0 {
				t.Errorf("%d SIP datagrams of %d; stats %+v", sip, len(out), st)
			}
			if n := st.Undecodable[ReasonMalformed] + st.Undecodable[ReasonTruncated] + st.Undecodable[ReasonUnsupportedLink]; n > st.Frames/100 {
				t.Errorf("%d of %d frames undecodable: %v", n, st.Frames, st.Undecodable)
			}
		})
	}
}
