package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Aggregates reads the stored aggregates of the legs that never rang
// (package storage's Store satisfies it as is).
type Aggregates interface {
	// Aggregates calls fn for each aggregate whose period starts in
	// [from, to), in order of period, source and reason.
	Aggregates(ctx context.Context, from, to time.Time, fn func(sip.Aggregate) error) error
}

// aggregateRoutes registers GET /api/v1/aggregates when the server has
// aggregates to read (Config.Aggregates; the central server has none). It
// is the office roles' (a receptionist's calls are never among them: the
// legs counted there never rang), and the local socket's, whose
// `switchtap calls --aggregates` reads them while the daemon holds the
// store.
func (a *api) aggregateRoutes(mux *router) {
	s := a.s
	if s.cfg.Aggregates == nil {
		return
	}
	mux.Handle("GET /api/v1/aggregates", s.need(s.handleAggregates, everyone...))
}

// handleAggregates is GET /api/v1/aggregates?from=&to=: the aggregates
// whose period starts in the local days from..to (YYYY-MM-DD in
// cfg.Location, to inclusive, at most maxRangeDays; today when neither is
// given), as /api/v1/calls reads its days: an aggregate belongs to the
// day its period starts in.
func (s *Server) handleAggregates(w http.ResponseWriter, r *http.Request) {
	var f callFilter
	var err error
	if f.From, f.To, err = parseDateRange(r.URL.Query(), s.cfg.Location); err != nil {
		s.writeError(w, r, err)
		return
	}
	from, to := f.window(s.now(), s.cfg.Location)

	// Streamed as read, as the calls are: a flood's year is many
	// minutes. The status goes with the first aggregate, so a store that
	// fails at once is a clean error; one failing later truncates the
	// array (invalid JSON, never taken for a whole answer) and is logged.
	bw := bufio.NewWriterSize(w, 32<<10)
	var rec bytes.Buffer
	enc := json.NewEncoder(&rec)
	n := 0
	start := func() {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_ = bw.WriteByte('[')
	}
	err = s.cfg.Aggregates.Aggregates(r.Context(), from, to, func(ag sip.Aggregate) error {
		if n == 0 {
			start()
		} else {
			_ = bw.WriteByte(',')
		}
		n++
		rec.Reset()
		if err := enc.Encode(&ag); err != nil {
			return fmt.Errorf("encode aggregate %s %s: %w", ag.Period.Format(time.RFC3339), ag.Source, err)
		}
		_, err := bw.Write(bytes.TrimSuffix(rec.Bytes(), []byte{'\n'}))
		return err
	})
	if err != nil {
		if n == 0 {
			s.writeError(w, r, fmt.Errorf("list aggregates: %w", err))
			return
		}
		_ = bw.Flush()
		s.log.Error("list aggregates failed mid-answer", "err", err)
		return
	}
	if n == 0 {
		start()
	}
	_, _ = bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		s.log.Debug("list aggregates: client gone", "err", err)
	}
}
