package central

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recEnv is a server taking recordings, and one enrolled box.
func recEnv(t *testing.T) (*env, *box) {
	t.Helper()
	dir := t.TempDir()
	e := newEnv(t, nil, func(c *Config) { c.RecordingsDir = dir; c.MaxRecording = 1 << 20 })
	return e, e.addBox("box-1", "Oficina Central")
}

// recAnswer is the status and Upload-Offset of an answer.
type recAnswer struct {
	status int
	offset string
}

func (b *box) rec(method, path string, body []byte, hdr ...string) recAnswer {
	b.e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, b.e.http.URL+PathRecordings+"/"+path, rd)
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return recAnswer{resp.StatusCode, resp.Header.Get("Upload-Offset")}
}

func (b *box) putRange(sha string, data []byte, from, to int, total int) recAnswer {
	return b.rec("PUT", sha, data[from:to], "Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to-1, total))
}

func hexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestRecordingProtocol drives the server's side of the protocol by hand:
// offsets, a gap, a corrupted upload refused by its hash, a resume after
// the server lost the tail of its temp file, and the link.
func TestRecordingProtocol(t *testing.T) {
	e, b := recEnv(t)
	wav := testWAV(t, 2)
	sha := hexSHA(wav)
	n := len(wav)

	if a := b.rec("HEAD", sha, nil); a.status != 200 || a.offset != "0" {
		t.Fatalf("HEAD of a new recording: %+v, want 200 offset 0", a)
	}
	if a := b.putRange(sha, wav, 0, 1000, n); a.status != 200 || a.offset != "1000" {
		t.Fatalf("first chunk: %+v", a)
	}
	if a := b.putRange(sha, wav, 2000, 3000, n); a.status != 409 || a.offset != "1000" {
		t.Fatalf("chunk past the offset: %+v, want 409 at 1000", a)
	}
	if a := b.putRange(sha, wav, 1000, 5000, n); a.status != 200 || a.offset != "5000" {
		t.Fatalf("second chunk: %+v", a)
	}
	// The server lost the tail of its temp file (a crash before the
	// sync): the box learns the true offset and resends from it.
	p := e.s.rec.partial(sha, "box-1")
	if err := os.Truncate(p, 3000); err != nil {
		t.Fatal(err)
	}
	if a := b.putRange(sha, wav, 5000, n, n); a.status != 409 || a.offset != "3000" {
		t.Fatalf("after truncation: %+v, want 409 at 3000", a)
	}
	if a := b.rec("HEAD", sha, nil); a.status != 200 || a.offset != "3000" {
		t.Fatalf("HEAD after truncation: %+v", a)
	}
	if a := b.rec("POST", sha+"/link", []byte(`{"record_id":"r1"}`)); a.status != 404 {
		t.Fatalf("link before the file is whole: %d, want 404", a.status)
	}
	if a := b.putRange(sha, wav, 3000, n, n); a.status != 204 {
		t.Fatalf("last chunk: %+v, want 204", a)
	}
	got, err := os.ReadFile(e.s.rec.final(sha))
	if err != nil || !bytes.Equal(got, wav) {
		t.Fatalf("kept file differs from the upload (err %v)", err)
	}
	if fi, err := os.Stat(e.s.rec.final(sha)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kept file mode: %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("temp file left: %v", err)
	}
	if a := b.rec("HEAD", sha, nil); a.status != 204 {
		t.Fatalf("HEAD of a whole file: %+v, want 204", a)
	}
	if a := b.putRange(sha, wav, 0, 10, n); a.status != 204 {
		t.Fatalf("PUT to a whole file: %+v, want 204", a)
	}
	if a := b.rec("POST", sha+"/link", []byte(`{"record_id":"r1"}`)); a.status != 204 {
		t.Fatalf("link: %d", a.status)
	}
	if a := b.rec("POST", sha+"/link", []byte(`{"record_id":"r1"}`)); a.status != 204 {
		t.Fatalf("link again: %d", a.status)
	}
	if c := e.count("SELECT count(*) FROM recordings WHERE box_id = 'box-1' AND record_id = 'r1' AND sha256 = $1 AND size = $2", sha, n); c != 1 {
		t.Fatalf("recordings rows: %d", c)
	}

	// Corrupted bytes: the file assembled does not hash to its name.
	bad := append([]byte(nil), wav...)
	bad[n/2] ^= 0xff
	if a := b.putRange(hexSHA(testWAV(t, 1)), bad, 0, n, n); a.status != 422 {
		t.Fatalf("corrupted upload: %+v, want 422", a)
	}
	if a := b.rec("HEAD", hexSHA(testWAV(t, 1)), nil); a.status != 200 || a.offset != "0" {
		t.Fatalf("HEAD after a refused upload: %+v, want 200 offset 0", a)
	}
	ents, _ := os.ReadDir(filepath.Join(e.s.rec.dir, "partial"))
	if len(ents) != 0 {
		t.Fatalf("partial files left: %v", ents)
	}
}

// TestRecordingRefusals checks the answers to requests outside the
// protocol.
func TestRecordingRefusals(t *testing.T) {
	_, b := recEnv(t)
	sha := hexSHA([]byte("x"))
	for _, tc := range []struct {
		name, method, path, rng string
		body                    []byte
		token                   string
		want                    int
	}{
		{"no credential", "HEAD", sha, "", nil, "-", 401},
		{"bad credential", "HEAD", sha, "", nil, "stb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
		{"upper-case hash", "HEAD", strings.ToUpper(sha), "", nil, "", 400},
		{"short hash", "HEAD", sha[:10], "", nil, "", 400},
		{"no range", "PUT", sha, "", []byte("x"), "", 400},
		{"range past total", "PUT", sha, "bytes 0-1/1", []byte("xy"), "", 400},
		{"range and body disagree", "PUT", sha, "bytes 0-3/10", []byte("x"), "", 400},
		{"too large", "PUT", sha, fmt.Sprintf("bytes 0-0/%d", 2<<20), []byte("x"), "", 413},
		{"link without record", "POST", sha + "/link", "", []byte(`{}`), "", 400},
		{"link unknown file", "POST", sha + "/link", "", []byte(`{"record_id":"r"}`), "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, b.e.http.URL+PathRecordings+"/"+tc.path, bytes.NewReader(tc.body))
			switch tc.token {
			case "":
				req.Header.Set("Authorization", "Bearer "+b.token)
			case "-":
			default:
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if tc.rng != "" {
				req.Header.Set("Content-Range", tc.rng)
			}
			resp, err := b.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestRecordingsOff: a server without recordings_dir answers 404.
func TestRecordingsOff(t *testing.T) {
	e := newEnv(t, nil, nil)
	b := e.addBox("box-1", "Oficina")
	if a := b.rec("HEAD", hexSHA([]byte("x")), nil); a.status != 404 {
		t.Fatalf("HEAD: %d, want 404", a.status)
	}
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in          string
		first, last int64
		total       int64
		ok          bool
	}{
		{"bytes 0-0/1", 0, 0, 1, true},
		{"bytes 10-19/20", 10, 19, 20, true},
		{"bytes 0-19/20", 0, 19, 20, true},
		{"bytes 5-4/20", 0, 0, 0, false},
		{"bytes 0-20/20", 0, 0, 0, false},
		{"bytes -1-4/20", 0, 0, 0, false},
		{"bytes 0-4/*", 0, 0, 0, false},
		{"bytes */20", 0, 0, 0, false},
		{"bits 0-4/20", 0, 0, 0, false},
		{"bytes +1-4/20", 0, 0, 0, false},
		{"bytes 0-4/99999999999999999999", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			f, l, n, err := parseContentRange(tc.in)
			if (err == nil) != tc.ok || f != tc.first || l != tc.last || n != tc.total {
				t.Fatalf("got %d-%d/%d %v", f, l, n, err)
			}
		})
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-0/1", "bytes 10-19/20", "bytes 5-4/20", "bytes */20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, b, n, err := parseContentRange(s)
		if err != nil {
			return
		}
		if a < 0 || a > b || b >= n {
			t.Fatalf("%q: accepted %d-%d/%d", s, a, b, n)
		}
		// The canonical form of what was accepted parses to the same.
		a2, b2, n2, err := parseContentRange(fmt.Sprintf("bytes %d-%d/%d", a, b, n))
		if err != nil || a2 != a || b2 != b || n2 != n {
			t.Fatalf("%q: canonical form gives %d-%d/%d %v", s, a2, b2, n2, err)
		}
	})
}

// testWAV builds a WAV by hand (RIFF, PCM 16-bit, 8 kHz, stereo as the
// recorder writes it) of secs seconds of a tone, different per length.
func testWAV(t testing.TB, secs int) []byte {
	t.Helper()
	const rate, ch, bits = 8000, 2, 16
	frames := rate * secs
	data := make([]byte, frames*ch*bits/8)
	for i := 0; i < frames; i++ {
		// A saw of 400 Hz left, 250 Hz right: not silence, not repetitive.
		l := int16((i*400%rate)*8 - 32000)
		r := int16((i*250%rate)*8 - 32000)
		data[4*i], data[4*i+1] = byte(l), byte(l>>8)
		data[4*i+2], data[4*i+3] = byte(r), byte(r>>8)
	}
	var w bytes.Buffer
	le32 := func(v int) { w.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	le16 := func(v int) { w.Write([]byte{byte(v), byte(v >> 8)}) }
	w.WriteString("RIFF")
	le32(36 + len(data))
	w.WriteString("WAVEfmt ")
	le32(16)
	le16(1)
	le16(ch)
	le32(rate)
	le32(rate * ch * bits / 8)
	le16(ch * bits / 8)
	le16(bits)
	w.WriteString("data")
	le32(len(data))
	w.Write(data)
	return w.Bytes()
}

// BenchmarkRecordingUpload is the server's disk work for one 1 MiB
// recording in 256 KiB chunks: appends, syncs, the hash from disk and the
// rename (no network, no database).
func BenchmarkRecordingUpload(b *testing.B) {
	rs := &recStore{dir: b.TempDir(), max: DefaultMaxRecording, locks: map[string]*keyLock{}}
	if err := os.MkdirAll(filepath.Join(rs.dir, "partial"), 0o700); err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat(testWAV(b, 1), 33)[:1<<20]
	const chunk = 256 << 10
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		// A distinct file each time: its name is its hash.
		data[0] = byte(i)
		data[1] = byte(i >> 8)
		sha := hexSHA(data)
		p := rs.partial(sha, "box-1")
		for off := 0; off < len(data); off += chunk {
			if _, err := rs.appendChunk(p, bytes.NewReader(data[off:off+chunk]), chunk); err != nil {
				b.Fatal(err)
			}
		}
		if ok, err := rs.commit(sha, p); err != nil || !ok {
			b.Fatalf("commit: %v %v", ok, err)
		}
	}
}
