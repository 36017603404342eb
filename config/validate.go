package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Bounds of the ring policy. A policy past them is a typo, not a
// switchboard, and within them max_rings × (ring_on + ring_off) cannot
// overflow a time.Duration (issue 9 §6: ring_on 2000000h made the limit
// −248191 h).
const (
	// MaxRings is the largest ring.max_rings accepted.
	MaxRings = 100
	// MaxRingTime is the longest ring.ring_on or ring.ring_off accepted.
	MaxRingTime = time.Minute
)

// MaxCallTable bounds calls.max_open and calls.max_tombs. At 5.8 KB an
// open leg, 10,000,000 legs is 58 GB, a hundred times the board's RAM
// (the default, 20,000, is already a flood's room): a value past it is a
// typo (zeros too many), not a setting. It also keeps the tracker's
// arithmetic exact: the deadline heap indexes legs with int32, and the
// default max_tombs is twice max_open.
const MaxCallTable = 10_000_000

// Validate checks values that parse but make no sense. Every error wraps
// ErrInvalid and names the key, so a typo is never silently replaced by a
// default or accepted as something else.
func (c Config) Validate() error {
	checks := []func() error{
		c.validateCapture,
		c.validateRing,
		c.validateReceptionists,
		c.validateCalls,
		c.validateRecording,
		c.validateListen,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	if err := c.Uplink.HEP.Validate(); err != nil {
		return fmt.Errorf("%w: uplink: %w", ErrInvalid, err)
	}
	if c.Uplink.Enabled() {
		if err := c.Uplink.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if err := c.Device.Validate(); err != nil {
		return fmt.Errorf("device: %w", invalidAs{err})
	}
	if err := c.validatePaths(); err != nil {
		return err
	}
	if (c.Web.TLSCert == "") != (c.Web.TLSKey == "") {
		return fmt.Errorf("%w: web: give both tls_cert and tls_key, or neither", ErrInvalid)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("%w: log_level %q: want debug, info, warn or error", ErrInvalid, c.LogLevel)
	}
	return nil
}

// invalidAs marks err as ErrInvalid without adding to its words: the
// device section's messages are already whole ("device: device config:
// …", as `config check` prints them), and errors.Is still finds both
// ErrInvalid and device's own ErrConfig.
type invalidAs struct{ err error }

func (e invalidAs) Error() string   { return e.err.Error() }
func (e invalidAs) Unwrap() []error { return []error{ErrInvalid, e.err} }

func (c Config) validateRing() error {
	r := c.Ring
	switch {
	case r.MaxRings < 1 || r.MaxRings > MaxRings:
		return fmt.Errorf("%w: ring.max_rings %d: want 1 to %d", ErrInvalid, r.MaxRings, MaxRings)
	case r.RingOn <= 0 || r.RingOn > MaxRingTime:
		return fmt.Errorf("%w: ring.ring_on %s: want more than 0 and at most %s", ErrInvalid, r.RingOn, MaxRingTime)
	case r.RingOff < 0 || r.RingOff > MaxRingTime:
		return fmt.Errorf("%w: ring.ring_off %s: want 0 to %s", ErrInvalid, r.RingOff, MaxRingTime)
	}
	if err := c.RingPolicy().Validate(); err != nil {
		return fmt.Errorf("%w: ring: %w", ErrInvalid, err)
	}
	return nil
}

// validateReceptionists rejects a receptionist without a name or a means
// to recognise the phone, and any name, extension or IP given twice: a
// call would be classified by whichever entry came first.
func (c Config) validateReceptionists() error {
	names := map[string]int{}
	exts := map[string]string{}
	ips := map[netip.Addr]string{}
	for i, r := range c.Receptionists {
		if strings.TrimSpace(r.Name) == "" {
			return fmt.Errorf("%w: receptionists[%d]: name is required", ErrInvalid, i)
		}
		if j, dup := names[r.Name]; dup {
			return fmt.Errorf("%w: receptionists[%d] and [%d]: name %q given twice", ErrInvalid, j, i, r.Name)
		}
		names[r.Name] = i
		if len(r.Extensions) == 0 && len(r.IPs) == 0 {
			return fmt.Errorf("%w: receptionist %q: give extensions and/or ips", ErrInvalid, r.Name)
		}
		for _, e := range r.Extensions {
			if strings.TrimSpace(e) == "" {
				return fmt.Errorf("%w: receptionist %q: empty extension", ErrInvalid, r.Name)
			}
			if other, dup := exts[e]; dup {
				return fmt.Errorf("%w: extension %q given to receptionists %q and %q", ErrInvalid, e, other, r.Name)
			}
			exts[e] = r.Name
		}
		for _, s := range r.IPs {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return fmt.Errorf("%w: receptionist %q: %w", ErrInvalid, r.Name, err)
			}
			// The tracker compares unmapped addresses: ::ffff:192.0.2.1
			// is 192.0.2.1.
			a = a.Unmap()
			if other, dup := ips[a]; dup {
				return fmt.Errorf("%w: ip %s given to receptionists %q and %q", ErrInvalid, a, other, r.Name)
			}
			ips[a] = r.Name
		}
	}
	return nil
}

// validateCalls rejects timers and limits the tracker would otherwise
// replace by its defaults without a word.
func (c Config) validateCalls() error {
	timers := []struct {
		key string
		d   time.Duration
	}{
		{"setup_timeout", c.Calls.SetupTimeout},
		{"idle_timeout", c.Calls.IdleTimeout},
		{"linger", c.Calls.Linger},
		{"transfer_window", c.Calls.TransferWindow},
	}
	for _, t := range timers {
		if t.d <= 0 {
			return fmt.Errorf("%w: calls.%s %s: want a duration greater than 0", ErrInvalid, t.key, t.d)
		}
	}
	if !(c.Calls.FloodRate >= 1 && c.Calls.FloodRate <= 1e6) {
		return fmt.Errorf("%w: calls.flood_rate %v: want 1 to 1000000 INVITEs per second", ErrInvalid, c.Calls.FloodRate)
	}
	if err := c.Report.validate(); err != nil {
		return err
	}
	if err := c.Sample.validate(); err != nil {
		return err
	}
	if c.Calls.MaxTombs < 0 || c.Calls.MaxTombs > MaxCallTable {
		return fmt.Errorf("%w: calls.max_tombs %d: want 0 (twice max_open) to %d", ErrInvalid, c.Calls.MaxTombs, MaxCallTable)
	}
	if c.Calls.MaxOpen <= 0 || c.Calls.MaxOpen > MaxCallTable {
		return fmt.Errorf("%w: calls.max_open %d: want 1 to %d", ErrInvalid, c.Calls.MaxOpen, MaxCallTable)
	}
	return nil
}

// validatePaths refuses the keys whose empty value, given explicitly,
// would silently mean something else: time_zone "" is UTC to
// time.LoadLocation (not the switchboard's zone), and data_dir "" puts the
// store, the recordings and the socket in whatever directory the command
// runs in. An absent key keeps its default (Parse decodes over Default()),
// so only an explicit "" reaches here.
func (c Config) validatePaths() error {
	if c.TimeZone == "" {
		return fmt.Errorf("%w: time_zone is empty (it would mean UTC): give an IANA zone such as America/El_Salvador, or UTC", ErrInvalid)
	}
	if _, err := c.Location(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if c.DataDir == "" {
		return fmt.Errorf("%w: data_dir is empty (it would mean the current directory): give a path, or leave the key out for %s", ErrInvalid, DefaultDataDir)
	}
	return nil
}

func (c Config) validateCapture() error {
	if n := c.Capture.RingSize; n < MinRingSize || n > MaxRingSize {
		return fmt.Errorf("%w: capture.ring_size %d: want %s to %s", ErrInvalid, uint64(n), ByteSize(MinRingSize), ByteSize(MaxRingSize))
	}
	return nil
}

func (c Config) validateRecording() error {
	switch {
	case c.Recording.MaxAge < 0:
		return fmt.Errorf("%w: recording.max_age %s: want 0 (unlimited) or more", ErrInvalid, c.Recording.MaxAge)
	case c.Recording.SweepEvery <= 0:
		return fmt.Errorf("%w: recording.sweep_every %s: want a duration greater than 0", ErrInvalid, c.Recording.SweepEvery)
	}
	if err := c.Recording.Speech.Detector().Validate(); err != nil {
		return fmt.Errorf("%w: recording.speech: %w", ErrInvalid, err)
	}
	return nil
}

// validateListen checks the HTTP addresses at load rather than when the
// daemon binds them: "" (off), or host:port with a port of 0 to 65535 and
// a host that is empty (every address), an IP or a name.
func (c Config) validateListen() error {
	for _, l := range []struct{ key, addr string }{
		{"metrics.listen", c.Metrics.Listen},
		{"web.listen", c.Web.Listen},
	} {
		if err := validateListen(l.addr); err != nil {
			return fmt.Errorf("%w: %s %q: %w", ErrInvalid, l.key, l.addr, err)
		}
	}
	return nil
}

func validateListen(addr string) error {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port or :port: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q: want a number from 0 to 65535", port)
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if !validHostname(host) {
		return fmt.Errorf("host %q: want an IP address or a host name", host)
	}
	return nil
}

// validHostname reports whether h is a DNS name (RFC 1123 §2.1: letters,
// digits and hyphens, labels of 1 to 63 characters).
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			ok := r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			if !ok {
				return false
			}
		}
	}
	return true
}
