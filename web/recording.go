package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
)

// Bounds of the converted-recording cache: the many Range requests of one
// play (a browser seeks with them) convert the file once.
const (
	pcmCacheEntries = 8
	pcmCacheBytes   = 64 << 20
)

// recordingFile is a stored recording opened inside the recordings
// directory.
type recordingFile struct {
	call sip.Call
	rel  string
	f    *os.File
	info fs.FileInfo
}

// openRecording opens the WAV of record id. The path comes only from the
// record's recording.file and is opened through os.Root, so neither a
// forged record ("../../etc/passwd") nor a symbolic link can reach a file
// outside cfg.RecordingDir. The caller closes rf.f.
func (s *Server) openRecording(ctx context.Context, id string) (*recordingFile, error) {
	if !validID(id) {
		return nil, fmt.Errorf("recording of %q: %w", clip(id), ErrNotFound)
	}
	c, err := s.cfg.Calls.Call(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("recording of %q: %w", clip(id), err)
	}
	if !callVisibleCtx(ctx, &c) {
		return nil, fmt.Errorf("recording of %q: %w", clip(id), ErrNotFound)
	}
	if c.Recording == nil || c.Recording.File == "" {
		reason := "no audio stream"
		if c.Recording != nil && c.Recording.NotRecordable != "" {
			reason = c.Recording.NotRecordable
		}
		return nil, &noRecordingError{reason: reason}
	}
	rel := filepath.FromSlash(c.Recording.File)
	if !filepath.IsLocal(rel) {
		s.log.Warn("recording path outside the recordings directory", "id", id, "file", c.Recording.File)
		return nil, fmt.Errorf("recording of %q: path %q not local: %w", clip(id), clip(c.Recording.File), ErrNotFound)
	}
	root, err := os.OpenRoot(s.cfg.RecordingDir)
	if err != nil {
		return nil, fmt.Errorf("open recordings directory: %w", err)
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("recording not opened", "id", id, "file", c.Recording.File, "err", err)
		}
		// Gone (retention) or escaping the root: either way not here.
		return nil, fmt.Errorf("recording of %q: %v: %w", clip(id), err, ErrNotFound)
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("recording of %q: not a regular file: %w", clip(id), ErrNotFound)
	}
	return &recordingFile{call: c, rel: rel, f: f, info: info}, nil
}

// noRecordingError is a call recorded without a WAV; reason is the
// record's not_recordable.
type noRecordingError struct{ reason string }

func (e *noRecordingError) Error() string { return "no recording: " + e.reason }

// Is makes errors.Is(err, errNoRecording) and errors.Is(err, ErrNotFound)
// true.
func (e *noRecordingError) Is(target error) bool {
	return target == errNoRecording || target == ErrNotFound
}

// handleRecording is GET (and HEAD) /api/v1/calls/{id}/recording: the
// recording as 16-bit PCM WAV, or with format=stored the file as stored;
// Range and If-Range through http.ServeContent. Every answer that carries
// audio bytes (each Range request too) is audited before they are sent.
func (a *api) handleRecording(w http.ResponseWriter, r *http.Request) {
	s := a.s
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "pcm" && format != "stored" {
		s.writeError(w, r, fmt.Errorf("%w: format debe ser pcm o stored", ErrInvalid))
		return
	}
	download := q.Get("download") == "1"
	id := r.PathValue("id")
	rf, err := s.openRecording(r.Context(), id)
	if err != nil {
		s.writeRecordingError(w, r, err)
		return
	}
	defer rf.f.Close()

	var content io.ReadSeeker = rf.f
	name := path.Base(filepath.ToSlash(rf.rel))
	if format != "stored" {
		src, err := a.pcm.source(pcmKeyOf(rf), func(w io.Writer) error { return s.exportPCM(rf, w) })
		if err != nil {
			s.writeError(w, r, fmt.Errorf("convert recording of %q: %w", clip(id), err))
			return
		}
		defer src.Close()
		content = src
		format = "pcm"
	}
	if r.Method != http.MethodHead {
		action := ActionRecordingPlay
		if download {
			action = ActionRecordingSave
		}
		detail := "format=" + format
		if rg := r.Header.Get("Range"); rg != "" {
			detail += " range=" + clipHeader(rg)
		}
		p, _ := principalFrom(r.Context())
		if err := s.audit(r, p, action, id, detail); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Accept-Ranges", "bytes")
	if download {
		setAttachment(w, "audio/wav", name)
	}
	http.ServeContent(w, r, name, rf.info.ModTime(), content)
}

// writeRecordingError answers a recording that cannot be served; a call
// without a WAV says why in not_recordable.
func (s *Server) writeRecordingError(w http.ResponseWriter, r *http.Request, err error) {
	var nr *noRecordingError
	if errors.As(err, &nr) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: errNoRecording.Error(), NotRecordable: nr.reason})
		return
	}
	s.writeError(w, r, err)
}

// clipHeader bounds a header value copied into the audit log.
func clipHeader(v string) string {
	if len(v) > 200 {
		return v[:200] + "…"
	}
	return v
}

// exportPCM converts the opened file with recorder.ExportPCM, which takes
// a path: it is given a path to the very file opened through os.Root
// (/proc/self/fd/N on Linux), checked to be the same file, so the
// confinement is not undone by reopening a name.
func (s *Server) exportPCM(rf *recordingFile, w io.Writer) error {
	for _, p := range []string{
		"/proc/self/fd/" + strconv.FormatUint(uint64(rf.f.Fd()), 10),
		filepath.Join(s.cfg.RecordingDir, rf.rel),
	} {
		if fi, err := os.Stat(p); err != nil || !os.SameFile(fi, rf.info) {
			continue
		}
		if err := recorder.ExportPCM(p, w); err != nil {
			return fmt.Errorf("export pcm: %w", err)
		}
		return nil
	}
	return fmt.Errorf("export pcm: %s changed since it was opened: %w", rf.rel, ErrNotFound)
}

// pcmKey names a conversion: the file's identity, so a file rewritten
// (crash repair) is converted again.
type pcmKey struct {
	rel  string
	size int64
	mod  time.Time
}

func pcmKeyOf(rf *recordingFile) pcmKey {
	return pcmKey{rel: rf.rel, size: rf.info.Size(), mod: rf.info.ModTime()}
}

// pcmCache keeps the few recent conversions, bounded in entries and bytes
// (least recently used out first), and converts a file once however many
// requests ask for it at the same time. A conversion larger than the byte
// bound goes to a temporary file, removed when its request ends.
type pcmCache struct {
	maxEntries int
	maxBytes   int64

	mu      sync.Mutex
	bytes   int64
	entries []pcmEntry // least recently used first
	flight  map[pcmKey]*pcmFlight
}

type pcmEntry struct {
	key  pcmKey
	data []byte
}

type pcmFlight struct {
	done chan struct{}
	data []byte
	err  error
}

func newPCMCache(entries int, bytes int64) *pcmCache {
	return &pcmCache{maxEntries: entries, maxBytes: bytes, flight: make(map[pcmKey]*pcmFlight)}
}

// pcmSource is a converted recording; Close releases it.
type pcmSource interface {
	io.ReadSeeker
	io.Closer
}

// bytesSource is a cached conversion.
type bytesSource struct{ *bytes.Reader }

func (bytesSource) Close() error { return nil }

// tempSource is a conversion too large for the cache.
type tempSource struct{ *os.File }

func (t tempSource) Close() error {
	err := t.File.Close()
	if rerr := os.Remove(t.Name()); err == nil {
		err = rerr
	}
	return err
}

// source returns the conversion of key, made by convert when not cached.
func (c *pcmCache) source(key pcmKey, convert func(io.Writer) error) (pcmSource, error) {
	// μ-law/A-law doubles in PCM; the header is small.
	if 2*key.size+1024 > c.maxBytes {
		return c.temp(convert)
	}
	data, err := c.get(key, convert)
	if err != nil {
		return nil, err
	}
	return bytesSource{bytes.NewReader(data)}, nil
}

// get returns the cached conversion or makes it, once for all waiters.
func (c *pcmCache) get(key pcmKey, convert func(io.Writer) error) ([]byte, error) {
	c.mu.Lock()
	for i, e := range c.entries {
		if e.key == key {
			c.entries = append(append(c.entries[:i:i], c.entries[i+1:]...), e)
			c.mu.Unlock()
			return e.data, nil
		}
	}
	if fl, ok := c.flight[key]; ok {
		c.mu.Unlock()
		<-fl.done
		return fl.data, fl.err
	}
	fl := &pcmFlight{done: make(chan struct{})}
	c.flight[key] = fl
	c.mu.Unlock()

	var buf bytes.Buffer
	buf.Grow(int(2*key.size + 64))
	fl.err = convert(&buf)
	if fl.err == nil {
		fl.data = buf.Bytes()
	}

	c.mu.Lock()
	delete(c.flight, key)
	if fl.err == nil && int64(len(fl.data)) <= c.maxBytes {
		c.entries = append(c.entries, pcmEntry{key: key, data: fl.data})
		c.bytes += int64(len(fl.data))
		for len(c.entries) > c.maxEntries || c.bytes > c.maxBytes {
			c.bytes -= int64(len(c.entries[0].data))
			c.entries = c.entries[1:]
		}
	}
	c.mu.Unlock()
	close(fl.done)
	return fl.data, fl.err
}

// temp converts into a temporary file.
func (c *pcmCache) temp(convert func(io.Writer) error) (pcmSource, error) {
	f, err := os.CreateTemp("", "switchtap-pcm-*.wav")
	if err != nil {
		return nil, fmt.Errorf("pcm temp file: %w", err)
	}
	src := tempSource{f}
	if err := convert(f); err != nil {
		_ = src.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = src.Close()
		return nil, fmt.Errorf("pcm temp file: %w", err)
	}
	return src, nil
}

// len returns the number of cached conversions (for tests).
func (c *pcmCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
