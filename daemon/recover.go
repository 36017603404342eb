package daemon

import (
	"context"
	"errors"
	"log/slog"
	"os"

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
	Call(ctx context.Context, id string) (sip.Call, error)
}

// recovery counts what a start found of the previous run's crash.
type recovery struct {
	// Calls were in progress (their final record never stored): now
	// end_detail "crash". Recordings of them got their file attached,
	// NoAudio had none on disk.
	Calls, Recordings, NoAudio int
	// Repaired files were left half-written; Orphans of them name no
	// record (answered and killed before even the provisional record was
	// stored).
	Repaired, Orphans int
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
	for _, f := range repaired {
		if closed[f.ID] {
			continue
		}
		if _, err := st.Call(ctx, f.ID); errors.Is(err, storage.ErrNotFound) {
			rep.Orphans++
			log.Warn("repaired recording names no call record", "file", f.File)
		}
	}
	if rep.Calls > 0 || rep.Repaired > 0 {
		log.Warn("calls interrupted by a crash closed", "calls", rep.Calls, "recordings_attached", rep.Recordings,
			"no_audio", rep.NoAudio, "files_repaired", rep.Repaired, "files_without_record", rep.Orphans)
	}
	return rep
}
