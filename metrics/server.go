package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server timeouts: a scrape is one small GET, so a client that takes longer
// than this to send its headers is broken or hostile (slowloris), and
// shutdown gives an ongoing scrape this long to finish.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = time.Minute
	shutdownTimeout   = 5 * time.Second
)

// MetricsPath is where the server serves the exposition.
const MetricsPath = "/metrics"

// Handler serves reg's metrics. Errors while gathering are counted in
// promhttp_metric_handler_errors_total on reg, and scrapes in
// promhttp_metric_handler_requests_total, so a failing scrape shows in the
// scrapes that work.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.InstrumentMetricHandler(reg,
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
}

// indexPage is served on "/" so a person opening the address in a browser
// finds the metrics.
const indexPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>switchtap</title></head>
<body><h1>switchtap</h1><p><a href="` + MetricsPath + `">Metrics</a></p></body></html>
`

// Server serves the metrics over HTTP until its context ends.
type Server struct {
	addr string
	log  *slog.Logger
	srv  *http.Server

	ready    chan struct{}
	mu       sync.Mutex
	listenOn net.Addr
}

// NewServer makes a server that will serve h on MetricsPath and a link
// page on "/" at addr (host:port; ":0" picks a free port, see Addr).
func NewServer(addr string, h http.Handler, log *slog.Logger) *Server {
	mux := http.NewServeMux()
	mux.Handle(MetricsPath, h)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(indexPage))
	})
	return &Server{
		addr: addr,
		log:  log,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ready: make(chan struct{}),
	}
}

// Run listens on the address and serves until ctx is done, then shuts the
// server down, letting a scrape in progress finish for a few seconds. It
// returns nil after a clean stop, and an error wrapping ErrListen when the
// address cannot be used.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		close(s.ready)
		return fmt.Errorf("%w: %w", ErrListen, err)
	}
	s.mu.Lock()
	s.listenOn = ln.Addr()
	s.mu.Unlock()
	close(s.ready)
	s.log.Info("metrics server listening", "addr", ln.Addr().String(), "path", MetricsPath)

	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(ln) }()

	select {
	case err := <-served:
		// Serve only returns early on a listener failure.
		return fmt.Errorf("metrics: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err = s.srv.Shutdown(sctx)
	if err != nil {
		s.log.Warn("metrics server shutdown", "err", err)
		err = s.srv.Close()
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("metrics: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("metrics: shutdown: %w", err)
	}
	return nil
}

// Ready is closed once Run has bound its address, or failed to.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the address the server listens on (with the port ":0"
// picked), or nil before Run has bound it.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listenOn
}
