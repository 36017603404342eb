package daemon

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

// crashStore is what recovery needs of the store.
type crashStore interface {
	InProgress(ctx context.Context) ([]sip.Call, error)
	PutProgress(ctx context.Context, open, done []sip.Call) error
	PutCalls(ctx context.Context, cs []sip.Call) error
	Call(ctx context.Context, id string) (sip.Call, error)
}

// recovery counts what a start found of the previous run's crash.
type recovery struct {
	// Calls were in progress (their final record never stored): now
	// end_detail "crash". Recordings of them got their file attached,
	// NoAudio had none on disk.
	Calls, Recordings, NoAudio int
	// Repaired files were left half-written. Of those no record left in
	// progress named: Created got a record made from the file (answered
	// and killed before even the provisional record was stored), Attached
	// were given to their final record, which pointed to no file (a write
	// that failed after it was stored); Orphans are attached to nothing
	// (a name that is no record id, or the store failed), and logged.
	Repaired, Created, Attached, Orphans int
}

// recoverCrash closes what a crash (kill -9, SIGBUS, power cut) left open,
// before capture starts (issue 9 §4): the recordings left half-written are
// repaired, and each provisional record left in the store gets end_reason
// unknown, end_detail "crash" (its end was never seen) and, when it was
// answered, the recording object of its file as left on disk. A failure is
// logged, not fatal: the daemon must start and capture (the provisional
// records stay and the next start tries again).
func recoverCrash(ctx context.Context, st crashStore, cfg config.Config, log *slog.Logger) recovery {
	var rep recovery
	dir := cfg.RecordingDir()
	_, statErr := os.Stat(dir)
	haveDir := statErr == nil
	var repaired []recorder.Repaired
	if haveDir {
		var err error
		repaired, err = recorder.RepairFiles(dir)
		if err != nil {
			log.Error("repair recordings", "dir", dir, "err", err)
		}
		rep.Repaired = len(repaired)
	}
	open, err := st.InProgress(ctx)
	if err != nil {
		log.Error("calls in progress at the last stop not read", "err", err)
		return rep
	}
	files := make(map[string]string, len(repaired))
	for _, f := range repaired {
		files[f.ID] = f.File
	}
	closed := make(map[string]bool, len(open))
	for i := range open {
		c := &open[i]
		closed[c.ID] = true
		if c.EndDetail != tap.DetailInProgress {
			// Not a provisional record of the tap's: stored as it is by
			// the write below.
			continue
		}
		rep.Calls++
		c.EndReason, c.EndDetail = sip.EndUnknown, tap.DetailCrash
		var rec *sip.Recording
		var err error
		switch {
		case c.AnsweredAt != nil && (cfg.Recording.Enabled || haveDir):
			rec, err = recorder.Recovered(dir, c.ID, *c.AnsweredAt)
		case files[c.ID] != "":
			// Answered, but the crash came before the record saying so
			// was stored: the file proves it; answered_at stays unknown.
			rec, err = recorder.RecoveredFile(dir, files[c.ID])
		default:
			continue
		}
		if err != nil {
			log.Warn("recording of a call interrupted by a crash not read", "id", c.ID, "err", err)
		}
		if rec.NotRecordable == recorder.ReasonCrashNoAudio && !cfg.Recording.Enabled {
			continue // not recorded at all: no recording object, as usual
		}
		c.Recording = rec
		if rec.File != "" || rec.Pcap != "" {
			rep.Recordings++
		} else {
			rep.NoAudio++
		}
	}
	if len(open) > 0 {
		if err := st.PutProgress(ctx, nil, open); err != nil {
			log.Error("calls interrupted by a crash not closed", "calls", len(open), "err", err)
			return rep
		}
	}
	for _, c := range open {
		if c.EndDetail != tap.DetailCrash {
			continue
		}
		file := ""
		if c.Recording != nil {
			file = c.Recording.File
		}
		log.Info("call closed after a crash", "id", c.ID, "call_id", c.CallID, "answered", c.AnsweredAt != nil, "recording", file)
	}
	attachRepaired(ctx, st, dir, repaired, closed, &rep, log)
	if rep.Calls > 0 || rep.Repaired > 0 {
		log.Warn("calls interrupted by a crash closed", "calls", rep.Calls, "recordings_attached", rep.Recordings,
			"no_audio", rep.NoAudio, "files_repaired", rep.Repaired, "files_without_record", rep.Orphans,
			"records_made", rep.Created, "files_attached_to_final", rep.Attached)
	}
	return rep
}

// attachRepaired gives each repaired file that no record left in progress
// named (closed) to a record (issue 9 §4: every repaired recording is
// attached to its record). A final record that points to no file gets it,
// keeping its not_recordable (the writer failed after the record was
// stored: the file is what reached the disk). With no record at all, one
// is made from what the file tells (orphanCall). Files whose record
// already points to them, or to another file, are left as they are.
func attachRepaired(ctx context.Context, st crashStore, dir string, repaired []recorder.Repaired, closed map[string]bool,
	rep *recovery, log *slog.Logger) {
	var put []sip.Call
	var made []bool // put[i] was made from its file
	for _, f := range repaired {
		if closed[f.ID] {
			continue
		}
		rec, err := recorder.RecoveredFile(dir, f.File)
		if err != nil || (rec.File == "" && rec.Pcap == "") {
			rep.Orphans++
			log.Warn("repaired recording not readable, attached to no record", "file", f.File, "err", err)
			continue
		}
		c, err := st.Call(ctx, f.ID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			oc, ok := orphanCall(f, rec)
			if !ok {
				rep.Orphans++
				log.Warn("repaired recording names no call record", "file", f.File)
				continue
			}
			put, made = append(put, oc), append(made, true)
			continue
		case err != nil:
			rep.Orphans++
			log.Warn("record of a repaired recording not read", "file", f.File, "err", err)
			continue
		case c.Recording != nil && (c.Recording.File != "" || c.Recording.Pcap != ""):
			if c.Recording.File != f.File && c.Recording.Pcap != f.File {
				rep.Orphans++
				log.Warn("repaired recording not attached: its record names another file", "file", f.File,
					"record_file", c.Recording.File+c.Recording.Pcap)
			}
			continue
		case c.Recording == nil:
			c.Recording = rec
		default:
			r := *c.Recording
			r.File, r.Pcap, r.DurationSeconds = rec.File, rec.Pcap, rec.DurationSeconds
			if r.NotRecordable == "" {
				r.NotRecordable = rec.NotRecordable
			}
			c.Recording = &r
		}
		c.Messages = nil // kept apart by the store: left as they are
		put, made = append(put, c), append(made, false)
	}
	if len(put) == 0 {
		return
	}
	if err := st.PutCalls(ctx, put); err != nil {
		rep.Orphans += len(put)
		log.Error("repaired recordings not attached to their records", "files", len(put), "err", err)
		return
	}
	for i, c := range put {
		if made[i] {
			rep.Created++
			log.Info("call record made for a recording a crash left", "id", c.ID, "recording", c.Recording.File+c.Recording.Pcap)
			continue
		}
		rep.Attached++
		log.Info("repaired recording attached to its record", "id", c.ID, "recording", c.Recording.File+c.Recording.Pcap,
			"not_recordable", c.Recording.NotRecordable)
	}
}

// recordIDLayout is the time part of a record id (sip.RecordID: the
// INVITE time, "-", 12 hex digits of the Call-ID's SHA-256).
const recordIDLayout = "20060102T150405.000000000Z"

// inviteOfID returns the INVITE time a record id was made from.
func inviteOfID(id string) (time.Time, bool) {
	ts, hash, ok := strings.Cut(id, "-")
	if !ok || len(hash) != 12 || strings.Trim(hash, "0123456789abcdef") != "" {
		return time.Time{}, false
	}
	at, err := time.Parse(recordIDLayout, ts)
	if err != nil {
		return time.Time{}, false
	}
	return at, true
}

// orphanCall is the record of a leg known only by the recording a crash
// left: the file is named after the record id, which gives the INVITE
// time, and lies under the day it was answered; the audio proves it was
// answered and talked. What the lost SIP messages said (Call-ID, parties,
// ringing and answer times, how it ended) is unknown and left empty:
// end_reason unknown, end_detail "crash", as for a provisional record
// closed at a restart.
func orphanCall(f recorder.Repaired, rec *sip.Recording) (sip.Call, bool) {
	at, ok := inviteOfID(f.ID)
	if !ok {
		return sip.Call{}, false
	}
	// The answer day (the file's directory) is not before the INVITE's.
	day, err := time.Parse("2006/01/02", path.Dir(f.File))
	if err != nil || day.Before(at.Truncate(24*time.Hour)) {
		return sip.Call{}, false
	}
	return sip.Call{
		ID: f.ID, InviteAt: at, Direction: sip.DirectionUnknown,
		EndReason: sip.EndUnknown, EndDetail: tap.DetailCrash, Recording: rec,
	}, true
}
