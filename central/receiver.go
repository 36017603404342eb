package central

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Paths of the uplink protocol.
const (
	// PathBatches takes a box's batches (POST).
	PathBatches = "/api/v1/uplink/batches"
	// PathCursor answers a box's cursor (GET).
	PathCursor = "/api/v1/uplink/cursor"
)

// routes builds the mux: the receiver for boxes and the API for people.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST "+PathBatches, s.handleBatch)
	s.mux.HandleFunc("GET "+PathCursor, s.handleCursor)
	s.mux.HandleFunc("GET /api/v1/calls", s.person(s.handleCalls))
	s.mux.HandleFunc("GET /api/v1/boxes", s.person(s.handleBoxes))
}

// acquire takes an ingest slot, waiting at most BusyWait.
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(s.cfg.BusyWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (s *Server) release() { <-s.slots }

// handleBatch is POST /api/v1/uplink/batches.
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	if !s.acquire(r.Context()) {
		s.fail(w, r, "", ErrBusy)
		return
	}
	defer s.release()
	boxID, ok := s.authRequest(w, r)
	if !ok {
		return
	}
	b, err := s.readBatch(w, r)
	if err != nil {
		s.fail(w, r, boxID, err)
		return
	}
	acked, out, err := s.Ingest(r.Context(), boxID, b)
	if err != nil {
		s.fail(w, r, boxID, err)
		return
	}
	if s.afterCommit != nil {
		s.afterCommit(w)
	}
	status := http.StatusOK
	switch out {
	case Gap:
		status = http.StatusConflict
		s.log.Info("batch gap", "box", boxID, "first", b.FirstSeq, "last", b.LastSeq, "acked", acked)
	case Replay:
		s.log.Debug("batch replay", "box", boxID, "first", b.FirstSeq, "last", b.LastSeq, "acked", acked)
	default:
		s.log.Debug("batch applied", "box", boxID, "first", b.FirstSeq, "last", b.LastSeq)
	}
	writeJSON(w, status, Ack{Acked: acked})
}

// authRequest authenticates the box of r by its bearer token; on failure
// it has answered and ok is false.
func (s *Server) authRequest(w http.ResponseWriter, r *http.Request) (boxID string, ok bool) {
	tok, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		s.fail(w, r, "", ErrUnauthorized)
		return "", false
	}
	boxID, err := s.authBox(r.Context(), tok)
	if err != nil {
		s.fail(w, r, "", err)
		return "", false
	}
	return boxID, true
}

// readBatch reads, decompresses and validates the body within the limits.
func (s *Server) readBatch(w http.ResponseWriter, r *http.Request) (*Batch, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, fmt.Errorf("%w: content type %q", ErrMalformed, ct)
		}
	}
	body := io.Reader(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, bodyErr(err)
		}
		defer zr.Close()
		body = zr
	case "", "identity":
	default:
		return nil, fmt.Errorf("%w: content encoding %q", ErrMalformed, enc)
	}
	// One byte more than the limit tells a body at the limit from one
	// over it: the decompressed size is bounded whatever the ratio.
	data, err := io.ReadAll(io.LimitReader(body, s.cfg.MaxDecoded+1))
	if err != nil {
		return nil, bodyErr(err)
	}
	if int64(len(data)) > s.cfg.MaxDecoded {
		return nil, fmt.Errorf("%w: body over %d bytes decompressed", ErrTooLarge, s.cfg.MaxDecoded)
	}
	b, err := DecodeBatch(data, s.cfg.MaxEntries)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeBatch parses and validates a decompressed body.
func DecodeBatch(data []byte, maxEntries int) (*Batch, error) {
	var b Batch
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the batch", ErrMalformed)
	}
	if err := b.Validate(maxEntries); err != nil {
		return nil, err
	}
	return &b, nil
}

// bodyErr turns a read error of the body into the protocol's errors.
func bodyErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: body over %d bytes", ErrTooLarge, mbe.Limit)
	}
	return fmt.Errorf("%w: body: %v", ErrMalformed, err)
}

// handleCursor is GET /api/v1/uplink/cursor.
func (s *Server) handleCursor(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		s.fail(w, r, "", ErrUnauthorized)
		return
	}
	acked, err := s.Cursor(r.Context(), tok)
	if err != nil {
		s.fail(w, r, "", err)
		return
	}
	writeJSON(w, http.StatusOK, Ack{Acked: acked})
}

// errorJSON is the body of an error answer.
type errorJSON struct {
	Error string `json:"error"`
}

// fail answers err with its status: 401, 413, 400, 429 and 503 (with
// Retry-After), 500 for what is none of these (logged).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, boxID string, err error) {
	status, msg := http.StatusInternalServerError, "internal error"
	switch {
	case errors.Is(err, ErrUnauthorized):
		status, msg = http.StatusUnauthorized, "bad credential"
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchtap-central"`)
	case errors.Is(err, ErrTooLarge):
		status, msg = http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, ErrMalformed):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrBusy):
		status, msg = http.StatusTooManyRequests, "busy"
		w.Header().Set("Retry-After", "1")
	case r.Context().Err() != nil:
		// The client is gone; nobody reads the answer.
		status, msg = http.StatusServiceUnavailable, "request cancelled"
	default:
		switch classify(err) {
		case dbDown:
			status, msg = http.StatusServiceUnavailable, "database unavailable"
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(s.cfg.RetryAfter.Seconds()))))
		case dbData:
			status, msg = http.StatusBadRequest, "record refused by the database"
		}
	}
	lvl := s.log.Info
	if status == http.StatusInternalServerError || status == http.StatusServiceUnavailable {
		lvl = s.log.Warn
	}
	lvl("request failed", "path", r.URL.Path, "box", boxID, "remote", r.RemoteAddr, "status", status, "err", err)
	writeJSON(w, status, errorJSON{Error: msg})
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
