package central

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Outcome is what a batch did.
type Outcome int

// Outcomes of Ingest.
const (
	// Applied: the entries after the cursor were upserted and the cursor
	// moved to the batch's last seq.
	Applied Outcome = iota
	// Replay: the batch ends at or before the cursor; nothing applied.
	Replay
	// Gap: the batch starts after cursor+1; nothing applied, the box must
	// resend from cursor+1.
	Gap
)

// upsertSQL writes the legs of one batch in one statement. The WHERE of
// DO UPDATE is the exactly-once rule for records: a row is replaced only
// by a strictly higher revision, so a late, older write never wins.
const upsertSQL = `
INSERT INTO calls (box_id, record_id, revision, seq, call_id, from_user, to_user, direction, operator,
	invite_at, ringing_at, answered_at, ended_at, end_reason, hangup_by, within_limit, rings, ring_seconds,
	record, received)
SELECT $1, u.record_id, u.revision, u.seq, u.call_id, u.from_user, u.to_user, u.direction, u.operator,
	u.invite_at, u.ringing_at, u.answered_at, u.ended_at, u.end_reason, u.hangup_by, u.within_limit, u.rings,
	u.ring_seconds, u.record::jsonb, $20
FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
	$10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::text[], $15::text[],
	$16::boolean[], $17::integer[], $18::double precision[], $19::text[])
	AS u(record_id, revision, seq, call_id, from_user, to_user, direction, operator,
	invite_at, ringing_at, answered_at, ended_at, end_reason, hangup_by, within_limit, rings, ring_seconds, record)
ON CONFLICT (box_id, record_id) DO UPDATE SET
	revision = EXCLUDED.revision, seq = EXCLUDED.seq, call_id = EXCLUDED.call_id,
	from_user = EXCLUDED.from_user, to_user = EXCLUDED.to_user, direction = EXCLUDED.direction,
	operator = EXCLUDED.operator, invite_at = EXCLUDED.invite_at, ringing_at = EXCLUDED.ringing_at,
	answered_at = EXCLUDED.answered_at, ended_at = EXCLUDED.ended_at, end_reason = EXCLUDED.end_reason,
	hangup_by = EXCLUDED.hangup_by, within_limit = EXCLUDED.within_limit, rings = EXCLUDED.rings,
	ring_seconds = EXCLUDED.ring_seconds, record = EXCLUDED.record, received = EXCLUDED.received
WHERE calls.revision < EXCLUDED.revision`

// legs are the columns of the rows one batch upserts, as parallel arrays
// for unnest.
type legs struct {
	recordID, callID, from, to, direction, operator, endReason, hangupBy, record []string
	revision, seq                                                                []int64
	inviteAt, ringingAt, answeredAt, endedAt                                     []*time.Time
	withinLimit                                                                  []bool
	rings                                                                        []int32
	ringSeconds                                                                  []float64
	// newest is the latest end (or start) time among the legs.
	newest time.Time
}

// prepare decodes the entries into rows. An id written twice in
// the batch keeps its highest revision: one INSERT may not touch a row
// twice, and the lower one would lose anyway.
func prepare(entries []Entry) (*legs, error) {
	at := make(map[string]int, len(entries))
	l := &legs{}
	for i := range entries {
		e := &entries[i]
		if !utf8.Valid(e.Record) || !utf8.ValidString(e.RecordID) {
			return nil, fmt.Errorf("%w: seq %d: not UTF-8", ErrMalformed, e.Seq)
		}
		raw := fixNUL(e.Record)
		c, err := parseColumns(&Entry{Seq: e.Seq, RecordID: e.RecordID, Record: raw})
		if err != nil {
			return nil, err
		}
		if j, ok := at[e.RecordID]; ok {
			if l.revision[j] >= e.Revision {
				continue
			}
			l.set(j, e, c, raw)
			continue
		}
		at[e.RecordID] = len(l.recordID)
		l.grow()
		l.set(len(l.recordID)-1, e, c, raw)
	}
	return l, nil
}

func (l *legs) grow() {
	l.recordID, l.callID, l.from, l.to = append(l.recordID, ""), append(l.callID, ""), append(l.from, ""), append(l.to, "")
	l.direction, l.operator, l.endReason = append(l.direction, ""), append(l.operator, ""), append(l.endReason, "")
	l.hangupBy, l.record = append(l.hangupBy, ""), append(l.record, "")
	l.revision, l.seq = append(l.revision, 0), append(l.seq, 0)
	l.inviteAt, l.ringingAt, l.answeredAt, l.endedAt = append(l.inviteAt, nil), append(l.ringingAt, nil), append(l.answeredAt, nil), append(l.endedAt, nil)
	l.withinLimit, l.rings, l.ringSeconds = append(l.withinLimit, false), append(l.rings, 0), append(l.ringSeconds, 0)
}

func (l *legs) set(j int, e *Entry, c columns, raw []byte) {
	l.recordID[j], l.revision[j], l.seq[j] = e.RecordID, e.Revision, int64(e.Seq)
	l.callID[j], l.from[j], l.to[j] = c.CallID, c.From, c.To
	l.direction[j], l.operator[j], l.endReason[j], l.hangupBy[j] = c.Direction, c.Operator, c.EndReason, c.HangupBy
	l.inviteAt[j], l.ringingAt[j], l.answeredAt[j], l.endedAt[j] = c.InviteAt, c.RingingAt, c.AnsweredAt, c.EndedAt
	l.withinLimit[j], l.rings[j], l.ringSeconds[j] = c.WithinLimit, c.Rings, c.RingSeconds
	l.record[j] = string(raw)
	t := c.EndedAt
	if t == nil {
		t = c.InviteAt
	}
	if t != nil && t.After(l.newest) {
		l.newest = *t
	}
}

// fixNUL rewrites the JSON escape \u0000 as \ufffd: PostgreSQL's jsonb and
// text cannot hold NUL, and a hostile SIP header can put one in a record;
// refusing the batch would stall the box's outbox for ever. Only escapes
// are rewritten (a backslash that is not itself escaped), so the text of
// a record is otherwise kept byte for byte.
func fixNUL(raw []byte) []byte {
	var out []byte
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] == 'u' && i+6 <= len(raw) && string(raw[i+2:i+6]) == "0000" {
			if out == nil {
				out = append([]byte(nil), raw...)
			}
			copy(out[i+2:i+6], "fffd")
		}
		i++ // skip the escaped character
	}
	if out == nil {
		return raw
	}
	return out
}

// Ingest applies a validated batch from boxID in one transaction and
// returns the box's cursor after it and what was done. The cursor is the
// answer: Applied and Replay are 200, Gap is 409.
func (s *Server) Ingest(ctx context.Context, boxID string, b *Batch) (uint64, Outcome, error) {
	l, err := prepare(b.Entries)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.TxTimeout)
	defer cancel()
	conn, err := s.acquireConn(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("ingest %s: %w", boxID, err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("ingest %s: begin: %w", boxID, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	var cursor int64
	err = tx.QueryRow(ctx, "SELECT acked_seq FROM boxes WHERE box_id = $1 FOR UPDATE", boxID).Scan(&cursor)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, fmt.Errorf("ingest %s: %w", boxID, ErrUnauthorized)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("ingest %s: lock cursor: %w", boxID, err)
	}
	now := s.now()
	cur := uint64(cursor)
	if b.LastSeq <= cur || b.FirstSeq > cur+1 {
		if _, err := tx.Exec(ctx, "UPDATE boxes SET last_contact = $2 WHERE box_id = $1", boxID, now); err != nil {
			return 0, 0, fmt.Errorf("ingest %s: contact: %w", boxID, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return 0, 0, fmt.Errorf("ingest %s: commit: %w", boxID, err)
		}
		if b.LastSeq <= cur {
			return cur, Replay, nil
		}
		return cur, Gap, nil
	}
	if b.FirstSeq <= cur {
		// Overlap: the entries up to the cursor are applied already.
		if l, err = prepare(b.Entries[cur+1-b.FirstSeq:]); err != nil {
			return 0, 0, err
		}
	}
	tag, err := tx.Exec(ctx, upsertSQL, boxID, l.recordID, l.revision, l.seq, l.callID, l.from, l.to,
		l.direction, l.operator, l.inviteAt, l.ringingAt, l.answeredAt, l.endedAt, l.endReason, l.hangupBy,
		l.withinLimit, l.rings, l.ringSeconds, l.record, now)
	if err != nil {
		return 0, 0, fmt.Errorf("ingest %s: upsert: %w", boxID, err)
	}
	var delay *int64
	if !l.newest.IsZero() {
		d := max(now.Sub(l.newest).Milliseconds(), 0)
		delay = &d
	}
	if _, err := tx.Exec(ctx, "UPDATE boxes SET acked_seq = $2, last_contact = $3, last_delay_ms = $4 WHERE box_id = $1",
		boxID, int64(b.LastSeq), now, delay); err != nil {
		return 0, 0, fmt.Errorf("ingest %s: cursor: %w", boxID, err)
	}
	applied := b.LastSeq - max(cur, b.FirstSeq-1)
	if _, err := tx.Exec(ctx, "INSERT INTO ingest_log (box_id, first_seq, last_seq, applied, upserted, at) VALUES ($1, $2, $3, $4, $5, $6)",
		boxID, int64(b.FirstSeq), int64(b.LastSeq), int64(applied), tag.RowsAffected(), now); err != nil {
		return 0, 0, fmt.Errorf("ingest %s: ledger: %w", boxID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("ingest %s: commit: %w", boxID, err)
	}
	return b.LastSeq, Applied, nil
}

// acquireTimeout bounds the wait for a pooled connection: with every one
// taken (by people's queries too), a box is told to come back (429) rather
// than kept waiting for the whole transaction timeout.
const acquireTimeout = 2 * time.Second

// acquireConn takes a connection of the pool; ErrBusy when all are in use
// for acquireTimeout, the connection's error when the database is down.
func (s *Server) acquireConn(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, acquireTimeout)
	defer cancel()
	conn, err := s.pool.Acquire(actx)
	if err == nil {
		return conn, nil
	}
	if ctx.Err() == nil && actx.Err() != nil && s.pool.Stat().AcquiredConns() >= s.pool.Config().MaxConns {
		return nil, fmt.Errorf("%w: %d connections in use", ErrBusy, s.pool.Stat().AcquiredConns())
	}
	return nil, fmt.Errorf("acquire connection: %w", err)
}

// Cursor returns the cursor of the box whose token raw is, and records
// the contact; ErrUnauthorized for an unknown token.
func (s *Server) Cursor(ctx context.Context, raw string) (uint64, error) {
	if !wellFormedToken(raw) {
		return 0, ErrUnauthorized
	}
	conn, err := s.acquireConn(ctx)
	if err != nil {
		return 0, fmt.Errorf("cursor: %w", err)
	}
	defer conn.Release()
	var cursor int64
	err = conn.QueryRow(ctx, "UPDATE boxes SET last_contact = $2 WHERE token_sha256 = $1 RETURNING acked_seq",
		TokenHash(raw), s.now()).Scan(&cursor)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrUnauthorized
	}
	if err != nil {
		return 0, fmt.Errorf("cursor: %w", err)
	}
	return uint64(cursor), nil
}
