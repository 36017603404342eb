package web

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/switchtap/switchtap/sip"
)

// ulawWAV builds a μ-law stereo 8 kHz WAV as package recorder writes it
// (18-byte fmt chunk, fact chunk: recorder/wav.go header).
func ulawWAV(left, right []int16) []byte {
	n := min(len(left), len(right))
	data := uint32(2 * n)
	var b []byte
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, 4+8+18+12+8+data)
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 18)
	b = binary.LittleEndian.AppendUint16(b, 7) // WAVE_FORMAT_MULAW
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint32(b, 8000)
	b = binary.LittleEndian.AppendUint32(b, 16000)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 8)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = append(b, "fact"...)
	b = binary.LittleEndian.AppendUint32(b, 4)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, data)
	for i := range n {
		b = append(b, g711.EncodeUlawFrame(left[i]), g711.EncodeUlawFrame(right[i]))
	}
	return b
}

// tone returns n samples of a sine of freq Hz and amplitude amp at 8 kHz.
func tone(n int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/8000))
	}
	return s
}

// writeTestRecording stores a recording of record id (which must exist)
// under the env's recordings directory and links it from the record.
func writeTestRecording(t testing.TB, e *testEnv, id string, left, right []int16) []byte {
	t.Helper()
	rel := "2026/12/01/" + id + ".wav"
	path := filepath.Join(e.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	b := ulawWAV(left, right)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := e.calls.Call(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	c.Recording = &sip.Recording{File: rel, DurationSeconds: float64(min(len(left), len(right))) / 8000}
	e.calls.add(c)
	return b
}

// recordingEnv is an env with call "c1" recorded: one second, a 440 Hz
// tone left and a 1 kHz tone right.
func recordingEnv(t *testing.T) (*testEnv, []int16, []int16) {
	t.Helper()
	e := newTestEnv(t)
	e.calls.add(e.testCall("c1", -time.Hour))
	left, right := tone(8000, 440, 8000), tone(8000, 1000, 3000)
	writeTestRecording(t, e, "c1", left, right)
	return e, left, right
}

// TestRecordingPCM: the WAV served is 16-bit PCM stereo 8 kHz, one frame
// per stored frame, each sample the G.711 decoding of the stored one.
func TestRecordingPCM(t *testing.T) {
	e, left, right := recordingEnv(t)
	w := e.do("GET", "/api/v1/calls/c1/recording", nil, e.as("tecnico"))
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w.Header().Get("Content-Type") != "audio/wav" || w.Header().Get("Accept-Ranges") != "bytes" {
		t.Fatalf("headers %v", w.Header())
	}
	b := w.Body.Bytes()
	off, size, err := parsePCMHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if off != 44 || size != int64(4*len(left)) || int64(len(b)) != off+size {
		t.Fatalf("data at %d, %d bytes, file %d; want 44, %d", off, size, len(b), 4*len(left))
	}
	for i := range left {
		l := int16(binary.LittleEndian.Uint16(b[off+int64(4*i):]))
		r := int16(binary.LittleEndian.Uint16(b[off+int64(4*i)+2:]))
		if l != g711.DecodeUlawFrame(g711.EncodeUlawFrame(left[i])) || r != g711.DecodeUlawFrame(g711.EncodeUlawFrame(right[i])) {
			t.Fatalf("frame %d = %d,%d", i, l, r)
		}
	}
	if w.Header().Get("Content-Disposition") != "" {
		t.Errorf("play has Content-Disposition %q", w.Header().Get("Content-Disposition"))
	}
}

// TestRecordingRange: a Range request gets 206, the right bytes and
// Content-Range; every request that sends audio is audited before, with
// the range in Detail; HEAD sends none and is not audited.
func TestRecordingRange(t *testing.T) {
	e, _, _ := recordingEnv(t)
	full := e.do("GET", "/api/v1/calls/c1/recording", nil, e.as("tecnico")).Body.Bytes()
	for _, tc := range []struct {
		rng        string
		lo, hi     int
		wantStatus int
	}{
		{"bytes=0-1", 0, 1, http.StatusPartialContent},
		{"bytes=100-4195", 100, 4195, http.StatusPartialContent},
		{fmt.Sprintf("bytes=%d-", len(full)-10), len(full) - 10, len(full) - 1, http.StatusPartialContent},
		{"bytes=-44", len(full) - 44, len(full) - 1, http.StatusPartialContent},
	} {
		t.Run(tc.rng, func(t *testing.T) {
			w := e.do("GET", "/api/v1/calls/c1/recording", nil, e.as("tecnico"), header("Range", tc.rng))
			if w.Code != tc.wantStatus {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if want := fmt.Sprintf("bytes %d-%d/%d", tc.lo, tc.hi, len(full)); w.Header().Get("Content-Range") != want {
				t.Fatalf("Content-Range %q, want %q", w.Header().Get("Content-Range"), want)
			}
			if !bytes.Equal(w.Body.Bytes(), full[tc.lo:tc.hi+1]) {
				t.Fatalf("bytes differ")
			}
			last := e.auth.entries()[len(e.auth.entries())-1]
			if last.Action != ActionRecordingPlay || last.Target != "c1" || !strings.Contains(last.Detail, "range="+tc.rng) || last.Actor != "tecnico" || last.Remote != "192.0.2.10" {
				t.Fatalf("audit entry %+v", last)
			}
		})
	}
	// If-Range with another date: the whole file.
	w := e.do("GET", "/api/v1/calls/c1/recording", nil, e.as("tecnico"), header("Range", "bytes=0-9"),
		header("If-Range", "Mon, 02 Jan 2006 15:04:05 GMT"))
	if w.Code != http.StatusOK || w.Body.Len() != len(full) {
		t.Fatalf("If-Range stale: %d, %d bytes", w.Code, w.Body.Len())
	}
	before := e.auth.count(ActionRecordingPlay)
	if w := e.do("HEAD", "/api/v1/calls/c1/recording", nil, e.as("tecnico")); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("HEAD %d, %d bytes", w.Code, w.Body.Len())
	}
	if e.auth.count(ActionRecordingPlay) != before {
		t.Fatal("HEAD audited")
	}
	// 1 full + 4 ranges + 1 If-Range.
	if got := e.auth.count(ActionRecordingPlay); got != 6 {
		t.Fatalf("%d play entries, want 6", got)
	}
	if e.srv == nil || e.auth.count(ActionRecordingSave) != 0 {
		t.Fatal("download counted")
	}
}

// TestRecordingDownloadAndStored: download=1 is an attachment audited as a
// save; format=stored is the file byte for byte.
func TestRecordingDownloadAndStored(t *testing.T) {
	e := newTestEnv(t)
	e.calls.add(e.testCall("c1", -time.Hour))
	stored := writeTestRecording(t, e, "c1", tone(800, 440, 8000), tone(800, 440, 8000))
	w := e.do("GET", "/api/v1/calls/c1/recording?format=stored&download=1", nil, e.as("jefe"))
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), stored) {
		t.Fatalf("stored: %d, %d bytes of %d", w.Code, w.Body.Len(), len(stored))
	}
	if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename=c1.wav` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	w = e.do("GET", "/api/v1/calls/c1/recording?download=1", nil, e.as("jefe"))
	if w.Code != http.StatusOK || w.Body.Len() != 44+4*800 {
		t.Fatalf("pcm download: %d, %d bytes", w.Code, w.Body.Len())
	}
	ents := e.auth.entries()
	if len(ents) != 2 || ents[0].Action != ActionRecordingSave || ents[0].Detail != "format=stored" ||
		ents[1].Action != ActionRecordingSave || ents[1].Detail != "format=pcm" || ents[0].Actor != "jefe" {
		t.Fatalf("audit %+v", ents)
	}
	if w := e.do("GET", "/api/v1/calls/c1/recording?format=mp3", nil, e.as("jefe")); w.Code != http.StatusBadRequest {
		t.Fatalf("format=mp3: %d", w.Code)
	}
}

// TestRecordingAuditFailure: when the audit entry cannot be written the
// answer is 503 and not one byte of audio is sent.
func TestRecordingAuditFailure(t *testing.T) {
	e, _, _ := recordingEnv(t)
	e.auth.setAuditErr(errFakeDown)
	for _, target := range []string{
		"/api/v1/calls/c1/recording",
		"/api/v1/calls/c1/recording?format=stored",
		"/api/v1/calls/c1/recording?download=1",
	} {
		for _, rng := range []string{"", "bytes=0-99"} {
			t.Run(target+" "+rng, func(t *testing.T) {
				opts := []func(*http.Request){e.as("admin")}
				if rng != "" {
					opts = append(opts, header("Range", rng))
				}
				w := e.do("GET", target, nil, opts...)
				if w.Code != http.StatusServiceUnavailable {
					t.Fatalf("%d", w.Code)
				}
				if bytes.Contains(w.Body.Bytes(), []byte("RIFF")) || w.Header().Get("Content-Range") != "" || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
					t.Fatalf("audio sent: %v %q", w.Header(), w.Body.Bytes()[:min(20, w.Body.Len())])
				}
			})
		}
	}
	// The export of calls is refused the same way.
	if w := e.do("GET", "/api/v1/calls?format=csv", nil, e.as("admin")); w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "call_id") {
		t.Fatalf("csv with audit down: %d %s", w.Code, w.Body)
	}
}

// TestRecordingNotFound: ids that are paths, NUL, too long or unknown are
// 404 (JSON, never a file, never 500).
func TestRecordingNotFound(t *testing.T) {
	e, _, _ := recordingEnv(t)
	for _, id := range []string{
		"unknown", "..", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f", "%2e%2e", "a%2fb", "c1%00", "%00",
		"..%5c..%5cwindows", strings.Repeat("x", maxIDLen+1),
	} {
		for _, suffix := range []string{"", "/recording", "/peaks"} {
			t.Run(id+suffix, func(t *testing.T) {
				w := e.do("GET", "/api/v1/calls/"+id+suffix, nil, e.as("tecnico"))
				if w.Code != http.StatusNotFound {
					t.Fatalf("%d %s", w.Code, w.Body)
				}
				if bytes.Contains(w.Body.Bytes(), []byte("RIFF")) || bytes.Contains(w.Body.Bytes(), []byte("root:")) {
					t.Fatal("file content in answer")
				}
			})
		}
	}
	if n := len(e.auth.entries()); n != 0 {
		t.Fatalf("%d audit entries for refused requests", n)
	}
}

// TestRecordingForged: a record whose file points outside the recordings
// directory (by "..", an absolute path or a symbolic link) is 404 and no
// byte of the outside file is read.
func TestRecordingForged(t *testing.T) {
	e := newTestEnv(t)
	outside := filepath.Join(filepath.Dir(e.dir), "outside-"+filepath.Base(e.dir)+".wav")
	secret := ulawWAV(tone(800, 440, 8000), tone(800, 440, 8000))
	secret = append(secret, "SECRET-OUTSIDE"...)
	if err := os.WriteFile(outside, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(outside) })
	if err := os.Symlink(outside, filepath.Join(e.dir, "link.wav")); err != nil {
		t.Fatal(err)
	}
	for i, file := range []string{
		"../../etc/passwd",
		"../" + filepath.Base(outside),
		outside,
		"/etc/passwd",
		"link.wav",
		"2026/../../" + filepath.Base(outside),
	} {
		t.Run(file, func(t *testing.T) {
			id := fmt.Sprintf("forged%d", i)
			c := e.testCall(id, -time.Hour)
			c.Recording = &sip.Recording{File: file}
			e.calls.add(c)
			for _, q := range []string{"", "?format=stored", "?download=1"} {
				w := e.do("GET", "/api/v1/calls/"+id+"/recording"+q, nil, e.as("admin"))
				if w.Code != http.StatusNotFound {
					t.Fatalf("%s: %d", q, w.Code)
				}
				if bytes.Contains(w.Body.Bytes(), []byte("SECRET")) || bytes.Contains(w.Body.Bytes(), []byte("RIFF")) {
					t.Fatal("outside file served")
				}
			}
			if w := e.do("GET", "/api/v1/calls/"+id+"/peaks", nil, e.as("admin")); w.Code != http.StatusNotFound {
				t.Fatalf("peaks %d", w.Code)
			}
		})
	}
	if n := e.auth.count(ActionRecordingPlay) + e.auth.count(ActionRecordingSave); n != 0 {
		t.Fatalf("%d entries for refused files", n)
	}
}

// TestRecordingMissing: no WAV says why (not_recordable); a WAV removed by
// retention is 404 too.
func TestRecordingMissing(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		id   string
		rec  *sip.Recording
		want string
	}{
		{"srtp", &sip.Recording{NotRecordable: "encrypted (SRTP)"}, "encrypted (SRTP)"},
		{"none", nil, "no audio stream"},
		{"gone", &sip.Recording{File: "2026/12/01/gone.wav"}, ""},
	} {
		t.Run(tc.id, func(t *testing.T) {
			c := e.testCall(tc.id, -time.Hour)
			c.Recording = tc.rec
			e.calls.add(c)
			w := e.do("GET", "/api/v1/calls/"+tc.id+"/recording", nil, e.as("tecnico"))
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusNotFound {
				t.Fatalf("%d %s %v", w.Code, w.Body, err)
			}
			if body.NotRecordable != tc.want {
				t.Fatalf("not_recordable %q, want %q", body.NotRecordable, tc.want)
			}
		})
	}
}

// TestPeaks: the peaks of a square wave are its two levels, bucket by
// bucket; those of a sine reach its amplitude; n is bounded.
func TestPeaks(t *testing.T) {
	e := newTestEnv(t)
	e.calls.add(e.testCall("sq", -time.Hour))
	const amp = 8000
	left := make([]int16, 8000)
	for i := range left {
		left[i] = amp
		if i >= 4000 {
			left[i] = -amp
		}
	}
	writeTestRecording(t, e, "sq", left, tone(8000, 440, 3000))
	w := e.do("GET", "/api/v1/calls/sq/peaks?n=16", nil, e.as("tecnico"))
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var p peaksJSON
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.DurationSeconds != 1 || p.SampleRate != 8000 || p.N != 16 || len(p.Channels[0]) != 16 || len(p.Channels[1]) != 16 {
		t.Fatalf("peaks %+v", p)
	}
	q := g711.DecodeUlawFrame(g711.EncodeUlawFrame(amp))
	for i, mm := range p.Channels[0] {
		want := [2]int16{q, q}
		if i >= 8 {
			want = [2]int16{-q, -q}
		}
		if mm != want {
			t.Fatalf("left bucket %d = %v, want %v", i, mm, want)
		}
	}
	for i, mm := range p.Channels[1] {
		// 500 frames a bucket hold 27 periods of 440 Hz: both crests.
		if math.Abs(float64(mm[1])-3000) > 3000*0.05 || math.Abs(float64(mm[0])+3000) > 3000*0.05 {
			t.Fatalf("right bucket %d = %v, want about ±3000", i, mm)
		}
	}
	if n := len(e.auth.entries()); n != 0 {
		t.Fatalf("peaks audited: %d entries", n)
	}
	for _, n := range []string{"15", "4001", "x", "-1"} {
		if w := e.do("GET", "/api/v1/calls/sq/peaks?n="+n, nil, e.as("tecnico")); w.Code != http.StatusBadRequest {
			t.Errorf("n=%s: %d", n, w.Code)
		}
	}
	w = e.do("GET", "/api/v1/calls/sq/peaks", nil, e.as("tecnico"))
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.N != peaksDefault || len(p.Channels[0]) != peaksDefault {
		t.Fatalf("default n: %v %d", err, p.N)
	}
}

// TestComputePeaksShort: a recording shorter than n frames fills the
// buckets it reaches and leaves the rest [0, 0]; an empty one is all zero.
func TestComputePeaksShort(t *testing.T) {
	pcm := func(frames ...[2]int16) []byte {
		b := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x40\x1f\x00\x00\x00\x7d\x00\x00\x04\x00\x10\x00data")
		b = binary.LittleEndian.AppendUint32(b, uint32(4*len(frames)))
		for _, f := range frames {
			b = binary.LittleEndian.AppendUint16(b, uint16(f[0]))
			b = binary.LittleEndian.AppendUint16(b, uint16(f[1]))
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		b      []byte
		n      int
		want0  [][2]int16
		frames int
	}{
		{"empty", pcm(), 4, [][2]int16{{}, {}, {}, {}}, 0},
		{"two frames in four buckets", pcm([2]int16{5, -5}, [2]int16{-7, 7}), 4, [][2]int16{{5, 5}, {}, {-7, -7}, {}}, 2},
		{"four frames in two buckets", pcm([2]int16{1, 0}, [2]int16{-3, 0}, [2]int16{9, 0}, [2]int16{2, 0}), 2, [][2]int16{{-3, 1}, {2, 9}}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := computePeaks(bytes.NewReader(tc.b), int64(len(tc.b)), tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(p.Channels[0]) != fmt.Sprint(tc.want0) || p.DurationSeconds != float64(tc.frames)/8000 {
				t.Fatalf("got %v %v, want %v", p.Channels[0], p.DurationSeconds, tc.want0)
			}
		})
	}
	if _, err := computePeaks(bytes.NewReader(ulawWAV(tone(10, 1, 1), tone(10, 1, 1))), 100, 16); !errors.Is(err, errBadPCM) {
		t.Fatalf("μ-law given to computePeaks: %v", err)
	}
}

// TestPCMCache: concurrent requests of one recording convert it once; the
// cache holds at most its entries and bytes; a conversion too large for it
// goes to a temporary file that is removed after use; an error is not
// cached.
func TestPCMCache(t *testing.T) {
	c := newPCMCache(2, 4000)
	var mu sync.Mutex
	converted := 0
	conv := func(n int) func(io.Writer) error {
		return func(w io.Writer) error {
			mu.Lock()
			converted++
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			_, err := w.Write(bytes.Repeat([]byte{'x'}, n))
			return err
		}
	}
	k := func(name string, size int64) pcmKey { return pcmKey{rel: name, size: size} }
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			src, err := c.source(k("a", 100), conv(200))
			if err != nil {
				t.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, src)
			_ = src.Close()
			if n != 200 {
				t.Errorf("read %d", n)
			}
		})
	}
	wg.Wait()
	if converted != 1 || c.len() != 1 {
		t.Fatalf("%d conversions, %d cached; want 1, 1", converted, c.len())
	}
	for _, name := range []string{"b", "c"} {
		if _, err := c.source(k(name, 100), conv(200)); err != nil {
			t.Fatal(err)
		}
	}
	if c.len() != 2 {
		t.Fatalf("%d entries, want 2", c.len())
	}
	// "a" was evicted (least recently used): converted again.
	if _, err := c.source(k("a", 100), conv(200)); err != nil || converted != 4 {
		t.Fatalf("%v, %d conversions", err, converted)
	}
	// By bytes: 2100+2100 > 4000 leaves one.
	for _, name := range []string{"d", "e"} {
		if _, err := c.source(k(name, 200), conv(2100)); err != nil {
			t.Fatal(err)
		}
	}
	if c.len() != 1 || c.bytes != 2100 {
		t.Fatalf("%d entries, %d bytes", c.len(), c.bytes)
	}
	// Too large: a temporary file, gone after Close.
	src, err := c.source(k("big", 2000), conv(1300))
	if err != nil {
		t.Fatal(err)
	}
	tf, ok := src.(tempSource)
	if !ok {
		t.Fatalf("source %T, want a temp file", src)
	}
	if n, _ := io.Copy(io.Discard, src); n != 1300 {
		t.Fatalf("temp read %d", n)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tf.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file left: %v", err)
	}
	failing := func(io.Writer) error { return errFakeDown }
	if _, err := c.source(k("f", 10), failing); !errors.Is(err, errFakeDown) {
		t.Fatal(err)
	}
	if _, err := c.source(k("f", 10), conv(5)); err != nil {
		t.Fatalf("error cached: %v", err)
	}
}
