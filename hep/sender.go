package hep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"
)

// Defaults of the sender.
const (
	defaultBackoffMin   = time.Second
	defaultBackoffMax   = time.Minute
	defaultWriteTimeout = 5 * time.Second
	// keepCap is the largest buffer kept for reuse: a rare huge message
	// must not pin 64 KiB in every slot of the queue.
	keepCap = 16 << 10
)

// Stats are the sender's counters, for metrics.
type Stats struct {
	// Sent counts packets written to the collector.
	Sent uint64
	// Dropped counts packets not queued because the queue was full (the
	// collector slow or away): the capture never waits for it.
	Dropped uint64
	// Errors counts packets that could not be encoded or written, and
	// failed connection attempts.
	Errors uint64
	// Queued is how many packets wait now.
	Queued int
	// Connected says whether a connection (TCP) or socket (UDP) is up.
	Connected bool
}

// Dialer opens the connection to the collector (net.Dialer's DialContext).
type Dialer func(ctx context.Context, network, address string) (net.Conn, error)

// Option configures a Sender.
type Option func(*Sender)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Sender) { s.log = l } }

// WithDialer replaces net.Dialer (for tests).
func WithDialer(d Dialer) Option { return func(s *Sender) { s.dial = d } }

// WithBackoff bounds the wait between connection attempts: it doubles
// from min up to max, with jitter (defaults 1 s and 1 min).
func WithBackoff(min, max time.Duration) Option {
	return func(s *Sender) { s.backoffMin, s.backoffMax = min, max }
}

// WithWriteTimeout bounds one write (default 5 s): a collector that
// stops reading costs a reconnection, not a stuck sender.
func WithWriteTimeout(d time.Duration) Option { return func(s *Sender) { s.writeTimeout = d } }

// Sender mirrors packets to a HEP collector. Send encodes and queues
// without blocking; Run writes the queue out. Send is safe for concurrent
// use with itself and with Run.
type Sender struct {
	enc          Encoder
	network      string
	addr         string
	log          *slog.Logger
	dial         Dialer
	backoffMin   time.Duration
	backoffMax   time.Duration
	writeTimeout time.Duration

	// Every buffer is in exactly one of free and queue, or held by one
	// Send or by Run, and each channel holds them all: handing one on
	// never blocks.
	free  chan []byte
	queue chan []byte

	sent, dropped, errs atomic.Uint64
	connected           atomic.Bool
}

// New returns a sender for a configured (enabled) mirror.
func New(cfg Config, opts ...Option) (*Sender, error) {
	if !cfg.Enabled() {
		return nil, fmt.Errorf("%w: hep.address is empty", ErrInvalid)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := cfg.QueueOrDefault()
	s := &Sender{
		enc:          Encoder{AgentID: cfg.AgentID, Password: cfg.Password},
		network:      cfg.TransportOrDefault(),
		addr:         cfg.Address,
		log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		dial:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		backoffMin:   defaultBackoffMin,
		backoffMax:   defaultBackoffMax,
		writeTimeout: defaultWriteTimeout,
		free:         make(chan []byte, n),
		queue:        make(chan []byte, n),
	}
	for _, o := range opts {
		o(s)
	}
	s.backoffMin = max(s.backoffMin, time.Millisecond)
	s.backoffMax = max(s.backoffMax, s.backoffMin)
	for range n {
		// Buffers grow on first use to the size of the messages seen.
		s.free <- nil
	}
	return s, nil
}

// Send encodes p and queues it for the collector. It never blocks: when
// the queue is full the packet is dropped and counted. It returns whether
// p was queued. p.Payload is copied, so it may be reused on return.
func (s *Sender) Send(p Packet) bool {
	var b []byte
	select {
	case b = <-s.free:
	default:
		s.dropped.Add(1)
		return false
	}
	out, err := s.enc.Append(b[:0], &p)
	if err != nil {
		s.errs.Add(1)
		s.free <- b
		s.log.Debug("hep packet not encoded", "src", p.Src, "dst", p.Dst, "err", err)
		return false
	}
	s.queue <- out
	return true
}

// Stats returns the counters.
func (s *Sender) Stats() Stats {
	return Stats{
		Sent:      s.sent.Load(),
		Dropped:   s.dropped.Load(),
		Errors:    s.errs.Load(),
		Queued:    len(s.queue),
		Connected: s.connected.Load(),
	}
}

// Run connects to the collector and writes the queue out until ctx is
// done, then returns nil. A collector that cannot be reached or drops
// the connection is retried with backoff; it never stops the daemon.
func (s *Sender) Run(ctx context.Context) error {
	wait := s.backoffMin
	for {
		conn, err := s.dial(ctx, s.network, s.addr)
		if err == nil {
			s.connected.Store(true)
			s.log.Info("hep collector connected", "address", s.addr, "transport", s.network)
			var wrote bool
			wrote, err = s.pump(ctx, conn)
			s.connected.Store(false)
			_ = conn.Close()
			if wrote {
				wait = s.backoffMin
			}
		} else {
			s.errs.Add(1)
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("hep collector unreachable", "address", s.addr, "transport", s.network, "retry_in", wait, "err", err)
		if !sleep(ctx, jitter(wait)) {
			return nil
		}
		wait = min(2*wait, s.backoffMax)
	}
}

// pump writes queued packets to conn until ctx is done (nil) or, on TCP,
// a write fails (its error). It reports whether a packet went out. Over
// UDP a failed write (an ICMP port unreachable reported on the socket) is
// counted and the next packet tried: there is no connection to mend.
func (s *Sender) pump(ctx context.Context, conn net.Conn) (bool, error) {
	wrote, failing := false, false
	for {
		var b []byte
		select {
		case <-ctx.Done():
			return wrote, nil
		case b = <-s.queue:
		}
		_ = conn.SetWriteDeadline(time.Now().Add(s.writeTimeout))
		_, err := conn.Write(b)
		s.release(b)
		if err == nil {
			s.sent.Add(1)
			wrote, failing = true, false
			continue
		}
		s.errs.Add(1)
		if s.network == TransportTCP || errors.Is(err, net.ErrClosed) {
			return wrote, fmt.Errorf("write: %w", err)
		}
		if !failing {
			s.log.Warn("hep datagram not sent", "address", s.addr, "err", err)
			failing = true
		}
	}
}

// release returns a written buffer to the free list.
func (s *Sender) release(b []byte) {
	if cap(b) > keepCap {
		b = nil
	}
	s.free <- b[:0]
}

// jitter spreads d by ±20 %, so boxes that lost the same collector do not
// come back in step.
func jitter(d time.Duration) time.Duration {
	return d - d/5 + rand.N(2*d/5+1) //nolint:gosec // G404: spreading retries needs no secrecy
}

// sleep waits d or until ctx is done, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
