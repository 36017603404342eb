package daemon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

// TestRecoverOrphanFiles is issue 9 §4's "every repaired recording is
// attached to its record" for the files no provisional record names: a
// file with no record at all gets one made from its name and its audio, a
// final record that points to no file (its writer failed after it was
// stored) gets the file, and what cannot be attached is counted and left.
// A second start changes nothing.
func TestRecoverOrphanFiles(t *testing.T) {
	at := time.Date(2026, 3, 2, 23, 59, 58, 123456789, time.UTC)
	id := sip.RecordID("lost@192.0.2.10", at)
	nextDay := at.Add(5 * time.Second) // answered after midnight
	writeFailed := crashedCall(sip.RecordID("final@192.0.2.10", at), at, true)
	writeFailed.EndReason, writeFailed.EndDetail, writeFailed.EndedAt = sip.EndCompleted, "bye", &nextDay
	writeFailed.Recording = &sip.Recording{NotRecordable: recorder.ReasonWriteError,
		Caller: &sip.StreamRecording{Codec: "PCMU", Packets: 250}}
	noObject := writeFailed
	noObject.Recording = nil
	elsewhere := writeFailed
	elsewhere.Recording = &sip.Recording{File: "2026/03/03/other.wav", DurationSeconds: 3}
	same := writeFailed
	same.Recording = &sip.Recording{File: "2026/03/03/" + writeFailed.ID + ".wav", DurationSeconds: 3}

	tests := []struct {
		name   string
		stored *sip.Call // a final record stored before the crash
		file   string    // the half-written file's id, under fileAt's day
		fileAt time.Time
		// want is the record after recovery (nil: none); rep the counts.
		want *sip.Call
		rep  recovery
	}{
		{name: "no record, answered after midnight", file: id, fileAt: nextDay,
			want: &sip.Call{ID: id, InviteAt: at, Direction: sip.DirectionUnknown, EndReason: sip.EndUnknown, EndDetail: tap.DetailCrash,
				Recording: &sip.Recording{File: "2026/03/03/" + id + ".wav", DurationSeconds: 0.5, NotRecordable: recorder.ReasonCrash}},
			rep: recovery{Repaired: 1, Created: 1}},
		{name: "no record, same day", file: id, fileAt: at,
			want: &sip.Call{ID: id, InviteAt: at, Direction: sip.DirectionUnknown, EndReason: sip.EndUnknown, EndDetail: tap.DetailCrash,
				Recording: &sip.Recording{File: "2026/03/02/" + id + ".wav", DurationSeconds: 0.5, NotRecordable: recorder.ReasonCrash}},
			rep: recovery{Repaired: 1, Created: 1}},
		{name: "no record, filed before its INVITE's day", file: id, fileAt: at.AddDate(0, 0, -1),
			rep: recovery{Repaired: 1, Orphans: 1}},
		{name: "no record, name not a record id", file: "20260302T235958-nothex", fileAt: at,
			rep: recovery{Repaired: 1, Orphans: 1}},
		{name: "final record, write failed", stored: &writeFailed, file: writeFailed.ID, fileAt: nextDay,
			want: func() *sip.Call {
				c := writeFailed
				c.Recording = &sip.Recording{File: "2026/03/03/" + c.ID + ".wav", DurationSeconds: 0.5,
					NotRecordable: recorder.ReasonWriteError, Caller: writeFailed.Recording.Caller}
				return &c
			}(),
			rep: recovery{Repaired: 1, Attached: 1}},
		{name: "final record, no recording object", stored: &noObject, file: noObject.ID, fileAt: nextDay,
			want: func() *sip.Call {
				c := noObject
				c.Recording = &sip.Recording{File: "2026/03/03/" + c.ID + ".wav", DurationSeconds: 0.5, NotRecordable: recorder.ReasonCrash}
				return &c
			}(),
			rep: recovery{Repaired: 1, Attached: 1}},
		{name: "final record names another file", stored: &elsewhere, file: elsewhere.ID, fileAt: nextDay,
			want: &elsewhere, rep: recovery{Repaired: 1, Orphans: 1}},
		{name: "final record names this file", stored: &same, file: same.ID, fileAt: nextDay,
			want: &same, rep: recovery{Repaired: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			st, err := storage.Open(cfg.DataDir, storage.WithLogger(discard()))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if tc.stored != nil {
				if err := st.PutCalls(ctx, []sip.Call{*tc.stored}); err != nil {
					t.Fatal(err)
				}
			}
			halfWAV(t, cfg.RecordingDir(), tc.fileAt, tc.file, 4000)

			if rep := recoverCrash(ctx, st, cfg, discard()); rep != tc.rep {
				t.Errorf("recovery %+v, want %+v", rep, tc.rep)
			}
			got, err := st.Call(ctx, tc.file)
			switch {
			case tc.want == nil:
				if !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("a record was made: %v %s", err, callJSON(t, got))
				}
			case err != nil:
				t.Fatal(err)
			default:
				if g, w := callJSON(t, got), callJSON(t, *tc.want); g != w {
					t.Errorf("record after recovery\n got %s\nwant %s", g, w)
				}
			}
			if again := recoverCrash(ctx, st, cfg, discard()); again != (recovery{}) {
				t.Errorf("second start found %+v", again)
			}
		})
	}
}

// TestInviteOfID: the INVITE time comes back from every id sip.RecordID
// makes, to the nanosecond, and from nothing else.
func TestInviteOfID(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 3, 2, 23, 59, 58, 123456789, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("CST", -6*3600)),
	} {
		id := sip.RecordID("a@b", at)
		got, ok := inviteOfID(id)
		if !ok || !got.Equal(at) {
			t.Errorf("inviteOfID(%q) = %v %v, want %v", id, got, ok, at)
		}
	}
	for _, id := range []string{
		"", "orphan", "load-0000001@pcapgen.example",
		"20260302T235958.123456789Z", "20260302T235958.123456789Z-", "20260302T235958.123456789Z-0123456789a",
		"20260302T235958.123456789Z-0123456789abc", "20260302T235958.123456789Z-0123456789AB",
		"20260302T235958Z-0123456789ab", "20261302T235958.123456789Z-0123456789ab",
	} {
		if at, ok := inviteOfID(id); ok {
			t.Errorf("inviteOfID(%q) = %v, want none", id, at)
		}
	}
}
