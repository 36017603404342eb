// Package central is switchtap's central reporting server: boxes send
// their call records up (package uplink, the wire protocol in wire.go),
// and people query every office's records in one place. It is backed by
// PostgreSQL (pgx), its schema migrations embedded and applied at start.
//
// Exactly once: each box's outbox entries carry a per-box monotonic seq.
// One database transaction per batch locks the box's row (its cursor),
// treats a batch already applied as a replay, answers a gap with 409 and
// the cursor, upserts the records by (box_id, record_id) keeping the
// highest revision, advances the cursor and commits; only then is the
// batch acknowledged. A box that resends after a lost answer gets a
// replay; a record is never replaced by a lower revision.
//
// The box's identity comes only from its credential (a token issued by
// "switchtap central box add", stored as its SHA-256). The API for people
// authenticates with the API tokens of central accounts (package access
// over a key/value table in the same database).
package central

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/switchtap/switchtap/access"
)

// Defaults of Config.
const (
	DefaultListen     = ":8480"
	DefaultMaxConns   = 16
	DefaultMaxBody    = 16 << 20
	DefaultMaxDecoded = 64 << 20
	DefaultMaxEntries = 10000
	DefaultBusyWait   = 250 * time.Millisecond
	DefaultRetryAfter = 5 * time.Second
	DefaultTxTimeout  = 30 * time.Second
)

// HTTP server timeouts: a slow client cannot hold an ingest slot for long.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 2 * time.Minute
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

// kvNamespace is the namespace of package access in the kv table.
const kvNamespace = "access"

// Config is the central: section of the configuration. Every zero field
// takes its default.
type Config struct {
	// Database is the PostgreSQL URL (postgres://user@host/db).
	Database string `yaml:"database"`
	// Listen is the HTTP address of the receiver and the API (":8480").
	Listen string `yaml:"listen"`
	// TLSCert and TLSKey, both set, serve HTTPS instead of HTTP.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Timezone names the zone of the days of ?from=YYYY-MM-DD (UTC).
	Timezone string `yaml:"timezone"`
	// MaxConns bounds the database pool (16).
	MaxConns int `yaml:"max_conns"`
	// MaxInflight bounds the batches handled at once (MaxConns); one more
	// waits BusyWait, then gets 429.
	MaxInflight int `yaml:"max_inflight"`
	// MaxBody bounds a batch's body as sent, compressed (16 MiB).
	MaxBody int64 `yaml:"max_body"`
	// MaxDecoded bounds a batch's body once decompressed (64 MiB): a gzip
	// bomb stops there with 413.
	MaxDecoded int64 `yaml:"max_decoded"`
	// MaxEntries bounds the entries of a batch (10000).
	MaxEntries int `yaml:"max_entries"`
	// BusyWait is how long a batch waits for a free slot (250 ms).
	BusyWait time.Duration `yaml:"busy_wait"`
	// RetryAfter is the Retry-After of a 503 when the database is down
	// (5 s); a 429 says 1 s.
	RetryAfter time.Duration `yaml:"retry_after"`
	// TxTimeout bounds one batch's transaction (30 s).
	TxTimeout time.Duration `yaml:"tx_timeout"`
	// RecordingsDir is where the boxes' recordings are kept, by SHA-256
	// (recordings.go); empty: recordings are refused (404).
	RecordingsDir string `yaml:"recordings_dir"`
	// MaxRecording bounds one recording's size (1 GiB).
	MaxRecording int64 `yaml:"max_recording"`

	// Now is the clock (time.Now).
	Now func() time.Time `yaml:"-"`
	// Rand is the source of box tokens (crypto/rand).
	Rand io.Reader `yaml:"-"`
	// Access configures the accounts of the API (its Now defaults to Now).
	Access access.Config `yaml:"-"`
}

// withDefaults fills the zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Database == "" {
		return c, fmt.Errorf("%w: central.database is empty", ErrConfig)
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, fmt.Errorf("%w: central.tls_cert and central.tls_key go together", ErrConfig)
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = c.MaxConns
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxDecoded == 0 {
		c.MaxDecoded = DefaultMaxDecoded
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.BusyWait == 0 {
		c.BusyWait = DefaultBusyWait
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	if c.TxTimeout == 0 {
		c.TxTimeout = DefaultTxTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Access.Now == nil {
		c.Access.Now = c.Now
	}
	switch {
	case c.MaxConns < 1 || c.MaxInflight < 1 || c.MaxEntries < 1:
		return c, fmt.Errorf("%w: max_conns, max_inflight and max_entries must be positive", ErrConfig)
	case c.MaxBody < 1024 || c.MaxDecoded < c.MaxBody:
		return c, fmt.Errorf("%w: max_body at least 1 KiB and max_decoded at least max_body", ErrConfig)
	case c.BusyWait < 0 || c.RetryAfter < time.Second || c.TxTimeout < time.Second:
		return c, fmt.Errorf("%w: busy_wait, retry_after (≥ 1 s) or tx_timeout (≥ 1 s)", ErrConfig)
	}
	return c, nil
}

// Server is the central server: the receiver of the boxes' batches and
// the API for people, over one PostgreSQL pool.
type Server struct {
	cfg   Config
	loc   *time.Location
	log   *slog.Logger
	pool  *pgxpool.Pool
	acc   *access.Service
	slots chan struct{}
	mux   *http.ServeMux

	// rec keeps the recordings (recordings.go); nil when none are taken.
	rec *recStore
	// cons is the console in front of the routes (console.go).
	cons *console

	// afterCommit, when set (by tests), runs after a batch's transaction
	// committed and before its answer is written.
	afterCommit func(w http.ResponseWriter)
}

// New connects to the database, applies the migrations and returns the
// server. The caller runs it with Run and releases it with Close.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	loc := time.UTC
	if cfg.Timezone != "" {
		if loc, err = time.LoadLocation(cfg.Timezone); err != nil {
			return nil, fmt.Errorf("%w: central.timezone: %v", ErrConfig, err)
		}
	}
	pc, err := pgxpool.ParseConfig(cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("%w: central.database: %v", ErrConfig, err)
	}
	pc.MaxConns = int32(cfg.MaxConns)
	if pc.ConnConfig.ConnectTimeout == 0 {
		// A database that does not answer must turn into 503s soon, not
		// into requests hanging for the kernel's TCP timeout.
		pc.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("central: database pool: %w", err)
	}
	if err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("central: %w", err)
	}
	acc, err := access.New(NewKV(pool, kvNamespace), cfg.Access, log)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("central: accounts: %w", err)
	}
	s := &Server{cfg: cfg, loc: loc, log: log, pool: pool, acc: acc, slots: make(chan struct{}, cfg.MaxInflight)}
	s.routes()
	if err := s.openRecordings(); err != nil {
		pool.Close()
		return nil, fmt.Errorf("central: %w", err)
	}
	s.cons = s.mountConsole()
	return s, nil
}

// now is the server's clock in UTC.
func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

// Access is the accounts service of the API (to enrol people).
func (s *Server) Access() *access.Service { return s.acc }

// Handler serves the receiver and the API.
func (s *Server) Handler() http.Handler { return s.mux }

// Close releases the database pool.
func (s *Server) Close() { s.pool.Close() }

// Run listens on Config.Listen and serves until ctx ends, then shuts down
// gracefully: batches in flight finish (and are answered) first.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("central: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener of the caller's.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		if s.cfg.TLSCert != "" {
			err = srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("central: serve on %s: %w", ln.Addr(), err)
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		return nil
	})
	g.Go(func() error { return s.acc.Run(gctx) })
	s.log.Info("central server listening", "addr", ln.Addr().String(), "tls", s.cfg.TLSCert != "")
	err := g.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}
