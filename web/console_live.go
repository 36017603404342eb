package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/switchtap/switchtap/sip"
)

// recentEnded is how many ended calls En vivo lists.
const recentEnded = 10

// liveRow is a ringing call in the En vivo table.
type liveRow struct {
	ID, At, From, To, Operator, Direction string
	Rings                                 int
	Over                                  bool
}

// recentRow is an ended call of today; its JSON is what live.js reads
// from /envivo/resumen.
type recentRow struct {
	ID       string `json:"id"`
	At       string `json:"at"`
	From     string `json:"from"`
	To       string `json:"to"`
	Operator string `json:"operator"`
	Rings    int    `json:"rings"`
	Result   string `json:"result"`
	Over     bool   `json:"over"`
}

// liveBody is the En vivo page's data.
type liveBody struct {
	Lamp, Alarm string
	Today       string
	Counters    Counters
	// FirstOver is the ring that is already too late (MaxRings+1): "5.º".
	FirstOver int
	MaxRings  int
	Zone      string
	Ringing   []liveRow
	Recent    []recentRow
}

// summaryJSON is GET /envivo/resumen.
type summaryJSON struct {
	Counters struct {
		Offered     int `json:"offered"`
		WithinLimit int `json:"within_limit"`
		Abandoned   int `json:"abandoned"`
		Transferred int `json:"transferred"`
	} `json:"counters"`
	Recent []recentRow `json:"recent"`
}

// live is GET /envivo: the page starts from the hub's snapshot and today's
// figures, then live.js follows /api/v1/live.
func (c *console) live(w http.ResponseWriter, r *http.Request, p Principal) {
	n, recent, err := c.today(r)
	if err != nil {
		c.fail(w, r, &p, err)
		return
	}
	snap := c.s.cfg.Live.Snapshot()
	ring := c.s.cfg.Ring
	body := liveBody{
		Lamp:      snap.Lamp,
		Alarm:     snap.Alarm,
		Today:     c.f.date(c.s.now()),
		Counters:  n,
		FirstOver: ring.MaxRings + 1,
		MaxRings:  ring.MaxRings,
		Zone:      c.s.cfg.Location.String(),
		Recent:    recent,
	}
	for _, lc := range snap.Ringing {
		at := lc.At
		if lc.RingingAt != nil {
			at = *lc.RingingAt
		}
		body.Ringing = append(body.Ringing, liveRow{
			ID: lc.ID, At: at.In(c.s.cfg.Location).Format("15:04:05"), From: lc.From, To: lc.To,
			Operator: lc.Operator, Direction: directionLabel(lc.Direction), Rings: lc.Rings, Over: lc.Rings > ring.MaxRings,
		})
	}
	pg := c.newPage(&p, "En vivo", "envivo", body)
	pg.Scripts = []string{"live.js"}
	c.render(w, r, http.StatusOK, "envivo", pg)
}

// liveSummary is GET /envivo/resumen, read by live.js when a call ends.
func (c *console) liveSummary(w http.ResponseWriter, r *http.Request, p Principal) {
	n, recent, err := c.today(r)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	var out summaryJSON
	out.Counters.Offered, out.Counters.WithinLimit = n.Offered, n.WithinLimit
	out.Counters.Abandoned, out.Counters.Transferred = n.Abandoned, n.Transferred
	out.Recent = recent
	if out.Recent == nil {
		out.Recent = []recentRow{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		c.s.writeError(w, r, fmt.Errorf("live summary: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// today returns today's counters and the last ended legs, newest first.
// The legs are kept in a bounded buffer while the day is read, so a busy
// day costs no more memory than recentEnded records.
func (c *console) today(r *http.Request) (Counters, []recentRow, error) {
	ctx := r.Context()
	n, err := c.s.todayCounters(ctx)
	if err != nil {
		return Counters{}, nil, err
	}
	var last []sip.Call
	err = c.s.eachCall(ctx, callFilter{}, func(_ int, call sip.Call) error {
		if call.EndedAt == nil {
			return nil
		}
		last = append(last, call)
		slices.SortStableFunc(last, func(a, b sip.Call) int { return b.EndedAt.Compare(*a.EndedAt) })
		if len(last) > recentEnded {
			last = last[:recentEnded]
		}
		return nil
	})
	if err != nil {
		return Counters{}, nil, fmt.Errorf("recent calls: %w", err)
	}
	rows := make([]recentRow, 0, len(last))
	for i := range last {
		call := &last[i]
		rows = append(rows, recentRow{
			ID: call.ID, At: call.InviteAt.In(c.s.cfg.Location).Format("15:04:05"), From: call.From, To: call.To,
			Operator: call.Operator, Rings: call.Rings, Result: endReasonLabel(call.EndReason),
			Over: ringsOver(call, c.s.cfg.Ring),
		})
	}
	return n, rows, nil
}
