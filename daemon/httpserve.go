package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// HTTP server limits: pages and API calls are small; a client slower than
// this to send its headers is broken or hostile (slowloris). No write
// timeout: /api/v1/live is a long-lived event stream and recordings may be
// large.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 5 * time.Second
)

// httpService serves h on a listener until ctx is done, then shuts down
// gracefully (event streams are cut after shutdownTimeout).
type httpService struct {
	name string
	ln   net.Listener
	srv  *http.Server
	tls  bool
	log  *slog.Logger
}

func newHTTPService(name string, ln net.Listener, h http.Handler, tlsCfg *tls.Config, connCtx func(context.Context, net.Conn) context.Context, log *slog.Logger) *httpService {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         tlsCfg,
		ConnContext:       connCtx,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return &httpService{name: name, ln: ln, srv: srv, tls: tlsCfg != nil, log: log}
}

func (s *httpService) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		var err error
		if s.tls {
			err = s.srv.ServeTLS(s.ln, "", "")
		} else {
			err = s.srv.Serve(s.ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s on %s: %w", s.name, s.ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		// Long-lived event streams do not end by themselves: cut them.
		_ = s.srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", s.name, err)
	}
	return nil
}
