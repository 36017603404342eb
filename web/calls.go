package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Bounds of a calls query.
const (
	// maxRangeDays bounds a query's date range (a year and a day).
	maxRangeDays = 366
	// maxPerPage bounds a page.
	maxPerPage = 1000
	// defaultPerPage is the page size when only page= is given.
	defaultPerPage = 50
	// maxFilterLen bounds a free-text filter value.
	maxFilterLen = 256
	// maxIDLen is the longest record id (the store's bound).
	maxIDLen = 1024
)

// dateLayout is the layout of from= and to=.
const dateLayout = "2006-01-02"

// callFilter selects call records. From and To are local midnights of the
// first and last day (To inclusive: the query covers [From, To+1 day)); both
// zero means today in cfg.Location (queryCalls fills them). The pointers
// are nil when the filter is not given. PerPage > 0 pages the result, Page
// counting from 1.
type callFilter struct {
	From, To    time.Time
	Operator    string
	Direction   string
	EndReason   string
	WithinLimit *bool
	Transferred *bool
	// Greeting bounds the greeting latency (calls_greeting.go).
	Greeting greetingRange
	Page     int
	PerPage  int
	// ownOnly keeps only the calls of receptionist own (none when own is
	// ""): the filter of a recepcionista account, set by restrict.
	ownOnly bool
	own     string
}

// restrict limits f to what p may see: a receptionist sees only their own
// calls (those whose operator is the account's receptionist), whatever the
// query asks; every other principal everything.
func (f *callFilter) restrict(p Principal) {
	if seesOnlyOwnCalls(p) {
		f.ownOnly, f.own = true, p.Operator
	}
}

// seesOnlyOwnCalls reports whether p is a receptionist, limited to their
// own calls (the local socket is an admin peer, never one).
func seesOnlyOwnCalls(p Principal) bool { return p.Role == RoleRecepcionista && p.Via != "socket" }

// callVisible reports whether p may see call c: another receptionist's
// call does not exist for a receptionist (404, never 403, so ids do not
// leak). The legs linked to one's own call (a transfer's) come with it.
func callVisible(p Principal, c *sip.Call) bool {
	return !seesOnlyOwnCalls(p) || mine(p, c.Operator)
}

// callVisibleCtx applies callVisible to the principal of ctx, when the
// request has one (the handlers' callers always do).
func callVisibleCtx(ctx context.Context, c *sip.Call) bool {
	p, ok := principalFrom(ctx)
	return !ok || callVisible(p, c)
}

// parseCallFilter reads a filter from a query (from, to as YYYY-MM-DD in
// loc; operator, direction, end_reason, within_limit, transferred,
// greeting_min, greeting_max, page, per_page). Every bad value is an
// error wrapping ErrInvalid that names it.
func parseCallFilter(q url.Values, loc *time.Location) (callFilter, error) {
	var f callFilter
	var err error
	if f.From, f.To, err = parseDateRange(q, loc); err != nil {
		return callFilter{}, err
	}
	f.Operator = q.Get("operator")
	if len(f.Operator) > maxFilterLen {
		return callFilter{}, fmt.Errorf("%w: operator demasiado largo", ErrInvalid)
	}
	if f.Direction = q.Get("direction"); f.Direction != "" {
		switch sip.Direction(f.Direction) {
		case sip.DirectionInbound, sip.DirectionOutbound, sip.DirectionInternal, sip.DirectionUnknown:
		default:
			return callFilter{}, fmt.Errorf("%w: direction %q desconocida (inbound, outbound, internal, unknown)", ErrInvalid, clip(f.Direction))
		}
	}
	if f.EndReason = q.Get("end_reason"); f.EndReason != "" {
		switch sip.EndReason(f.EndReason) {
		case sip.EndCompleted, sip.EndAbandoned, sip.EndBusy, sip.EndRejected, sip.EndRedirected, sip.EndFailed, sip.EndUnknown:
		default:
			return callFilter{}, fmt.Errorf("%w: end_reason %q desconocido", ErrInvalid, clip(f.EndReason))
		}
	}
	if f.WithinLimit, err = parseOptBool(q, "within_limit"); err != nil {
		return callFilter{}, err
	}
	if f.Transferred, err = parseOptBool(q, "transferred"); err != nil {
		return callFilter{}, err
	}
	if f.Greeting, err = parseGreetingRange(q); err != nil {
		return callFilter{}, err
	}
	if f.Page, err = parseOptInt(q, "page", 1, math32); err != nil {
		return callFilter{}, err
	}
	if f.PerPage, err = parseOptInt(q, "per_page", 1, maxPerPage); err != nil {
		return callFilter{}, err
	}
	switch {
	case f.Page > 0 && f.PerPage == 0:
		f.PerPage = defaultPerPage
	case f.PerPage > 0 && f.Page == 0:
		f.Page = 1
	}
	return f, nil
}

// math32 bounds page numbers so that (page-1)*per_page cannot overflow.
const math32 = 1 << 20

// parseDateRange reads from= and to= (YYYY-MM-DD in loc, to inclusive).
// Only one given means that single day; none, zero times.
func parseDateRange(q url.Values, loc *time.Location) (from, to time.Time, err error) {
	fs, ts := q.Get("from"), q.Get("to")
	if fs == "" && ts == "" {
		return time.Time{}, time.Time{}, nil
	}
	if fs == "" {
		fs = ts
	}
	if ts == "" {
		ts = fs
	}
	if from, err = time.ParseInLocation(dateLayout, fs, loc); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: from %q no es una fecha AAAA-MM-DD", ErrInvalid, clip(fs))
	}
	if to, err = time.ParseInLocation(dateLayout, ts, loc); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: to %q no es una fecha AAAA-MM-DD", ErrInvalid, clip(ts))
	}
	if to.Before(from) {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: to %s es anterior a from %s", ErrInvalid, ts, fs)
	}
	if to.Sub(from) > maxRangeDays*24*time.Hour {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: el rango pasa de %d días", ErrInvalid, maxRangeDays)
	}
	return from, to, nil
}

// parseOptBool reads "true" or "false"; absent or empty is nil.
func parseOptBool(q url.Values, key string) (*bool, error) {
	switch v := q.Get(key); v {
	case "":
		return nil, nil
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	default:
		return nil, fmt.Errorf("%w: %s debe ser true o false, no %q", ErrInvalid, key, clip(v))
	}
}

// parseOptInt reads an integer in [lo, hi]; absent or empty is 0.
func parseOptInt(q url.Values, key string, lo, hi int) (int, error) {
	v := q.Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: %s debe ser un entero entre %d y %d, no %q", ErrInvalid, key, lo, hi, clip(v))
	}
	return n, nil
}

// clip shortens a client's value quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// window returns the instants [from, to) the filter covers, today in loc
// when it names no day.
func (f callFilter) window(now time.Time, loc *time.Location) (time.Time, time.Time) {
	from, to := f.From, f.To
	if from.IsZero() {
		n := now.In(loc)
		from = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
		to = from
	}
	// AddDate keeps local midnight across a DST change.
	return from, to.AddDate(0, 0, 1)
}

// match reports whether c passes the filter's fields (not the dates).
func (f callFilter) match(c *sip.Call) bool {
	if f.ownOnly && (f.own == "" || c.Operator != f.own) {
		return false
	}
	if f.Operator != "" && c.Operator != f.Operator {
		return false
	}
	if f.Direction != "" && string(c.Direction) != f.Direction {
		return false
	}
	if f.EndReason != "" && string(c.EndReason) != f.EndReason {
		return false
	}
	if f.WithinLimit != nil && c.WithinLimit != *f.WithinLimit {
		return false
	}
	if f.Transferred != nil && transferred(c) != *f.Transferred {
		return false
	}
	return f.Greeting.match(c)
}

// transferred says a transfer (REFER, or a 3xx redirect) was requested on
// the leg, whatever its result: the console's "trasladada".
func transferred(c *sip.Call) bool { return c.Transfer != nil }

// eachCall calls fn for each record matching f, in invite_at order, with
// its index among the matches.
func (s *Server) eachCall(ctx context.Context, f callFilter, fn func(i int, c sip.Call) error) error {
	from, to := f.window(s.now(), s.cfg.Location)
	i := 0
	return s.cfg.Calls.Calls(ctx, from, to, func(c sip.Call) error {
		if !f.match(&c) {
			return nil
		}
		i++
		return fn(i-1, c)
	})
}

// queryCalls returns the records matching f in invite_at order, only the
// page when f.PerPage > 0, and the number of matches.
func (s *Server) queryCalls(ctx context.Context, f callFilter) (calls []sip.Call, total int, err error) {
	lo, hi := 0, -1
	if f.PerPage > 0 {
		lo = (f.Page - 1) * f.PerPage
		hi = lo + f.PerPage
		calls = make([]sip.Call, 0, f.PerPage)
	}
	err = s.eachCall(ctx, f, func(i int, c sip.Call) error {
		total++
		if i >= lo && (hi < 0 || i < hi) {
			calls = append(calls, c)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("query calls: %w", err)
	}
	if calls == nil {
		calls = []sip.Call{}
	}
	return calls, total, nil
}

// Counters are today's figures of the En vivo page, over inbound legs not
// created by a transfer (a transfer's second leg is the same caller).
type Counters struct {
	// Offered counts the legs; WithinLimit those answered within the ring
	// limit; Abandoned those the caller gave up on; Transferred those on
	// which a transfer was requested.
	Offered, WithinLimit, Abandoned, Transferred int
}

// todayCounters counts today's calls (today in cfg.Location).
func (s *Server) todayCounters(ctx context.Context) (Counters, error) {
	var n Counters
	err := s.eachCall(ctx, callFilter{Direction: string(sip.DirectionInbound)}, func(_ int, c sip.Call) error {
		if c.TransferredFrom != "" {
			return nil
		}
		n.Offered++
		if c.WithinLimit {
			n.WithinLimit++
		}
		if c.EndReason == sip.EndAbandoned {
			n.Abandoned++
		}
		if transferred(&c) {
			n.Transferred++
		}
		return nil
	})
	if err != nil {
		return Counters{}, fmt.Errorf("today's counters: %w", err)
	}
	return n, nil
}

// Relations of a linked leg to the leg shown.
const (
	// RelationTransferTarget is the leg a transfer on this one created.
	RelationTransferTarget = "transfer_target"
	// RelationTransferredFrom is the leg whose transfer created this one.
	RelationTransferredFrom = "transferred_from"
	// RelationReplaces is the dialog this leg (or its transfer) replaced
	// (RFC 3891).
	RelationReplaces = "replaces"
)

// CallDetail is a record with its SIP messages and its linked legs.
type CallDetail struct {
	Call     sip.Call
	Messages []sip.LegMessage
	Linked   []LinkedLeg
}

// LinkedLeg is a leg linked to the one shown by a transfer or Replaces.
type LinkedLeg struct {
	Call     sip.Call
	Messages []sip.LegMessage
	// Relation is RelationTransferTarget, RelationTransferredFrom or
	// RelationReplaces.
	Relation string
}

// validID reports whether id can name a record: never a path ("/", "..")
// nor NUL, at most maxIDLen bytes.
func validID(id string) bool {
	return id != "" && len(id) <= maxIDLen && !strings.ContainsAny(id, "/\\\x00") && !strings.Contains(id, "..")
}

// callDetail returns the record id with its messages and the legs linked
// to it (transfer target, transfer source, replaced dialog) with theirs.
// A linked leg not in the store is left out; an invalid id is ErrNotFound.
func (s *Server) callDetail(ctx context.Context, id string) (CallDetail, error) {
	if !validID(id) {
		return CallDetail{}, fmt.Errorf("call %q: %w", clip(id), ErrNotFound)
	}
	c, err := s.cfg.Calls.Call(ctx, id)
	if err != nil {
		return CallDetail{}, fmt.Errorf("call %q: %w", clip(id), err)
	}
	if !callVisibleCtx(ctx, &c) {
		return CallDetail{}, fmt.Errorf("call %q: %w", clip(id), ErrNotFound)
	}
	msgs, err := s.messages(ctx, id)
	if err != nil {
		return CallDetail{}, err
	}
	d := CallDetail{Call: c, Messages: msgs, Linked: []LinkedLeg{}}
	seen := map[string]bool{c.ID: true}
	link := func(callID, relation string) error {
		if callID == "" {
			return nil
		}
		lc, err := s.cfg.Calls.CallByCallID(ctx, callID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("call %q: linked %s: %w", clip(id), relation, err)
		}
		if seen[lc.ID] {
			return nil
		}
		seen[lc.ID] = true
		lm, err := s.messages(ctx, lc.ID)
		if err != nil {
			return err
		}
		d.Linked = append(d.Linked, LinkedLeg{Call: lc, Messages: lm, Relation: relation})
		return nil
	}
	if c.Transfer != nil {
		if err := link(c.Transfer.TargetCallID, RelationTransferTarget); err != nil {
			return CallDetail{}, err
		}
	}
	if err := link(c.TransferredFrom, RelationTransferredFrom); err != nil {
		return CallDetail{}, err
	}
	if err := link(c.ReplacesCallID, RelationReplaces); err != nil {
		return CallDetail{}, err
	}
	if c.Transfer != nil {
		if err := link(c.Transfer.ReplacesCallID, RelationReplaces); err != nil {
			return CallDetail{}, err
		}
	}
	return d, nil
}

// messages returns a leg's messages, never nil.
func (s *Server) messages(ctx context.Context, id string) ([]sip.LegMessage, error) {
	m, err := s.cfg.Calls.Messages(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("messages of %q: %w", clip(id), err)
	}
	if m == nil {
		m = []sip.LegMessage{}
	}
	return m, nil
}

// handleCalls is GET /api/v1/calls: JSON (streamed, so a long range does
// not sit in memory) or, with format=csv, the audited CSV export.
func (s *Server) handleCalls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseCallFilter(q, s.cfg.Location)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, _ := principalFrom(r.Context())
	f.restrict(p)
	switch q.Get("format") {
	case "", "json":
	case "csv":
		s.exportCallsCSV(w, r, f)
		return
	default:
		s.writeError(w, r, fmt.Errorf("%w: format debe ser json o csv", ErrInvalid))
		return
	}
	if f.PerPage > 0 {
		calls, total, err := s.queryCalls(r.Context(), f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		writeJSON(w, http.StatusOK, calls)
		return
	}
	s.streamCalls(w, r, f)
}

// streamCalls writes the matches as a JSON array as they are read. The
// status is sent with the first record, so a store that fails at once
// still gets a clean error; one failing later truncates the array (invalid
// JSON: a client cannot take it for a complete answer) and is logged.
func (s *Server) streamCalls(w http.ResponseWriter, r *http.Request, f callFilter) {
	bw := bufio.NewWriterSize(w, 32<<10)
	var rec bytes.Buffer
	enc := json.NewEncoder(&rec)
	started := false
	start := func() {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_ = bw.WriteByte('[')
		started = true
	}
	err := s.eachCall(r.Context(), f, func(i int, c sip.Call) error {
		if !started {
			start()
		}
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		rec.Reset()
		if err := enc.Encode(&c); err != nil {
			return fmt.Errorf("encode call %s: %w", c.ID, err)
		}
		// Without Encode's newline: the bytes of json.Marshal.
		_, err := bw.Write(bytes.TrimSuffix(rec.Bytes(), []byte{'\n'}))
		return err
	})
	if err != nil {
		if !started {
			s.writeError(w, r, fmt.Errorf("list calls: %w", err))
			return
		}
		_ = bw.Flush()
		s.log.Error("list calls failed mid-answer", "err", err)
		return
	}
	if !started {
		start()
	}
	_, _ = bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		s.log.Debug("list calls: client gone", "err", err)
	}
}

// detailJSON is GET /api/v1/calls/{id}: the record's own keys (the
// embedded sip.Call's fields are promoted) plus messages and linked.
type detailJSON struct {
	sip.Call
	Messages []sip.LegMessage `json:"messages"`
	Linked   []linkedJSON     `json:"linked"`
}

// linkedJSON is one linked leg in the detail.
type linkedJSON struct {
	Relation string           `json:"relation"`
	Call     sip.Call         `json:"call"`
	Messages []sip.LegMessage `json:"messages"`
}

// handleCall is GET /api/v1/calls/{id}.
func (s *Server) handleCall(w http.ResponseWriter, r *http.Request) {
	d, err := s.callDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := detailJSON{Call: d.Call, Messages: d.Messages, Linked: make([]linkedJSON, len(d.Linked))}
	for i, l := range d.Linked {
		out.Linked[i] = linkedJSON{Relation: l.Relation, Call: l.Call, Messages: l.Messages}
	}
	writeJSON(w, http.StatusOK, out)
}
