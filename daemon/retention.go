package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/uplink"
)

// retention applies the recordings' retention every sweep_every, never
// deleting a recording the store protects, and logs each deletion in the
// store.
type retention struct {
	st  *state
	log *slog.Logger
	now func() time.Time
}

func (r *retention) Run(ctx context.Context) error {
	st := r.st
	protected := protectedFunc(ctx, st.store, st.cfg.Uplink)
	t := time.NewTicker(st.cfg.Recording.SweepEvery)
	defer t.Stop()
	for {
		st.measureRecordings()
		deleted, err := st.rec.Sweep(ctx, protected)
		if err != nil && ctx.Err() == nil {
			r.log.Error("retention sweep", "err", err)
		}
		if len(deleted) > 0 {
			now := r.now().UTC()
			ds := make([]storage.Deletion, 0, len(deleted))
			for _, x := range deleted {
				ds = append(ds, storage.Deletion{At: now, RecordID: x.RecordID, Path: x.Path, Bytes: x.Bytes, Reason: x.Reason})
			}
			// Not ctx: files already deleted must be logged even at shutdown.
			if err := st.store.PutDeletions(context.WithoutCancel(ctx), ds); err != nil {
				r.log.Error("log deletions", "err", err)
			}
			r.log.Info("recordings deleted by retention", "count", len(deleted))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// protectedFunc returns Sweep's protection. Without recordings going to
// the central server, a recording with a keep flag (sampled, evaluated)
// is never deleted. With them (issue 11) the central server becomes its
// keeper: a recording is kept while it is queued, or flagged and not yet
// verified by the server, or (uplink.recordings: all) not yet uploaded;
// once the server holds it, the box's retention may let it go. In doubt
// (a store error) it is kept.
func protectedFunc(ctx context.Context, store *storage.Store, up uplink.Config) func(id string) bool {
	if !up.Enabled() || up.RecordingsMode() == uplink.RecordingsOff {
		return func(id string) bool {
			reason, err := store.Kept(ctx, id)
			return err != nil || reason != ""
		}
	}
	all := up.RecordingsMode() == uplink.RecordingsAll
	return func(id string) bool {
		pending, err := store.RecordingPending(ctx, id, all)
		return err != nil || pending
	}
}
