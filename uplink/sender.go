package uplink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Outbox is what the sender needs of the store (storage.Store, through
// daemon's adapter).
type Outbox interface {
	// OutboxAfter calls fn, in seq order, for at most max entries above
	// seq after, each with the record as it is now.
	OutboxAfter(ctx context.Context, after uint64, max int, fn func(Entry) error) error
	// AckOutbox durably records that the server acknowledged every entry
	// up to seq, and frees them.
	AckOutbox(ctx context.Context, seq uint64) error
	// OutboxStats returns the outbox's figures.
	OutboxStats(ctx context.Context) (OutboxStats, error)
}

// OutboxStats are the outbox's figures (storage.OutboxStats).
type OutboxStats struct {
	// Depth counts the entries not acknowledged in the store.
	Depth uint64
	// Oldest is when the oldest of them was written.
	Oldest time.Time
	// Acked is the last seq acknowledged in the store.
	Acked uint64
	// Next is the seq the next write will get.
	Next uint64
}

// Option configures New.
type Option func(*Sender)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(s *Sender) {
		if l != nil {
			s.log = l
		}
	}
}

// WithClock sets the wall clock (tests inject a fake one).
func WithClock(now func() time.Time) Option {
	return func(s *Sender) {
		if now != nil {
			s.now = now
		}
	}
}

// WithSleep sets how the sender waits: it returns early with ctx's error
// when ctx is done. Tests inject one that advances a fake clock.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Sender) {
		if sleep != nil {
			s.sleep = sleep
		}
	}
}

// WithRand sets the jitter's source of uniform floats in [0, 1).
func WithRand(f func() float64) Option {
	return func(s *Sender) {
		if f != nil {
			s.back.rand = f
		}
	}
}

// Sender is the uplink service. Run is single-use and single-goroutine;
// Status and Unreachable are safe to call concurrently with it.
type Sender struct {
	cfg    Config
	out    Outbox
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	back   backoff
	enc    *encoder

	batchURL, cursorURL string

	mu          sync.Mutex
	started     time.Time
	acked       uint64
	lastAck     time.Time
	lastContact time.Time
	lastErr     string

	results [numResults]atomic.Uint64
	records atomic.Uint64

	// rec is the recordings' sender (recordings.go), nil when off; gate
	// gives the records priority over it.
	rec  *recSender
	gate gate
}

// New returns a sender of out's entries to the server of cfg, or an error
// wrapping ErrConfig.
func New(cfg Config, out Outbox, opts ...Option) (*Sender, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	client, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(cfg.URL, "/")
	s := &Sender{
		cfg: cfg, out: out, client: client,
		log:       slog.New(slog.DiscardHandler),
		now:       time.Now,
		sleep:     sleepCtx,
		back:      backoff{min: cfg.BackoffMin, max: cfg.BackoffMax, rand: rand.Float64},
		enc:       newEncoder(),
		batchURL:  base + BatchesPath,
		cursorURL: base + CursorPath,
	}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("component", "uplink", "box_id", cfg.BoxID)
	s.started = s.now()
	return s, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errEnough stops a batch's outbox read at the bytes bound.
var errEnough = errors.New("batch full")

// Run sends the outbox until ctx is done, then returns nil. It never
// fails on the server or the network: it waits and tries again, and
// says so in Status.
func (s *Sender) Run(ctx context.Context) error {
	var (
		cursor  uint64
		known   bool
		pending *batch
		limit   = s.cfg.BatchRecords
		gaps    int
		// timeouts counts the timed-out sends of the pending batch.
		timeouts int
	)
	s.log.Info("uplink started", "url", s.cfg.URL)
	if s.rec != nil {
		// The recordings go up beside the records, on their own loop.
		done := s.startRecordings(ctx)
		defer done()
	}
	for ctx.Err() == nil {
		if !known {
			k, err := s.getCursor(ctx)
			if err == nil {
				err = s.check(ctx, k)
			}
			if err != nil {
				s.failed(ctx, "cursor", err, 0)
				continue
			}
			cursor, known = k, true
			s.setAcked(k)
		}
		if pending == nil {
			b, err := s.build(ctx, cursor, limit)
			if err != nil {
				s.failed(ctx, "build batch", err, 0)
				continue
			}
			if b == nil {
				s.gate.records(false)
				_ = s.sleep(ctx, s.cfg.Poll)
				continue
			}
			pending, timeouts = b, 0
			s.gate.records(true)
		}
		res, acked, wait, err := s.post(ctx, pending)
		// Between two batches a recording's chunk may go.
		s.gate.ended()
		if ctx.Err() != nil {
			// Shutting down: the batch's fate is asked of the server at
			// the next start.
			break
		}
		if (res == ResultOK || res == ResultReplay) && acked < pending.last {
			// A 200 must cover the batch: ask where the server is.
			res, err = ResultError, fmt.Errorf("%w: 200 acked %d below last_seq %d", ErrProtocol, acked, pending.last)
			known, pending = false, nil
		}
		s.results[res].Add(1)
		switch res {
		case ResultOK, ResultReplay:
			if err := s.check(ctx, acked); err != nil {
				known, pending = false, nil
				s.failed(ctx, "batch", err, 0)
				continue
			}
			// The server has committed: only now is the entry freed.
			if err := s.out.AckOutbox(ctx, acked); err != nil && ctx.Err() == nil {
				// The server has them; the next ack frees them.
				s.log.Warn("store ack failed", "acked", acked, "err", err)
			}
			s.records.Add(acked - cursor)
			cursor, pending, gaps = acked, nil, 0
			// Back to full batches by doubling: a link that needed
			// smaller ones is not hit with the largest at once.
			limit = min(limit*2, s.cfg.BatchRecords)
			s.succeeded(acked)
		case ResultGap:
			s.contact()
			gaps++
			if err := s.check(ctx, acked); err != nil {
				known, pending = false, nil
				s.failed(ctx, "batch", err, 0)
				continue
			}
			s.log.Info("server asks to resend", "from", acked+1, "batch_first", pending.first)
			cursor, pending = acked, nil
			s.setAcked(acked)
			if gaps > 1 {
				// Two gaps running: do not spin against a confused server.
				s.failed(ctx, "batch", fmt.Errorf("%w: repeated gap at %d", ErrProtocol, acked), 0)
			}
		case ResultBusy:
			s.failed(ctx, "batch", err, wait)
		default:
			if pending != nil && errors.Is(err, errTooLarge) {
				if pending.n > 1 {
					// Smaller batches until one is acknowledged.
					limit, pending = max(pending.n/2, 1), nil
					s.log.Warn("batch too large for the server", "records", limit*2)
					continue
				}
			}
			if pending != nil && errors.Is(err, context.DeadlineExceeded) {
				timeouts++
				if timeouts >= 2 && pending.n > 1 {
					// A link too slow for the batch within uplink.timeout
					// would time out on the same bytes forever: halve it
					// until one gets through (a server that did commit
					// the larger one answers the smaller as a replay).
					limit = max(pending.n/2, 1)
					s.log.Warn("batch timed out twice: sending smaller batches", "records", pending.n, "now", limit)
					pending = nil
					s.failed(ctx, "batch", err, 0)
					continue
				}
			}
			// Same batch again, byte for byte.
			s.failed(ctx, "batch", err, 0)
		}
	}
	return nil
}

// check refuses a server cursor that does not fit the outbox.
func (s *Sender) check(ctx context.Context, k uint64) error {
	st, err := s.out.OutboxStats(ctx)
	if err != nil {
		return err
	}
	if k >= st.Next {
		return fmt.Errorf("%w: server acknowledged %d, last seq issued here is %d", ErrServerAhead, k, st.Next-1)
	}
	return nil
}

// build reads the next batch after cursor: at most limit entries, and
// entries up to BatchBytes of JSON (at least one). nil: nothing to send.
func (s *Sender) build(ctx context.Context, cursor uint64, limit int) (*batch, error) {
	var es []Entry
	size := 0
	err := s.out.OutboxAfter(ctx, cursor, limit, func(e Entry) error {
		n := entrySize(e)
		if len(es) > 0 && size+n > s.cfg.BatchBytes {
			return errEnough
		}
		size += n
		es = append(es, e)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	if len(es) == 0 {
		return nil, nil
	}
	if es[0].Seq != cursor+1 {
		return nil, fmt.Errorf("%w: server at %d, outbox starts at %d", ErrServerBehind, cursor, es[0].Seq)
	}
	return s.enc.encode(es)
}

// errTooLarge is a 413.
var errTooLarge = fmt.Errorf("%w: 413 batch too large", ErrStatus)

// post sends b and classifies the answer: acked is the server's cursor
// (200, 409), wait its Retry-After (429, 503; 0 when absent).
func (s *Sender) post(ctx context.Context, b *batch) (res Result, acked uint64, wait time.Duration, err error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.batchURL, bytes.NewReader(b.body))
	if err != nil {
		return ResultError, 0, 0, fmt.Errorf("post batch: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	s.authorize(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return ResultError, 0, 0, fmt.Errorf("post batch %d-%d: %w", b.first, b.last, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		// A status without its body proves nothing was committed... or
		// not: only a read acked counts.
		return ResultError, 0, 0, fmt.Errorf("read answer to batch %d-%d: %w", b.first, b.last, err)
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusConflict:
		k, err := parseAck(body)
		if err != nil {
			return ResultError, 0, 0, fmt.Errorf("answer to batch %d-%d: %w", b.first, b.last, err)
		}
		switch {
		case resp.StatusCode == http.StatusConflict:
			return ResultGap, k, 0, nil
		case k > b.last:
			return ResultReplay, k, 0, nil
		}
		return ResultOK, k, 0, nil
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		d, _ := parseRetryAfter(resp.Header.Get("Retry-After"), s.now())
		return ResultBusy, 0, d, fmt.Errorf("%w: %d busy", ErrStatus, resp.StatusCode)
	case http.StatusRequestEntityTooLarge:
		return ResultError, 0, 0, errTooLarge
	}
	return ResultError, 0, 0, fmt.Errorf("%w: %d %q", ErrStatus, resp.StatusCode, truncate(body))
}

// getCursor asks the server for its acknowledged cursor.
func (s *Sender) getCursor(ctx context.Context) (uint64, error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, s.cursorURL, nil)
	if err != nil {
		return 0, fmt.Errorf("get cursor: %w", err)
	}
	s.authorize(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("get cursor: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, fmt.Errorf("read cursor: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("get cursor: %w: %d %q", ErrStatus, resp.StatusCode, truncate(body))
	}
	k, err := parseAck(body)
	if err != nil {
		return 0, fmt.Errorf("get cursor: %w", err)
	}
	s.contact()
	return k, nil
}

func (s *Sender) authorize(req *http.Request) {
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	}
	req.Header.Set("User-Agent", "switchtap-uplink")
}

// failed records a failure and waits: wait when the server said how long
// (Retry-After), else the backoff's next step.
func (s *Sender) failed(ctx context.Context, what string, err error, wait time.Duration) {
	if ctx.Err() != nil {
		return
	}
	// A server that says how long to wait is obeyed, and its busy
	// answers do not escalate the backoff.
	d := wait
	if d <= 0 {
		d = s.back.next()
	}
	s.mu.Lock()
	s.lastErr = what + ": " + err.Error()
	s.mu.Unlock()
	s.log.Warn("uplink failed", "what", what, "retry_in", d, "err", err)
	_ = s.sleep(ctx, d)
}

func (s *Sender) succeeded(acked uint64) {
	s.back.reset()
	now := s.now()
	s.mu.Lock()
	s.acked, s.lastAck, s.lastContact, s.lastErr = acked, now, now, ""
	s.mu.Unlock()
}

func (s *Sender) contact() {
	now := s.now()
	s.mu.Lock()
	s.lastContact = now
	s.mu.Unlock()
}

func (s *Sender) setAcked(k uint64) {
	s.mu.Lock()
	s.acked = k
	s.mu.Unlock()
}
