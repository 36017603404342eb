package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
)

// writeLoad writes n load calls (answered, with RTP) as pcap or pcapng.
func writeLoad(t *testing.T, path string, n int, ng bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var w *pcapgen.Writer
	if ng {
		w, err = pcapgen.NewNgWriter(f)
	} else {
		w, err = pcapgen.NewWriter(f)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pcapgen.Load(w, n, pcapgen.BaseTime()); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// cutMidPacket writes the first part of src (about frac of it) to dst so
// that the cut falls inside a record, and returns the offset of that
// record, where capture reports the cut.
func cutMidPacket(t *testing.T, src, dst string, frac float64) int64 {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for n := int(float64(len(b)) * frac); n < len(b); n++ {
		if err := os.WriteFile(dst, b[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := capture.OpenFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		var cut *capture.TruncatedError
		s.(capture.Truncating).OnTruncated(func(e *capture.TruncatedError) { cut = e })
		for {
			if _, err := s.ReadFrame(); err != nil {
				break
			}
		}
		s.Close()
		if cut != nil {
			return cut.Offset
		}
	}
	t.Fatal("no cut inside a record")
	return 0
}

// repaired writes the first off bytes of path: the file as it was up to
// the cut, which must replay whole.
func repaired(t *testing.T, path string, off int64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := path + ".repaired"
	if err := os.WriteFile(out, b[:off], 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func decodeCalls(t *testing.T, out string) []sip.Call {
	t.Helper()
	var calls []sip.Call
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var c sip.Call
		if err := dec.Decode(&c); errors.Is(err, io.EOF) {
			return calls
		} else if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
	}
}

// TestReplayTruncated is issue 9 §3: a capture cut mid-packet prints the
// calls read before the cut (exactly those of the file repaired at the
// cut), keeps the calls of a good file given beside it, warns on stderr
// with the file and the byte offset, and ends with the "partial" status.
func TestReplayTruncated(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pcap")
	sc, err := pcapgen.Lookup("busy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.WriteFile(good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		pcapng bool
		frac   float64
		beside bool
	}{
		{"pcap cut mid-packet", false, 0.6, false},
		{"pcapng cut mid-packet", true, 0.6, false},
		{"pcap cut early", false, 0.05, false},
		{"pcap cut beside a good file", false, 0.5, true},
		{"pcapng cut beside a good file", true, 0.5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			whole := filepath.Join(d, "whole.cap")
			writeLoad(t, whole, 40, tc.pcapng)
			cut := filepath.Join(d, "cut.cap")
			off := cutMidPacket(t, whole, cut, tc.frac)
			fixed := repaired(t, cut, off)
			args, want := []string{cut}, []string{fixed}
			if tc.beside {
				args, want = append(args, good), append(want, good)
			}

			out, errOut, err := runCmd(t, append([]string{"replay", "--json"}, args...)...)
			if !errors.Is(err, errPartial) || exitStatus(err) != exitPartial {
				t.Fatalf("err = %v (status %d), want partial (status %d)", err, exitStatus(err), exitPartial)
			}
			if !strings.Contains(errOut, cut) || !strings.Contains(errOut, fmt.Sprintf("byte %d", off)) {
				t.Fatalf("stderr names neither %s nor byte %d:\n%s", cut, off, errOut)
			}
			wantOut, _, err := runCmd(t, append([]string{"replay", "--json"}, want...)...)
			if err != nil {
				t.Fatalf("repaired file: %v", err)
			}
			if out != wantOut {
				t.Fatalf("calls of the cut file differ from those of the file repaired at the cut:\n%s\nwant:\n%s", out, wantOut)
			}
			calls := decodeCalls(t, out)
			if tc.frac > 0.3 && len(calls) == 0 {
				t.Fatal("no call read before the cut")
			}
			if tc.beside {
				var fromGood int
				for _, c := range calls {
					if !strings.HasPrefix(c.CallID, "load-") {
						fromGood++
					}
				}
				if fromGood == 0 {
					t.Fatalf("the good file's calls are lost:\n%s", out)
				}
			}
			// The table mode prints them too, with the same status.
			table, _, err := runCmd(t, append([]string{"replay"}, args...)...)
			if !errors.Is(err, errPartial) || strings.Count(table, "\n") != len(calls)+1 {
				t.Fatalf("table: err %v, %d lines for %d calls", err, strings.Count(table, "\n"), len(calls))
			}
		})
	}
}

// TestReplayTruncatedRecordDir: with --record-dir, every WAV written from
// a cut capture is named by the record of its call (issue 9 §3: "WAVs with
// no records").
func TestReplayTruncatedRecordDir(t *testing.T) {
	d := t.TempDir()
	whole := filepath.Join(d, "whole.pcap")
	writeLoad(t, whole, 30, false)
	cut := filepath.Join(d, "cut.pcap")
	cutMidPacket(t, whole, cut, 0.5)
	rec := filepath.Join(d, "rec")
	out, _, err := runCmd(t, "replay", "--json", "--record-dir", rec, cut)
	if !errors.Is(err, errPartial) {
		t.Fatalf("err = %v, want partial", err)
	}
	named := map[string]bool{}
	for _, c := range decodeCalls(t, out) {
		if c.Recording != nil && c.Recording.File != "" {
			named[filepath.Join(rec, c.Recording.File)] = true
		}
	}
	wavs := findFiles(t, rec, ".wav")
	if len(wavs) == 0 {
		t.Fatal("no recording written before the cut")
	}
	for _, w := range wavs {
		if !named[w] {
			t.Errorf("%s has no record", w)
		}
	}
	for w := range named {
		if _, err := os.Stat(w); err != nil {
			t.Errorf("record names %s: %v", w, err)
		}
	}
	if parts := findFiles(t, rec, ".part"); len(parts) != 0 {
		t.Errorf("recordings left open: %v", parts)
	}
}

// rewritePcap copies a pcap file, changing its link type and each frame's
// captured bytes.
func rewritePcap(t *testing.T, src, dst string, link layers.LinkType, frame func([]byte) []byte) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := pcapgo.NewWriterNanos(out)
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		b := frame(data)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ci.Timestamp, CaptureLength: len(b), Length: ci.Length}, b); err != nil {
			t.Fatal(err)
		}
	}
}

var undecodableRe = regexp.MustCompile(`(\d+) of (\d+) frames undecodable \(([^)]*)\)`)

// TestReplayUndecodable: an unsupported link type and frames cut by a
// small snaplen used to give exit 0, 0 calls and no word; replay now
// prints the undecodable counters on stderr (and nothing when all decode).
func TestReplayUndecodable(t *testing.T) {
	d := t.TempDir()
	whole := filepath.Join(d, "whole.pcap")
	writeLoad(t, whole, 3, false)
	for _, tc := range []struct {
		name   string
		link   layers.LinkType
		frame  func([]byte) []byte
		reason string // "" = every frame decodes
	}{
		{"whole", layers.LinkTypeEthernet, func(b []byte) []byte { return b }, ""},
		{"unsupported link type", layers.LinkTypeIEEE802_11, func(b []byte) []byte { return b }, capture.ReasonUnsupportedLink},
		{"snaplen 40", layers.LinkTypeEthernet, func(b []byte) []byte { return b[:min(len(b), 40)] }, capture.ReasonTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(d, "case_"+strings.ReplaceAll(tc.name, " ", "_")+".pcap")
			rewritePcap(t, whole, path, tc.link, tc.frame)
			for _, mode := range [][]string{{"replay"}, {"replay", "--json"}, {"replay", "--alarms"}} {
				_, errOut, err := runCmd(t, append(mode, path)...)
				if err != nil {
					t.Fatalf("%v: %v", mode, err)
				}
				m := undecodableRe.FindStringSubmatch(errOut)
				if tc.reason == "" {
					if m != nil {
						t.Fatalf("%v: undecodable line for a whole file: %s", mode, errOut)
					}
					continue
				}
				if m == nil || !strings.Contains(m[3], tc.reason) {
					t.Fatalf("%v: stderr lacks the %s counter:\n%s", mode, tc.reason, errOut)
				}
				n, _ := strconv.Atoi(m[1])
				total, _ := strconv.Atoi(m[2])
				if n == 0 || n != total {
					t.Fatalf("%v: %d of %d frames undecodable, want all", mode, n, total)
				}
			}
		})
	}
}

// TestExitStatus: the statuses the usage text documents.
func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"complete", nil, 0},
		{"error", errors.New("boom"), exitError},
		{"usage", fmt.Errorf("%w: no command", errUsage), exitUsage},
		{"partial", fmt.Errorf("%w: 1 of 2 capture files cut short", errPartial), exitPartial},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitStatus(tc.err); got != tc.want {
				t.Fatalf("exitStatus(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
	for _, want := range []string{"3 partial", "SIGHUP"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage text does not document %q", want)
		}
	}
}
