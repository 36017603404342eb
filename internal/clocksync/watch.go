package clocksync

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// FaultText is the status-lamp fault of an unsynchronised clock, as the
// console and /api/v1/status show it.
const FaultText = "reloj no sincronizado"

// DefaultEvery is how often Watch reads the clock. The kernel's error bound
// grows by 500 µs a second once a time source is lost: a minute is nothing
// beside the 16 s at which it says unsynchronised, and the fallback's
// process spawn stays rare.
const DefaultEvery = time.Minute

// Watch reads the clock every interval for the status lamp: Fault is called
// on every lamp update and scrape, so it only returns what the last read
// found. A state that cannot be read is no fault (it is logged once): the
// lamp must not blink for a missing timedatectl.
type Watch struct {
	r     *Reader
	log   *slog.Logger
	every time.Duration

	mu      sync.Mutex
	fault   string
	known   bool // a read has succeeded since the last failure
	synced  bool
	errSeen bool
}

// WatchOption configures a Watch.
type WatchOption func(*Watch)

// WithEvery sets the interval between reads (default DefaultEvery).
func WithEvery(d time.Duration) WatchOption { return func(w *Watch) { w.every = d } }

// WithLogger sets where changes of state are logged.
func WithLogger(log *slog.Logger) WatchOption { return func(w *Watch) { w.log = log } }

// NewWatch returns a Watch reading through r (nil: NewReader()).
func NewWatch(r *Reader, opts ...WatchOption) *Watch {
	if r == nil {
		r = NewReader()
	}
	w := &Watch{r: r, log: slog.New(slog.DiscardHandler), every: DefaultEvery}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Run reads the clock at once and then every interval until ctx is done.
func (w *Watch) Run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		w.Check(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Check reads the clock once, updates the fault and logs a change.
func (w *Watch) Check(ctx context.Context) {
	st, err := w.r.Read(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if !w.errSeen {
			w.log.Warn("clock synchronisation unknown: not shown on the status lamp", "err", err)
		}
		w.errSeen, w.known, w.fault = true, false, ""
		return
	}
	w.errSeen = false
	changed := !w.known || st.Synchronised != w.synced
	w.known, w.synced = true, st.Synchronised
	if st.Synchronised {
		w.fault = ""
		if changed {
			w.log.Info("clock synchronised", "state", st.String())
		}
		return
	}
	w.fault = FaultText
	if changed {
		w.log.Error("clock not synchronised: call times may be wrong; status lamp shows a fault", "state", st.String())
	}
}

// Fault returns FaultText while the last read found the clock
// unsynchronised, else "".
func (w *Watch) Fault() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fault
}
