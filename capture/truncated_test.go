package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// capFile is a capture written whole, with the byte offset at which each
// record ends, so a test can cut it anywhere and know what must be read.
type capFile struct {
	data []byte
	// head is where the first frame's record starts.
	head int
	// ends[i] is the offset just after frame i's record.
	ends []int
}

func threeFrames(t *testing.T) [][]byte {
	t.Helper()
	return [][]byte{udpFrame(t, "first"), udpFrame(t, "second frame"), udpFrame(t, "third")}
}

func buildPcap(t *testing.T, frames [][]byte) capFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "whole.pcap")
	times := []time.Time{t0, t0.Add(time.Millisecond), t0.Add(2 * time.Millisecond)}
	writePcap(t, path, true, times[:len(frames)], frames)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := capFile{data: b, head: 24}
	off := 24
	for _, f := range frames {
		off += 16 + len(f)
		c.ends = append(c.ends, off)
	}
	if off != len(b) {
		t.Fatalf("pcap layout: %d bytes, computed %d", len(b), off)
	}
	return c
}

// buildPcapng writes frames as enhanced packet blocks after the section
// header and one interface block, and finds the block ends by walking the
// block lengths (pcapng §3.1: type, total length, body, total length).
func buildPcapng(t *testing.T, frames [][]byte) capFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "whole.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriterInterface(f, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		if err := w.WritePacket(ci(t0.Add(time.Duration(i)*time.Millisecond), len(fr)), fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := capFile{data: b}
	for off := 0; off < len(b); {
		typ := binary.LittleEndian.Uint32(b[off:])
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		off += n
		switch typ {
		case 6: // enhanced packet block
			c.ends = append(c.ends, off)
		case 1: // interface description block
			c.head = off
		}
	}
	if len(c.ends) != len(frames) || c.ends[len(c.ends)-1] != len(b) {
		t.Fatalf("pcapng layout: ends %v of %d bytes", c.ends, len(b))
	}
	return c
}

// want returns what reading the file cut at n bytes must give: the frames
// whose records end within n, and the offset where a cut record starts
// (-1 when n falls on a record boundary: a clean end).
func (c capFile) want(n int) (frames int, offset int) {
	offset = c.head
	if n == c.head {
		return 0, -1
	}
	for _, e := range c.ends {
		if e > n {
			return frames, offset
		}
		frames, offset = frames+1, e
		if e == n {
			return frames, -1
		}
	}
	return frames, -1
}

// readCut writes the first n bytes of c, reads them to the end and returns
// the frames read and the truncation reported, if any.
func readCut(t *testing.T, c capFile, n int, name string) (int, *TruncatedError) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, c.data[:n], 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(path)
	if err != nil {
		t.Fatalf("open %d bytes: %v", n, err)
	}
	defer src.Close()
	var cuts []*TruncatedError
	src.(Truncating).OnTruncated(func(e *TruncatedError) { cuts = append(cuts, e) })
	frames := len(readAll(t, src))
	// Reading again after the end stays at the end, with no second report.
	if _, err := src.ReadFrame(); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the end: %v", err)
	}
	switch len(cuts) {
	case 0:
		return frames, nil
	case 1:
		return frames, cuts[0]
	}
	t.Fatalf("%d truncations reported for one file", len(cuts))
	return 0, nil
}

// TestTruncatedFile cuts pcap and pcapng files at every byte past their
// headers (issue 9 §3): the whole frames before the cut are read, the cut
// is reported once with the file's name and the offset of the record cut
// short, and a cut on a record boundary is a clean end.
func TestTruncatedFile(t *testing.T) {
	frames := threeFrames(t)
	for _, tc := range []struct {
		name string
		file capFile
	}{
		{"pcap", buildPcap(t, frames)},
		{"pcapng", buildPcapng(t, frames)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.file
			for n := c.head; n <= len(c.data); n++ {
				wantFrames, wantOff := c.want(n)
				got, cut := readCut(t, c, n, "cut."+tc.name)
				if got != wantFrames {
					t.Fatalf("cut at %d: %d frames, want %d", n, got, wantFrames)
				}
				if wantOff < 0 {
					if cut != nil {
						t.Fatalf("cut at record boundary %d reported: %v", n, cut)
					}
					continue
				}
				if cut == nil {
					t.Fatalf("cut at %d not reported (ends %v, %d frames)", n, c.ends, got)
				}
				if int(cut.Offset) != wantOff || cut.Size != int64(n) || cut.Frames != uint64(wantFrames) {
					t.Fatalf("cut at %d: offset %d size %d frames %d, want offset %d size %d frames %d",
						n, cut.Offset, cut.Size, cut.Frames, wantOff, n, wantFrames)
				}
				if !errors.Is(cut, io.ErrUnexpectedEOF) {
					t.Fatalf("cut at %d: err %v, want io.ErrUnexpectedEOF", n, cut.Err)
				}
				if msg := cut.Error(); !strings.Contains(msg, "cut."+tc.name) || !strings.Contains(msg, fmt.Sprintf("byte %d", wantOff)) {
					t.Fatalf("message %q names neither the file nor the offset", msg)
				}
			}
		})
	}
}

// TestDamagedRecord: a pcap record header whose capture length exceeds the
// original length cannot be read past; the frames before it are kept and
// the damage is reported as a truncation at that record.
func TestDamagedRecord(t *testing.T) {
	c := buildPcap(t, threeFrames(t))
	b := append([]byte(nil), c.data...)
	// Frame 1's record header starts at ends[0]: incl_len at +8, orig_len at +12.
	binary.LittleEndian.PutUint32(b[c.ends[0]+12:], 1)
	c.data = b
	got, cut := readCut(t, c, len(b), "damaged.pcap")
	if got != 1 || cut == nil || cut.Offset != int64(c.ends[0]) || errors.Is(cut, io.ErrUnexpectedEOF) {
		t.Fatalf("frames %d, cut %v; want 1 frame and damage at %d", got, cut, c.ends[0])
	}
}

// TestOpenFilesKeepsGoodFile: a truncated file merged with a whole one
// ends early, and the whole one gives all its frames (issue 9 §3: "a good
// file given beside it loses its calls too"). The cut is reported even when
// it was met while OpenFiles read the first frames.
func TestOpenFilesKeepsGoodFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pcap")
	writePcap(t, good, true,
		[]time.Time{t0, t0.Add(time.Second), t0.Add(2 * time.Second)},
		[][]byte{udpFrame(t, "g0"), udpFrame(t, "g1"), udpFrame(t, "g2")})
	whole := buildPcap(t, threeFrames(t))
	for _, tc := range []struct {
		name      string
		cut       int
		wantFrame int
	}{
		{"cut in the first record", whole.head + 10, 0},
		{"cut in the last record", whole.ends[1] + 20, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.pcap")
			if err := os.WriteFile(bad, whole.data[:tc.cut], 0o600); err != nil {
				t.Fatal(err)
			}
			src, err := OpenFiles([]string{bad, good})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var cuts []*TruncatedError
			src.(Truncating).OnTruncated(func(e *TruncatedError) { cuts = append(cuts, e) })
			got := readAll(t, src)
			if len(got) != 3+tc.wantFrame {
				t.Fatalf("%d frames, want %d", len(got), 3+tc.wantFrame)
			}
			if len(cuts) != 1 || cuts[0].Path != bad || cuts[0].Frames != uint64(tc.wantFrame) {
				t.Fatalf("truncations %v", cuts)
			}
		})
	}
}

// FuzzOpenFile feeds arbitrary bytes after a valid pcap or pcapng header:
// reading never panics, ends, and any cut reported lies within the file.
func FuzzOpenFile(f *testing.F) {
	frames := [][]byte{ether(udpPacket(f, false, "192.0.2.1", "192.0.2.2", 5060, 5060, []byte("INVITE")))}
	dir := f.TempDir()
	seed := func(name string, write func(*os.File) error) {
		path := filepath.Join(dir, name)
		fh, err := os.Create(path)
		if err != nil {
			f.Fatal(err)
		}
		if err := write(fh); err != nil {
			f.Fatal(err)
		}
		fh.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-3])
	}
	seed("s.pcap", func(fh *os.File) error {
		w := pcapgo.NewWriterNanos(fh)
		if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			return err
		}
		return w.WritePacket(ci(t0, len(frames[0])), frames[0])
	})
	seed("s.pcapng", func(fh *os.File) error {
		w, err := pcapgo.NewNgWriter(fh, layers.LinkTypeEthernet)
		if err != nil {
			return err
		}
		if err := w.WritePacket(ci(t0, len(frames[0])), frames[0]); err != nil {
			return err
		}
		return w.Flush()
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "fuzz")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		src, err := OpenFile(path)
		if err != nil {
			return
		}
		defer src.Close()
		var cut *TruncatedError
		src.(Truncating).OnTruncated(func(e *TruncatedError) { cut = e })
		for i := 0; ; i++ {
			if i > len(b) {
				t.Fatalf("%d frames from %d bytes", i, len(b))
			}
			if _, err := src.ReadFrame(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("read: %v", err)
				}
				break
			}
		}
		if cut != nil && (cut.Offset < 0 || cut.Offset > int64(len(b)) || cut.Size != int64(len(b))) {
			t.Fatalf("cut %+v in %d bytes", cut, len(b))
		}
	})
}

// BenchmarkReadFrame measures the file source per frame, with the offset
// bookkeeping that locates a cut: it must stay allocation-free.
func BenchmarkReadFrame(b *testing.B) {
	for _, tc := range []struct {
		name string
		ng   bool
	}{{"pcap", false}, {"pcapng", true}} {
		b.Run(tc.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench")
			fh, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			frame := ether(udpPacket(b, false, "192.0.2.1", "192.0.2.2", 40000, 50000, make([]byte, 172)))
			const n = 10000
			if tc.ng {
				w, err := pcapgo.NewNgWriter(fh, layers.LinkTypeEthernet)
				if err != nil {
					b.Fatal(err)
				}
				for i := range n {
					if err := w.WritePacket(ci(t0.Add(time.Duration(i)*20*time.Millisecond), len(frame)), frame); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			} else {
				w := pcapgo.NewWriterNanos(fh)
				if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
					b.Fatal(err)
				}
				for i := range n {
					if err := w.WritePacket(ci(t0.Add(time.Duration(i)*20*time.Millisecond), len(frame)), frame); err != nil {
						b.Fatal(err)
					}
				}
			}
			fh.Close()
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			var src Source
			for i := 0; b.Loop(); i++ {
				if i%n == 0 {
					if src != nil {
						src.Close()
					}
					b.StopTimer()
					if src, err = OpenFile(path); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				if _, err := src.ReadFrame(); err != nil {
					b.Fatal(err)
				}
			}
			src.Close()
		})
	}
}
