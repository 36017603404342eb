package daemon

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// maxErrors is how many recent errors the Estado page shows.
const maxErrors = 20

type loggedError struct {
	at  time.Time
	msg string
}

// errorRing keeps the last error-level log lines for the console.
type errorRing struct {
	mu   sync.Mutex
	buf  []loggedError
	next int
}

func (r *errorRing) add(e loggedError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) < maxErrors {
		r.buf = append(r.buf, e)
		return
	}
	r.buf[r.next] = e
	r.next = (r.next + 1) % maxErrors
}

// last returns the errors kept, newest first.
func (r *errorRing) last() []loggedError {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]loggedError, 0, len(r.buf))
	for i := range r.buf {
		j := (r.next - 1 - i + 2*len(r.buf)) % len(r.buf)
		out = append(out, r.buf[j])
	}
	return out
}

// errorTap is a slog.Handler that passes every record on and keeps the
// error-level ones in a ring.
type errorTap struct {
	slog.Handler
	ring  *errorRing
	attrs string
}

func (h errorTap) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		var b strings.Builder
		b.WriteString(r.Message)
		b.WriteString(h.attrs)
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.Key + "=" + a.Value.String())
			return true
		})
		h.ring.add(loggedError{at: r.Time.UTC(), msg: b.String()})
	}
	return h.Handler.Handle(ctx, r)
}

func (h errorTap) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
	}
	return errorTap{Handler: h.Handler.WithAttrs(as), ring: h.ring, attrs: b.String()}
}

func (h errorTap) WithGroup(name string) slog.Handler {
	return errorTap{Handler: h.Handler.WithGroup(name), ring: h.ring, attrs: h.attrs}
}
