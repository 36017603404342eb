package central

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The boxes' recordings (issue 11), content-addressed by SHA-256 and
// resumable (the protocol is in package uplink's doc):
//
//	<dir>/<sha[0:2]>/<sha>            a whole file, verified: its SHA-256 is its name
//	<dir>/partial/<sha>.<box hex>     an upload under way, one per box
//
// A partial file only grows by appends at its end, so its size is the
// offset a box resumes from, after a cut connection or a restart of
// either side. When its last byte arrives the whole file is hashed again
// from disk and renamed into place only if the hash is its name; else it
// is deleted. Files are 0600 in 0700 directories. The table recordings
// ties each box's record to a file.

// DefaultMaxRecording bounds a recording's size: an hour of the
// recorder's WAV is about 115 MB.
const DefaultMaxRecording = 1 << 30

// PathRecordings is followed by "/{sha256}" and "/{sha256}/link".
const PathRecordings = "/api/v1/uplink/recordings"

// maxLinkBody bounds a link's JSON.
const maxLinkBody = 4 << 10

// recStore is the recordings' directory and the locks of its uploads.
type recStore struct {
	dir string
	max int64

	mu    sync.Mutex
	locks map[string]*keyLock
}

// keyLock serialises the requests on one upload (a box that resends
// while its previous connection's handler still writes).
type keyLock struct {
	mu   sync.Mutex
	refs int
}

// openRecordings creates the directories and routes of the recordings;
// without Config.RecordingsDir they are refused with 404.
func (s *Server) openRecordings() error {
	s.mux.HandleFunc("HEAD "+PathRecordings+"/{sha}", s.box(s.handleRecHead))
	s.mux.HandleFunc("PUT "+PathRecordings+"/{sha}", s.box(s.handleRecPut))
	s.mux.HandleFunc("POST "+PathRecordings+"/{sha}/link", s.box(s.handleRecLink))
	if s.cfg.RecordingsDir == "" {
		return nil
	}
	max := s.cfg.MaxRecording
	if max == 0 {
		max = DefaultMaxRecording
	}
	if max < 0 {
		return fmt.Errorf("%w: central.max_recording %d", ErrConfig, max)
	}
	dir := filepath.Clean(s.cfg.RecordingsDir)
	if err := os.MkdirAll(filepath.Join(dir, "partial"), 0o700); err != nil {
		return fmt.Errorf("recordings directory: %w", err)
	}
	s.rec = &recStore{dir: dir, max: max, locks: map[string]*keyLock{}}
	return nil
}

// box authenticates the box of a recordings request and checks the
// hash in its path.
func (s *Server) box(h func(w http.ResponseWriter, r *http.Request, boxID, sha string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		boxID, ok := s.authRequest(w, r)
		if !ok {
			return
		}
		if s.rec == nil {
			http.Error(w, "recordings are not taken by this server", http.StatusNotFound)
			return
		}
		sha := r.PathValue("sha")
		if !validSHA(sha) {
			s.fail(w, r, boxID, fmt.Errorf("%w: recording name %q is not a hex SHA-256", ErrMalformed, sha))
			return
		}
		h(w, r, boxID, sha)
	}
}

// validSHA says whether s is 64 lower-case hex digits: the only names
// that reach the file system.
func validSHA(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// final is the path of a verified file.
func (rs *recStore) final(sha string) string { return filepath.Join(rs.dir, sha[:2], sha) }

// partial is the path of box's upload of sha; the box id is hex-encoded
// so no name of a box can form a path.
func (rs *recStore) partial(sha, boxID string) string {
	return filepath.Join(rs.dir, "partial", sha+"."+hex.EncodeToString([]byte(boxID)))
}

// lock takes the lock of key and returns its release.
func (rs *recStore) lock(key string) func() {
	rs.mu.Lock()
	l := rs.locks[key]
	if l == nil {
		l = &keyLock{}
		rs.locks[key] = l
	}
	l.refs++
	rs.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		rs.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(rs.locks, key)
		}
		rs.mu.Unlock()
	}
}

// Has says whether the server holds the verified file sha.
func (rs *recStore) has(sha string) (bool, error) {
	_, err := os.Stat(rs.final(sha))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// offset is the size of box's upload of sha (0: none).
func (rs *recStore) offset(sha, boxID string) (int64, error) {
	fi, err := os.Stat(rs.partial(sha, boxID))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// handleRecHead is HEAD {PathRecordings}/{sha}.
func (s *Server) handleRecHead(w http.ResponseWriter, r *http.Request, boxID, sha string) {
	defer s.rec.lock(sha + "/" + boxID)()
	ok, err := s.rec.has(sha)
	if err != nil {
		s.fail(w, r, boxID, fmt.Errorf("recording %s: %w", sha, err))
		return
	}
	if ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	off, err := s.rec.offset(sha, boxID)
	if err != nil {
		s.fail(w, r, boxID, fmt.Errorf("recording %s: %w", sha, err))
		return
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(off, 10))
	w.WriteHeader(http.StatusOK)
}

// parseContentRange reads "bytes N-M/TOTAL" (RFC 9110 §14.4), with
// 0 ≤ N ≤ M < TOTAL.
func parseContentRange(v string) (first, last, total int64, err error) {
	bad := fmt.Errorf("%w: Content-Range %q", ErrMalformed, v)
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, 0, bad
	}
	span, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, bad
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, 0, bad
	}
	num := func(s string) (int64, bool) {
		if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	var oka, okb, okt bool
	first, oka = num(a)
	last, okb = num(b)
	total, okt = num(tot)
	if !oka || !okb || !okt || first > last || last >= total {
		return 0, 0, 0, bad
	}
	return first, last, total, nil
}

// handleRecPut is PUT {PathRecordings}/{sha}: one chunk of an upload.
func (s *Server) handleRecPut(w http.ResponseWriter, r *http.Request, boxID, sha string) {
	first, last, total, err := parseContentRange(r.Header.Get("Content-Range"))
	if err != nil {
		s.fail(w, r, boxID, err)
		return
	}
	if total > s.rec.max {
		s.fail(w, r, boxID, fmt.Errorf("%w: recording of %d bytes over %d", ErrTooLarge, total, s.rec.max))
		return
	}
	n := last - first + 1
	if r.ContentLength != n {
		s.fail(w, r, boxID, fmt.Errorf("%w: body of %d bytes for range %d-%d", ErrMalformed, r.ContentLength, first, last))
		return
	}
	defer s.rec.lock(sha + "/" + boxID)()
	if ok, err := s.rec.has(sha); err != nil || ok {
		if err != nil {
			s.fail(w, r, boxID, fmt.Errorf("recording %s: %w", sha, err))
			return
		}
		// Another box (or an answer lost) completed it: nothing to add.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	p := s.rec.partial(sha, boxID)
	cur, err := s.rec.offset(sha, boxID)
	if err != nil {
		s.fail(w, r, boxID, fmt.Errorf("recording %s: %w", sha, err))
		return
	}
	if cur > total {
		// Not this file (a box that changed TOTAL): start again.
		if err := os.Remove(p); err != nil {
			s.fail(w, r, boxID, fmt.Errorf("recording %s: %w", sha, err))
			return
		}
		cur = 0
	}
	if first != cur {
		w.Header().Set("Upload-Offset", strconv.FormatInt(cur, 10))
		writeJSON(w, http.StatusConflict, errorJSON{Error: fmt.Sprintf("upload is at %d, not %d", cur, first)})
		return
	}
	got, err := s.rec.appendChunk(p, http.MaxBytesReader(w, r.Body, n), n)
	if err != nil {
		// The bytes that came are kept (a cut connection): the box
		// asks the offset and resumes there.
		s.log.Info("recording chunk cut", "box", boxID, "sha256", sha, "from", first, "got", got, "err", err)
		s.fail(w, r, boxID, fmt.Errorf("recording %s: %w", sha, err))
		return
	}
	cur += got
	if cur < total {
		w.Header().Set("Upload-Offset", strconv.FormatInt(cur, 10))
		w.WriteHeader(http.StatusOK)
		return
	}
	ok, err := s.rec.commit(sha, p)
	switch {
	case err != nil:
		s.fail(w, r, boxID, fmt.Errorf("recording %s: %w", sha, err))
	case !ok:
		s.log.Warn("recording refused: its bytes do not hash to its name", "box", boxID, "sha256", sha, "bytes", total)
		writeJSON(w, http.StatusUnprocessableEntity, errorJSON{Error: "recording does not match its SHA-256; start again"})
	default:
		s.log.Info("recording received", "box", boxID, "sha256", sha, "bytes", total)
		w.WriteHeader(http.StatusNoContent)
	}
}

// appendChunk appends n bytes of body to the partial file p and syncs
// it; got is what was appended, also when the body was cut short.
func (rs *recStore) appendChunk(p string, body io.Reader, n int64) (int64, error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	got, err := io.CopyN(f, body, n)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return got, err
}

// commit hashes the partial file p from disk and moves it into place
// when its SHA-256 is sha (true), else deletes it (false).
func (rs *recStore) commit(sha, p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return false, err
	}
	if hex.EncodeToString(h.Sum(nil)) != sha {
		return false, os.Remove(p)
	}
	dst := rs.final(sha)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return false, err
	}
	if err := os.Rename(p, dst); err != nil {
		return false, err
	}
	// The rename is durable once its directory is synced.
	d, err := os.Open(filepath.Dir(dst))
	if err != nil {
		return false, err
	}
	defer d.Close()
	return true, d.Sync()
}

// handleRecLink is POST {PathRecordings}/{sha}/link {"record_id": "…"}.
func (s *Server) handleRecLink(w http.ResponseWriter, r *http.Request, boxID, sha string) {
	var body struct {
		RecordID string `json:"record_id"`
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLinkBody))
	if err != nil {
		s.fail(w, r, boxID, bodyErr(err))
		return
	}
	if err := json.Unmarshal(data, &body); err != nil || body.RecordID == "" || len(body.RecordID) > maxRecordID {
		s.fail(w, r, boxID, fmt.Errorf("%w: link needs a record_id", ErrMalformed))
		return
	}
	fi, err := os.Stat(s.rec.final(sha))
	if errors.Is(err, os.ErrNotExist) {
		writeJSON(w, http.StatusNotFound, errorJSON{Error: "no such recording; upload it first"})
		return
	}
	if err != nil {
		s.fail(w, r, boxID, fmt.Errorf("recording %s: %w", sha, err))
		return
	}
	if err := s.linkRecording(r.Context(), boxID, body.RecordID, sha, fi.Size()); err != nil {
		s.fail(w, r, boxID, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// linkRecording ties (boxID, recordID) to the file sha; linking again
// the same file keeps the first received_at.
func (s *Server) linkRecording(ctx context.Context, boxID, recordID, sha string, size int64) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.TxTimeout)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO recordings (box_id, record_id, sha256, size, received_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (box_id, record_id) DO UPDATE
		SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size, received_at = EXCLUDED.received_at
		WHERE recordings.sha256 <> EXCLUDED.sha256`, boxID, recordID, sha, size, s.now())
	if err != nil {
		return fmt.Errorf("link recording %s to %s/%s: %w", sha, boxID, recordID, err)
	}
	return nil
}

// StoredRecording is a box's record's recording held by the server.
type StoredRecording struct {
	BoxID, RecordID, SHA256 string
	Size                    int64
	ReceivedAt              time.Time
	// Path is the verified file.
	Path string
}

// Recording returns the recording of a box's record, or pgx.ErrNoRows
// (wrapped) when none is linked.
func (s *Server) Recording(ctx context.Context, boxID, recordID string) (StoredRecording, error) {
	rec := StoredRecording{BoxID: boxID, RecordID: recordID}
	err := s.pool.QueryRow(ctx, `SELECT sha256, size, received_at FROM recordings WHERE box_id = $1 AND record_id = $2`,
		boxID, recordID).Scan(&rec.SHA256, &rec.Size, &rec.ReceivedAt)
	if err != nil {
		return StoredRecording{}, fmt.Errorf("recording of %s/%s: %w", boxID, recordID, err)
	}
	if s.rec != nil {
		rec.Path = s.rec.final(rec.SHA256)
	}
	return rec, nil
}
