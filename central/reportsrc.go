package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/web"
)

// AllOffices names every office at once: the console's default and the
// reports of the whole organisation.
const AllOffices = ""

// IDSep joins a box id and a record id into the id the console and the
// report see. A record id is unique on its box only; a box id is
// [A-Za-z0-9._-] (CheckBoxID), so the first "~" of an id always ends the
// box id, and "~" passes web's id check where "/" would not (its routes
// take an id as one path segment).
const IDSep = "~"

// NoCentralRecording is the not_recordable of a leg recorded on its box
// whose recording the server does not hold (by default a box uploads
// only its sampled recordings; uplink.recordings: all sends every one).
const NoCentralRecording = "sin grabación en el servidor central"

// GlobalID is the id of a box's record across boxes.
func GlobalID(boxID, recordID string) string { return boxID + IDSep + recordID }

// SplitID is GlobalID's inverse; ok is false for an id that is not one.
func SplitID(id string) (boxID, recordID string, ok bool) {
	boxID, recordID, ok = strings.Cut(id, IDSep)
	if !ok || recordID == "" || CheckBoxID(boxID) != nil {
		return "", "", false
	}
	return boxID, recordID, true
}

// OfficeCalls reads the records of one office's boxes, or of every box
// for AllOffices, as the box's call records (sip.Call) with ids made
// unique across boxes (GlobalID). It is report.Calls and web.Calls over
// the calls table.
//
// It has two views of a leg's recording. The console's (OfficeCalls):
// recording.file is the uploaded file's path under
// central.recordings_dir, or empty with NoCentralRecording when the
// server does not hold it, so that only what can be played is offered,
// and only that is in a sample's frame. The report's (AsRecorded): the
// recording as the box recorded it, so that the month's figures
// ("recorded") are the box's whatever was uploaded.
type OfficeCalls struct {
	s      *Server
	office string
	// recorded keeps the box's recording fields when nothing was
	// uploaded (the report's view).
	recorded bool
}

var (
	_ report.Calls      = (*OfficeCalls)(nil)
	_ report.CallGetter = (*OfficeCalls)(nil)
	_ web.Calls         = (*OfficeCalls)(nil)
)

// OfficeCalls returns the console's view of office's records.
func (s *Server) OfficeCalls(office string) *OfficeCalls { return &OfficeCalls{s: s, office: office} }

// AsRecorded returns the report's view of the same records.
func (c *OfficeCalls) AsRecorded() *OfficeCalls {
	return &OfficeCalls{s: c.s, office: c.office, recorded: true}
}

// Office is the office read, AllOffices for all.
func (c *OfficeCalls) Office() string { return c.office }

// selectCalls is the head of every query of OfficeCalls: the record, its
// box and the recording the server holds for it.
const selectCalls = `SELECT c.box_id, c.record_id, c.record, r.sha256
	FROM calls c JOIN boxes b USING (box_id)
	LEFT JOIN recordings r ON r.box_id = c.box_id AND r.record_id = c.record_id`

// where appends the office's condition to conds and args.
func (c *OfficeCalls) where(conds []string, args []any) (string, []any) {
	if c.office != AllOffices {
		args = append(args, c.office)
		conds = append(conds, fmt.Sprintf("b.office = $%d", len(args)))
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Calls calls fn for each record with invite_at in [from, to), in
// invite order (then box and record id, so the order is total).
func (c *OfficeCalls) Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error {
	w, args := c.where([]string{"c.invite_at >= $1", "c.invite_at < $2"}, []any{from, to})
	rows, err := c.s.pool.Query(ctx, selectCalls+w+" ORDER BY c.invite_at, c.box_id, c.record_id", args...)
	if err != nil {
		return fmt.Errorf("read calls: %w", err)
	}
	defer rows.Close()
	var r callRow
	for rows.Next() {
		call, err := r.scan(rows, c)
		if err != nil {
			return err
		}
		if err := fn(call); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read calls: %w", err)
	}
	return nil
}

// Call returns the record of id (GlobalID), or an error wrapping
// web.ErrNotFound when it is not one of the office's.
func (c *OfficeCalls) Call(ctx context.Context, id string) (sip.Call, error) {
	boxID, recID, ok := SplitID(id)
	if !ok {
		return sip.Call{}, fmt.Errorf("call %q: not a box%srecord id: %w", id, IDSep, web.ErrNotFound)
	}
	w, args := c.where([]string{"c.box_id = $1", "c.record_id = $2"}, []any{boxID, recID})
	return c.one(ctx, selectCalls+w, args, id)
}

// CallByCallID returns the newest of the office's records of a SIP
// Call-ID (a transfer's target), or an error wrapping web.ErrNotFound.
func (c *OfficeCalls) CallByCallID(ctx context.Context, callID string) (sip.Call, error) {
	w, args := c.where([]string{"c.call_id = $1"}, []any{callID})
	return c.one(ctx, selectCalls+w+" ORDER BY c.invite_at DESC NULLS LAST, c.box_id, c.record_id LIMIT 1", args, callID)
}

// Messages returns no message: the boxes send their records, not the SIP
// messages they keep beside them.
func (c *OfficeCalls) Messages(context.Context, string) ([]sip.LegMessage, error) {
	return nil, nil
}

func (c *OfficeCalls) one(ctx context.Context, sql string, args []any, what string) (sip.Call, error) {
	rows, err := c.s.pool.Query(ctx, sql, args...)
	if err != nil {
		return sip.Call{}, fmt.Errorf("read call %q: %w", what, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return sip.Call{}, fmt.Errorf("read call %q: %w", what, err)
		}
		return sip.Call{}, fmt.Errorf("call %q: %w", what, web.ErrNotFound)
	}
	var r callRow
	return r.scan(rows, c)
}

// callRow is the scan buffer of one row, reused across a walk.
type callRow struct {
	box, rec string
	raw      []byte
	sha      *string
}

// scan reads the current row into a call in c's view.
func (r *callRow) scan(rows pgx.Rows, c *OfficeCalls) (sip.Call, error) {
	var call sip.Call
	if err := rows.Scan(&r.box, &r.rec, &r.raw, &r.sha); err != nil {
		return call, fmt.Errorf("read calls: %w", err)
	}
	if err := json.Unmarshal(r.raw, &call); err != nil {
		return call, fmt.Errorf("record %s%s%s: %w", r.box, IDSep, r.rec, err)
	}
	call.ID = GlobalID(r.box, r.rec)
	c.recording(&call, r.sha)
	return call, nil
}

// recording points the record's recording at the file the server holds
// (sha), or, in the console's view, says there is none here.
func (c *OfficeCalls) recording(call *sip.Call, sha *string) {
	if sha != nil && c.s.rec != nil {
		if call.Recording == nil {
			call.Recording = &sip.Recording{}
		}
		call.Recording.File = (*sha)[:2] + "/" + *sha
		call.Recording.SHA256 = *sha
		// The box's capture of undecodable RTP stays on the box.
		call.Recording.Pcap = ""
		return
	}
	if c.recorded || call.Recording == nil {
		return
	}
	if call.Recording.File != "" && call.Recording.NotRecordable == "" {
		call.Recording.NotRecordable = NoCentralRecording
	}
	call.Recording.File, call.Recording.Pcap = "", ""
}

// Offices lists the offices of the enrolled boxes, in order.
func (s *Server) Offices(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, "SELECT DISTINCT office FROM boxes ORDER BY office")
	if err != nil {
		return nil, fmt.Errorf("list offices: %w", err)
	}
	offices, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list offices: %w", err)
	}
	return offices, nil
}

// Operators are the receptionists of office: the distinct operators of
// its records, in order. The central server has no list of its own; the
// boxes' records name who answered.
func (c *OfficeCalls) Operators(ctx context.Context) ([]string, error) {
	w, args := c.where([]string{"c.operator <> ''"}, nil)
	rows, err := c.s.pool.Query(ctx, "SELECT DISTINCT c.operator FROM calls c JOIN boxes b USING (box_id)"+w+" ORDER BY 1", args...)
	if err != nil {
		return nil, fmt.Errorf("receptionists of %q: %w", c.office, err)
	}
	ops, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("receptionists of %q: %w", c.office, err)
	}
	return ops, nil
}

// recordingKeeper is report.Keeper over the recording_keep table. The
// central server deletes no recording (there is no central retention),
// so the protection is a record of why each sampled recording must stay,
// for a retention to come to honour, and what a release clears.
type recordingKeeper struct{ s *Server }

var _ report.Keeper = recordingKeeper{}

// Keeper returns the keeper of the boxes' recordings on the server.
func (s *Server) Keeper() report.Keeper { return recordingKeeper{s} }

// SetKeep records why id's recording is kept; "" removes the protection.
func (k recordingKeeper) SetKeep(ctx context.Context, id, reason string) error {
	boxID, recID, ok := SplitID(id)
	if !ok {
		return fmt.Errorf("keep recording of %q: not a box%srecord id: %w", id, IDSep, web.ErrNotFound)
	}
	var err error
	if reason == "" {
		_, err = k.s.pool.Exec(ctx, "DELETE FROM recording_keep WHERE box_id = $1 AND record_id = $2", boxID, recID)
	} else {
		_, err = k.s.pool.Exec(ctx, `INSERT INTO recording_keep (box_id, record_id, reason, set_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (box_id, record_id) DO UPDATE SET reason = EXCLUDED.reason, set_at = EXCLUDED.set_at`,
			boxID, recID, reason, k.s.now())
	}
	if err != nil {
		return fmt.Errorf("keep recording of %s: %w", id, err)
	}
	return nil
}

// Kept returns why id's recording is kept, "" if it is not.
func (k recordingKeeper) Kept(ctx context.Context, id string) (string, error) {
	boxID, recID, ok := SplitID(id)
	if !ok {
		return "", nil
	}
	var reason string
	err := k.s.pool.QueryRow(ctx, "SELECT reason FROM recording_keep WHERE box_id = $1 AND record_id = $2", boxID, recID).Scan(&reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("kept recording of %s: %w", id, err)
	}
	return reason, nil
}
