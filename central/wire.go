package central

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Batch is the body of POST /api/v1/uplink/batches: the box's outbox
// entries FirstSeq..LastSeq, contiguous and in order.
type Batch struct {
	FirstSeq uint64  `json:"first_seq"`
	LastSeq  uint64  `json:"last_seq"`
	Entries  []Entry `json:"entries"`
}

// Entry is one outbox entry: the RecordID's record as the box wrote it at
// Revision (which grows each time the box writes that record again).
type Entry struct {
	Seq      uint64          `json:"seq"`
	RecordID string          `json:"record_id"`
	Revision int64           `json:"revision"`
	Record   json.RawMessage `json:"record"`
}

// Ack is the answer to a batch and to GET /api/v1/uplink/cursor: every
// entry up to Acked is committed on the server.
type Ack struct {
	Acked uint64 `json:"acked"`
}

// maxRecordID bounds a record id; the box's are Call-ID based, far shorter.
const maxRecordID = 512

// maxSeq keeps seqs within PostgreSQL's bigint.
const maxSeq = 1<<63 - 1

// Validate checks the batch against the protocol: seqs contiguous from
// FirstSeq to LastSeq, one entry each, a record id, a positive revision
// and a JSON object as record whose "id", when present, is the record id.
func (b *Batch) Validate(maxEntries int) error {
	if b.FirstSeq == 0 || b.LastSeq < b.FirstSeq || b.LastSeq > maxSeq {
		return fmt.Errorf("%w: seqs %d..%d", ErrMalformed, b.FirstSeq, b.LastSeq)
	}
	if n := b.LastSeq - b.FirstSeq + 1; n != uint64(len(b.Entries)) {
		return fmt.Errorf("%w: %d entries for seqs %d..%d", ErrMalformed, len(b.Entries), b.FirstSeq, b.LastSeq)
	}
	if len(b.Entries) > maxEntries {
		return fmt.Errorf("%w: %d entries (at most %d)", ErrTooLarge, len(b.Entries), maxEntries)
	}
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Seq != b.FirstSeq+uint64(i) {
			return fmt.Errorf("%w: entry %d has seq %d, want %d", ErrMalformed, i, e.Seq, b.FirstSeq+uint64(i))
		}
		if e.RecordID == "" || len(e.RecordID) > maxRecordID {
			return fmt.Errorf("%w: seq %d: record_id of %d bytes", ErrMalformed, e.Seq, len(e.RecordID))
		}
		if e.Revision <= 0 {
			return fmt.Errorf("%w: seq %d: revision %d", ErrMalformed, e.Seq, e.Revision)
		}
		if r := bytes.TrimLeft(e.Record, " \t\r\n"); len(r) == 0 || r[0] != '{' {
			return fmt.Errorf("%w: seq %d: record is not a JSON object", ErrMalformed, e.Seq)
		}
	}
	return nil
}

// columns are the record's fields kept as columns of calls, for the
// queries; the whole record is kept as jsonb beside them. They mirror
// sip.Call's JSON names without importing sip: the server keeps what the
// box sent, including fields it does not know.
type columns struct {
	ID          string     `json:"id"`
	CallID      string     `json:"call_id"`
	From        string     `json:"from"`
	To          string     `json:"to"`
	Direction   string     `json:"direction"`
	Operator    string     `json:"operator"`
	InviteAt    *time.Time `json:"invite_at"`
	RingingAt   *time.Time `json:"ringing_at"`
	AnsweredAt  *time.Time `json:"answered_at"`
	EndedAt     *time.Time `json:"ended_at"`
	EndReason   string     `json:"end_reason"`
	HangupBy    string     `json:"hangup_by"`
	WithinLimit bool       `json:"within_limit"`
	Rings       int32      `json:"rings"`
	RingSeconds float64    `json:"ring_seconds"`
}

// parseColumns decodes the columns of one entry's record.
func parseColumns(e *Entry) (columns, error) {
	var c columns
	if err := json.Unmarshal(e.Record, &c); err != nil {
		return c, fmt.Errorf("%w: seq %d: record: %v", ErrMalformed, e.Seq, err)
	}
	if c.ID != "" && c.ID != e.RecordID {
		return c, fmt.Errorf("%w: seq %d: record id %q is not record_id %q", ErrMalformed, e.Seq, c.ID, e.RecordID)
	}
	for _, t := range []*time.Time{c.InviteAt, c.RingingAt, c.AnsweredAt, c.EndedAt} {
		// PostgreSQL's timestamptz spans 4713 BC to 294276 AD; a zero
		// time.Time (year 1) fits, but keep to plausible years.
		if t != nil && (t.Year() < 1 || t.Year() > 9999) {
			return c, fmt.Errorf("%w: seq %d: time %v out of range", ErrMalformed, e.Seq, t)
		}
	}
	if c.InviteAt != nil && c.InviteAt.IsZero() {
		c.InviteAt = nil
	}
	return c, nil
}
