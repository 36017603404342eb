package daemon

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/uplink"
)

// TestRetentionUploadProtection runs the recorder's Sweep with the
// daemon's protection: a sampled recording past its age survives while
// the central server lacks it and goes once the server verified it; a
// recording of no sample goes at once, unless every recording goes up
// (uplink.recordings: all) and it has not yet; without an uplink a
// sampled one is never deleted.
func TestRetentionUploadProtection(t *testing.T) {
	ctx := context.Background()
	up := uplink.Config{URL: "https://central.example", Token: "stb_x"}
	for _, tc := range []struct {
		name     string
		up       uplink.Config
		mode     string
		uploaded bool
		// survivors after the sweep
		want map[string]bool
	}{
		{"no uplink", uplink.Config{}, "", false, map[string]bool{"kept": true, "plain": false}},
		{"sampled, not uploaded", up, "", false, map[string]bool{"kept": true, "plain": false}},
		{"sampled, uploaded", up, "", true, map[string]bool{"kept": false, "plain": false}},
		{"all, not uploaded", up, uplink.RecordingsAll, false, map[string]bool{"kept": true, "plain": true}},
		{"all, uploaded", up, uplink.RecordingsAll, true, map[string]bool{"kept": false, "plain": false}},
		{"off", up, uplink.RecordingsOff, true, map[string]bool{"kept": true, "plain": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recDir := t.TempDir()
			store, err := storage.Open(t.TempDir(), storage.WithLogger(discard()))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			old := now.Add(-200 * 24 * time.Hour)
			for _, id := range []string{"kept", "plain"} {
				rel := filepath.Join("2026", "05", "15", id+".wav")
				p := filepath.Join(recDir, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("RIFF....WAVE"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, old, old); err != nil {
					t.Fatal(err)
				}
				end := old.Add(time.Minute)
				if err := store.PutCall(ctx, sip.Call{ID: id, CallID: id, InviteAt: old, EndedAt: &end, Recording: &sip.Recording{File: rel}}); err != nil {
					t.Fatal(err)
				}
				if tc.uploaded {
					if _, err := store.QueueRecording(ctx, storage.RecJob{RecordID: id, File: rel, SHA256: sha64, Size: 12}); err != nil {
						t.Fatal(err)
					}
					if err := store.RecordingDone(ctx, id, storage.RecDone{SHA256: sha64, At: now}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := store.SetKeep(ctx, "kept", "sampled 2026-05"); err != nil {
				t.Fatal(err)
			}
			rec, err := recorder.New(recorder.Config{Dir: recDir, MaxAge: 90 * 24 * time.Hour, Now: func() time.Time { return now }}, discard())
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Close()
			cfg := tc.up
			cfg.Recordings = tc.mode
			if _, err := rec.Sweep(ctx, protectedFunc(ctx, store, cfg)); err != nil {
				t.Fatal(err)
			}
			for id, want := range tc.want {
				_, err := os.Stat(filepath.Join(recDir, "2026", "05", "15", id+".wav"))
				if got := err == nil; got != want {
					t.Errorf("%s survives: %v, want %v", id, got, want)
				}
			}
		})
	}
}

// sha64 is a well-formed hash for the queue (the file's content does not
// matter to retention).
const sha64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
