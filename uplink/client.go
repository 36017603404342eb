package uplink

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// newClient returns the HTTPS client of c: the server is verified against
// the system roots or, when c.CA is set, against that file's certificates
// only (a private central CA is the common case); a client certificate is
// presented when c.Cert is set. Each request's deadline is the sender's
// (Config.Timeout), so the client sets none of its own.
func newClient(c Config) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CA != "" {
		pem, err := os.ReadFile(c.CA)
		if err != nil {
			return nil, fmt.Errorf("%w: read uplink.ca: %w", ErrConfig, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: uplink.ca %s holds no PEM certificate", ErrConfig, c.CA)
		}
		tc.RootCAs = pool
	}
	if c.Cert != "" {
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: load uplink.cert/key: %w", ErrConfig, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       tc,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   c.Timeout,
		ResponseHeaderTimeout: c.Timeout,
		// Bodies are gzipped by the sender; answers are tiny.
		DisableCompression: true,
	}
	return &http.Client{Transport: tr}, nil
}
