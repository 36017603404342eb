package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// handleLive is GET /api/v1/live: Server-Sent Events. One "snapshot"
// first, then the hub's events as they come, and a comment every heartbeat
// so that idle connections are not closed by the way. The subscription is
// taken before the snapshot, so no event falls between them (one may come
// twice, which the console's updates tolerate). A client that falls behind
// is dropped by the hub and its stream ends; EventSource reconnects and
// gets a fresh snapshot.
func (a *api) handleLive(w http.ResponseWriter, r *http.Request) {
	s := a.s
	rc := http.NewResponseController(w)
	events, cancel := s.cfg.Live.Subscribe()
	defer cancel()
	// The stream outlives the server's WriteTimeout, if it has one.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	p, _ := principalFrom(r.Context())
	if err := writeSSE(w, "snapshot", liveSnapshotFor(p, s.cfg.Live.Snapshot())); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(a.heartbeat)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Kind == LiveKindLamp {
				err = writeSSE(w, ev.Kind, ev.Lamp)
			} else if !liveVisible(p, &ev.Call) {
				continue
			} else {
				err = writeSSE(w, ev.Kind, ev.Call)
			}
		case <-tick.C:
			_, err = io.WriteString(w, ": heartbeat\n\n")
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// writeSSE writes one event (WHATWG HTML "Server-sent events": "event:"
// and a single "data:" line; JSON has no raw newline).
func writeSSE(w io.Writer, event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", event, err)
	}
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return fmt.Errorf("write %s event: %w", event, err)
	}
	return nil
}

// liveVisible reports whether p may see a live call: a receptionist sees
// only their own (the lamp and the alarm are everyone's).
func liveVisible(p Principal, c *LiveCall) bool {
	return !seesOnlyOwnCalls(p) || mine(p, c.Operator)
}

// liveSnapshotFor returns snap with only the calls p may see.
func liveSnapshotFor(p Principal, snap LiveSnapshot) LiveSnapshot {
	if !seesOnlyOwnCalls(p) {
		return snap
	}
	own := make([]LiveCall, 0, len(snap.Ringing))
	for _, c := range snap.Ringing {
		if liveVisible(p, &c) {
			own = append(own, c)
		}
	}
	snap.Ringing = own
	return snap
}
