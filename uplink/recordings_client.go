package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// errMismatch is a 422: the file the server assembled does not hash to
// its name.
var errMismatch = fmt.Errorf("%w: 422 recording does not match its SHA-256", ErrStatus)

// errNoFile is a 404 to a link: the server does not hold the file.
var errNoFile = fmt.Errorf("%w: 404 server lacks the recording", ErrStatus)

// recRequest sends one request of the recordings protocol and returns
// the answer's status, headers and (bounded) body; 429/503 are errRecBusy.
func (r *recSender) recRequest(ctx context.Context, method, url string, body io.Reader, n int64, hdr map[string]string) (int, http.Header, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, r.s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, url, body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s recording: %w", method, err)
	}
	if body != nil {
		req.ContentLength = n
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	r.s.authorize(req)
	resp, err := r.s.client.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s recording: %w", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read answer to %s recording: %w", method, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		d, _ := parseRetryAfter(resp.Header.Get("Retry-After"), r.s.now())
		return 0, nil, nil, &errRecBusy{status: resp.StatusCode, wait: d}
	}
	return resp.StatusCode, resp.Header, b, nil
}

// head asks the server what it holds of j: complete, or off bytes.
func (r *recSender) head(ctx context.Context, j RecordingJob) (off int64, complete bool, err error) {
	status, h, b, err := r.recRequest(ctx, http.MethodHead, r.base+j.SHA256, nil, 0, nil)
	if err != nil {
		return 0, false, err
	}
	switch status {
	case http.StatusNoContent:
		r.s.contact()
		return j.Size, true, nil
	case http.StatusOK:
		off, err := uploadOffset(h)
		if err != nil {
			return 0, false, err
		}
		r.s.contact()
		return off, false, nil
	}
	return 0, false, fmt.Errorf("head recording: %w: %d %q", ErrStatus, status, truncate(b))
}

// put appends n bytes of f from off; next is where the server is after
// it, done when it verified the whole file.
func (r *recSender) put(ctx context.Context, j RecordingJob, f *os.File, off, n int64) (next int64, done bool, err error) {
	hdr := map[string]string{
		"Content-Type":  "application/octet-stream",
		"Content-Range": fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, j.Size),
	}
	status, h, b, err := r.recRequest(ctx, http.MethodPut, r.base+j.SHA256, io.NewSectionReader(f, off, n), n, hdr)
	if err != nil {
		return 0, false, err
	}
	switch status {
	case http.StatusNoContent:
		r.sentBytes(n)
		r.s.contact()
		return j.Size, true, nil
	case http.StatusOK, http.StatusConflict:
		next, err := uploadOffset(h)
		if err != nil {
			return 0, false, err
		}
		if status == http.StatusOK {
			if next != off+n {
				return 0, false, fmt.Errorf("%w: put %d-%d answered offset %d", ErrProtocol, off, off+n-1, next)
			}
			r.sentBytes(n)
		}
		r.s.contact()
		return next, false, nil
	case http.StatusUnprocessableEntity:
		r.s.contact()
		return 0, false, errMismatch
	}
	return 0, false, fmt.Errorf("put recording: %w: %d %q", ErrStatus, status, truncate(b))
}

// link ties the server's file to the box's record.
func (r *recSender) link(ctx context.Context, j RecordingJob) error {
	body, err := json.Marshal(struct {
		RecordID string `json:"record_id"`
	}{j.RecordID})
	if err != nil {
		return fmt.Errorf("link recording: %w", err)
	}
	status, _, b, err := r.recRequest(ctx, http.MethodPost, r.base+j.SHA256+"/link", bytes.NewReader(body), int64(len(body)),
		map[string]string{"Content-Type": "application/json"})
	if err != nil {
		return err
	}
	switch status {
	case http.StatusNoContent, http.StatusOK:
		r.s.contact()
		return nil
	case http.StatusNotFound:
		return errNoFile
	}
	return fmt.Errorf("link recording: %w: %d %q", ErrStatus, status, truncate(b))
}

// uploadOffset reads the Upload-Offset header.
func uploadOffset(h http.Header) (int64, error) {
	v := h.Get("Upload-Offset")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: Upload-Offset %q", ErrProtocol, v)
	}
	return n, nil
}

func (r *recSender) sentBytes(n int64) {
	r.mu.Lock()
	r.sent += uint64(n) //nolint:gosec // G115: n is a positive chunk size
	r.mu.Unlock()
}

// failed records a failure and waits, like Sender.failed, on the
// recordings' own backoff.
func (r *recSender) failed(ctx context.Context, what string, err error, wait time.Duration) {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return
	}
	d := wait
	if d <= 0 {
		d = r.back.next()
	}
	r.mu.Lock()
	r.lastErr = what + ": " + err.Error()
	r.mu.Unlock()
	r.s.log.Warn("recordings uplink failed", "what", what, "retry_in", d, "err", err)
	_ = r.s.sleep(ctx, d)
}
