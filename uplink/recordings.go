package uplink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	// recSettle is how long after a leg's end its recording waits before
	// it is hashed and queued: the trailing messages (a transfer's NOTIFY)
	// rewrite the record in the meantime, and a rewrite from the tracker's
	// memory would not carry the hash.
	recSettle = 2 * time.Minute
	// recBatch bounds the candidates and the jobs read at once.
	recBatch = 64
)

// RecordingQueue is what the recordings' sender needs of the store
// (storage.Store's recordings queue, through daemon's adapter).
type RecordingQueue interface {
	// Candidates returns at most max finished recordings, of legs ended
	// before settled, that must go up and are neither queued nor done,
	// and a mark to pass to Scanned once each was queued or dropped.
	Candidates(ctx context.Context, settled time.Time, max int) ([]RecordingFile, time.Time, error)
	// Scanned stores the mark of Candidates.
	Scanned(ctx context.Context, mark time.Time) error
	// Queue queues j and writes j.SHA256 into its record, in one
	// transaction; false when it was queued or done already.
	Queue(ctx context.Context, j RecordingJob) (bool, error)
	// Jobs returns at most max queued recordings.
	Jobs(ctx context.Context, max int) ([]RecordingJob, error)
	// Done removes j's job: uploaded and verified when dropped is "",
	// else never to go up, for that reason.
	Done(ctx context.Context, j RecordingJob, dropped string) error
	// Path returns the file's path on disk ("" when it may not be
	// opened: outside the recordings directory).
	Path(file string) string
	// Stats returns the queued recordings and their bytes.
	Stats(ctx context.Context) (depth int, bytes int64, err error)
}

// RecordingFile is a recording to queue.
type RecordingFile struct {
	RecordID string
	// File is relative to the recordings directory, as in the record.
	File string
}

// RecordingJob is a queued recording.
type RecordingJob struct {
	RecordID, File string
	// SHA256 (hex) and Size are the file's when it was queued.
	SHA256 string
	Size   int64
}

// RecordingsStatus is the recordings' sender's state.
type RecordingsStatus struct {
	// Queued counts the recordings waiting, Bytes their size (read from
	// the store).
	Queued int
	Bytes  int64
	// Uploaded counts recordings the server verified since start, Sent
	// the bytes put; Dropped those given up (file missing or changed).
	Uploaded, Dropped, Sent uint64
	// LastUpload is when the server last verified one (zero: never).
	LastUpload time.Time
	// LastError is the last failure ("" after a success).
	LastError string
}

// WithRecordings has the sender upload the recordings of q too, on a
// queue of lower priority than the records (ignored when
// Config.Recordings is "off").
func WithRecordings(q RecordingQueue) Option {
	return func(s *Sender) {
		if q != nil && s.cfg.RecordingsMode() != RecordingsOff {
			s.rec = &recSender{q: q}
		}
	}
}

// recSender uploads the recordings' queue; its loop runs beside the
// records' one, started by Sender.Run.
type recSender struct {
	q    RecordingQueue
	s    *Sender
	back backoff
	base string

	mu                      sync.Mutex
	uploaded, dropped, sent uint64
	lastUpload              time.Time
	lastErr                 string
}

// errDrop is a recording that can never go up.
type errDrop struct{ reason string }

func (e *errDrop) Error() string { return "recording dropped: " + e.reason }

// errRecBusy is a 429 or 503 with its Retry-After.
type errRecBusy struct {
	status int
	wait   time.Duration
}

func (e *errRecBusy) Error() string { return fmt.Sprintf("%v: %d busy", ErrStatus, e.status) }

func (e *errRecBusy) Unwrap() error { return ErrStatus }

// startRecordings runs the recordings' loop until ctx ends; the returned
// func waits for it.
func (s *Sender) startRecordings(ctx context.Context) func() {
	r := s.rec
	r.s = s
	r.back = backoff{min: s.cfg.BackoffMin, max: s.cfg.BackoffMax, rand: s.back.rand}
	r.base = strings.TrimRight(s.cfg.URL, "/") + RecordingsPath + "/"
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			// The capture's daemon never dies of its uplink.
			if v := recover(); v != nil {
				s.log.Error("recordings uplink stopped", "panic", v)
			}
		}()
		r.run(ctx)
	}()
	return func() { <-done }
}

// RecordingsStatus returns the recordings' state; ok is false when the
// recordings do not go up.
func (s *Sender) RecordingsStatus(ctx context.Context) (st RecordingsStatus, ok bool, err error) {
	r := s.rec
	if r == nil {
		return st, false, nil
	}
	r.mu.Lock()
	st = RecordingsStatus{Uploaded: r.uploaded, Dropped: r.dropped, Sent: r.sent, LastUpload: r.lastUpload, LastError: r.lastErr}
	r.mu.Unlock()
	st.Queued, st.Bytes, err = r.q.Stats(ctx)
	if err != nil {
		return st, true, fmt.Errorf("recordings status: %w", err)
	}
	return st, true, nil
}

func (r *recSender) run(ctx context.Context) {
	log := r.s.log.With("queue", "recordings")
	log.Info("recordings uplink started", "mode", r.s.cfg.RecordingsMode())
	for ctx.Err() == nil {
		if err := r.discover(ctx); err != nil {
			r.failed(ctx, "queue recordings", err, 0)
			continue
		}
		jobs, err := r.q.Jobs(ctx, recBatch)
		if err != nil {
			r.failed(ctx, "read recordings queue", err, 0)
			continue
		}
		if len(jobs) == 0 {
			_ = r.s.sleep(ctx, r.s.cfg.Poll)
			continue
		}
		for _, j := range jobs {
			err := r.upload(ctx, j)
			if ctx.Err() != nil {
				return
			}
			var drop *errDrop
			var busy *errRecBusy
			switch {
			case err == nil:
				r.back.reset()
				r.mu.Lock()
				r.uploaded++
				r.lastUpload, r.lastErr = r.s.now(), ""
				r.mu.Unlock()
				log.Debug("recording uploaded", "record_id", j.RecordID, "sha256", j.SHA256, "bytes", j.Size)
				continue
			case errors.As(err, &drop):
				if derr := r.q.Done(ctx, j, drop.reason); derr != nil {
					r.failed(ctx, "drop recording "+j.RecordID, derr, 0)
					break
				}
				r.mu.Lock()
				r.dropped++
				r.mu.Unlock()
				log.Error("recording will not go up", "record_id", j.RecordID, "file", j.File, "reason", drop.reason)
				continue
			case errors.As(err, &busy):
				r.failed(ctx, "recording "+j.RecordID, err, busy.wait)
			default:
				r.failed(ctx, "recording "+j.RecordID, err, 0)
			}
			// After a failure the queue is read again from its start.
			break
		}
	}
}

// discover hashes and queues the recordings that must go up.
func (r *recSender) discover(ctx context.Context) error {
	fs, mark, err := r.q.Candidates(ctx, r.s.now().Add(-recSettle), recBatch)
	if err != nil {
		return err
	}
	for _, f := range fs {
		j := RecordingJob{RecordID: f.RecordID, File: f.File}
		var reason string
		j.SHA256, j.Size, reason, err = r.hash(f.File)
		if err != nil {
			return err
		}
		if reason != "" {
			if err := r.q.Done(ctx, j, reason); err != nil {
				return err
			}
			r.s.log.Warn("recording not queued", "record_id", f.RecordID, "file", f.File, "reason", reason)
			continue
		}
		if _, err := r.q.Queue(ctx, j); err != nil {
			return err
		}
	}
	if mark.IsZero() {
		return nil
	}
	return r.q.Scanned(ctx, mark)
}

// hash returns the SHA-256 and size of file, or why it cannot go up
// (missing, empty, outside the directory), or an I/O error.
func (r *recSender) hash(file string) (sum string, size int64, reason string, err error) {
	p := r.q.Path(file)
	if p == "" {
		return "", 0, "path outside the recordings directory", nil
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", 0, "file missing", nil
	}
	if err != nil {
		return "", 0, "", fmt.Errorf("hash recording: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, "", fmt.Errorf("hash recording %s: %w", file, err)
	}
	if n == 0 {
		return "", 0, "file empty", nil
	}
	return hex.EncodeToString(h.Sum(nil)), n, "", nil
}

// verify says why the file no longer is the one queued ("" when it is).
func (r *recSender) verify(j RecordingJob) (string, error) {
	sum, size, reason, err := r.hash(j.File)
	switch {
	case err != nil || reason != "":
		return reason, err
	case size != j.Size || sum != j.SHA256:
		return "file changed on disk since it was queued", nil
	}
	return "", nil
}

// upload sends j from where the server is and links it to its record.
func (r *recSender) upload(ctx context.Context, j RecordingJob) error {
	p := r.q.Path(j.File)
	if p == "" {
		return &errDrop{"path outside the recordings directory"}
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return &errDrop{"file missing"}
	}
	if err != nil {
		return fmt.Errorf("open recording: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return fmt.Errorf("stat recording: %w", err)
	} else if fi.Size() != j.Size {
		return &errDrop{"file changed on disk since it was queued"}
	}
	off, complete, err := r.head(ctx, j)
	if err != nil {
		return err
	}
	for !complete {
		if off > j.Size {
			return fmt.Errorf("%w: server holds %d bytes of a %d-byte recording", ErrProtocol, off, j.Size)
		}
		if err := r.s.gate.wait(ctx, r.s.cfg.Timeout); err != nil {
			return err
		}
		n := min(int64(r.s.cfg.ChunkBytes), j.Size-off)
		next, done, err := r.put(ctx, j, f, off, n)
		if errors.Is(err, errMismatch) {
			// The server hashed what it received and threw it away.
			reason, verr := r.verify(j)
			if verr != nil {
				return verr
			}
			if reason != "" {
				return &errDrop{reason}
			}
			return err
		}
		if err != nil {
			return err
		}
		off, complete = next, done
	}
	if err := r.link(ctx, j); err != nil {
		return err
	}
	return r.q.Done(ctx, j, "")
}
