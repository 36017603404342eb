package central

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchtap/switchtap/access"
)

// person wraps a handler of the API for people: a bearer API token of an
// enabled central account, any role (the técnico reads the reports too).
func (s *Server) person(h func(w http.ResponseWriter, r *http.Request, u access.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			s.fail(w, r, "", ErrUnauthorized)
			return
		}
		u, err := s.acc.TokenUser(r.Context(), tok)
		if errors.Is(err, access.ErrNoSession) {
			s.fail(w, r, "", ErrUnauthorized)
			return
		}
		if err != nil {
			s.fail(w, r, "", err)
			return
		}
		h(w, r, u)
	}
}

// CallFilter selects records for GET /api/v1/calls: invite_at in
// [From, To) (a zero bound is open), and optionally one box or office.
type CallFilter struct {
	From, To time.Time
	Box      string
	Office   string
}

// parseFilter reads from, to, box and office. A day (YYYY-MM-DD, in the
// server's zone) as to includes that day; an RFC 3339 time is exclusive.
func (s *Server) parseFilter(r *http.Request) (CallFilter, error) {
	q := r.URL.Query()
	var f CallFilter
	var err error
	if f.From, err = s.parseWhen(q.Get("from"), false); err != nil {
		return f, err
	}
	if f.To, err = s.parseWhen(q.Get("to"), true); err != nil {
		return f, err
	}
	f.Box, f.Office = q.Get("box"), q.Get("office")
	return f, nil
}

func (s *Server) parseWhen(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, v, s.loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, fmt.Errorf("%w: %q is neither YYYY-MM-DD nor RFC 3339", ErrMalformed, v)
	}
	return t, nil
}

// EachCall calls fn with each matching record in invite order: the
// record's JSON as the box sent it, plus box_id and office.
func (s *Server) EachCall(ctx context.Context, f CallFilter, fn func(rec []byte) error) error {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if !f.From.IsZero() {
		add("c.invite_at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("c.invite_at < $%d", f.To)
	}
	if f.Box != "" {
		add("c.box_id = $%d", f.Box)
	}
	if f.Office != "" {
		add("b.office = $%d", f.Office)
	}
	sql := `SELECT c.record || jsonb_build_object('box_id', c.box_id, 'office', b.office)
		FROM calls c JOIN boxes b USING (box_id)`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY c.invite_at, c.box_id, c.record_id"
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("query calls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		// The raw text of the jsonb: no decoding and encoding again.
		if err := fn(rows.RawValues()[0]); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query calls: %w", err)
	}
	return nil
}

// handleCalls is GET /api/v1/calls: a JSON array streamed as read. The
// status goes with the first record, so a query that fails at once gets a
// clean error; one failing later truncates the array (invalid JSON, which
// no client takes for complete) and is logged.
func (s *Server) handleCalls(w http.ResponseWriter, r *http.Request, _ access.User) {
	f, err := s.parseFilter(r)
	if err != nil {
		s.fail(w, r, "", err)
		return
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	n := 0
	start := func() {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_ = bw.WriteByte('[')
	}
	err = s.EachCall(r.Context(), f, func(rec []byte) error {
		if n == 0 {
			start()
		} else {
			_ = bw.WriteByte(',')
		}
		n++
		_, err := bw.Write(rec)
		return err
	})
	if err != nil {
		if n == 0 {
			s.fail(w, r, "", err)
			return
		}
		_ = bw.Flush()
		s.log.Error("list calls failed mid-answer", "err", err)
		return
	}
	if n == 0 {
		start()
	}
	_, _ = bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		s.log.Debug("list calls: client gone", "err", err)
	}
}

// handleBoxes is GET /api/v1/boxes.
func (s *Server) handleBoxes(w http.ResponseWriter, r *http.Request, _ access.User) {
	boxes, err := s.Boxes(r.Context())
	if err != nil {
		s.fail(w, r, "", err)
		return
	}
	if boxes == nil {
		boxes = []Box{}
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(len(boxes)))
	writeJSON(w, http.StatusOK, boxes)
}
