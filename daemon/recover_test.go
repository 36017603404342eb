package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/tap"
)

// crashedCall is a provisional record as the daemon stores it: ringing
// since at, answered 5 s later when answered.
func crashedCall(id string, at time.Time, answered bool) sip.Call {
	ring := at.Add(100 * time.Millisecond)
	c := sip.Call{
		ID: id, CallID: id + "@192.0.2.10", From: "22447000", To: "1001", InviteAt: at, RingingAt: &ring,
		EndReason: sip.EndUnknown, EndDetail: tap.DetailInProgress, RingSource: "180",
	}
	if answered {
		ans := at.Add(5 * time.Second)
		c.AnsweredAt, c.RingSeconds, c.Rings, c.WithinLimit = &ans, 4.9, 1, true
	}
	return c
}

// halfWAV leaves the ".part" a kill leaves: a μ-law stereo header of size 0
// and frames of audio after it.
func halfWAV(t *testing.T, dir string, answered time.Time, id string, frames int) {
	t.Helper()
	day := answered.UTC()
	d := filepath.Join(dir, day.Format("2006"), day.Format("01"), day.Format("02"))
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(4+8+18+12+8))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(18), uint16(7), uint16(2), uint32(8000), uint32(16000), uint16(2), uint16(8), uint16(0)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("fact")
	_ = binary.Write(&b, binary.LittleEndian, uint32(4))
	_ = binary.Write(&b, binary.LittleEndian, uint32(0))
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(0))
	b.Write(bytes.Repeat([]byte{0xFF}, 2*frames+1)) // one odd byte: cut mid-frame
	if err := os.WriteFile(filepath.Join(d, id+".wav.part"), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRecoverCrash is issue 9 §4 at the next start: each record left in
// progress by a crash is closed as unknown/"crash" with the recording its
// file gives (repaired, duration from the disk, packet counts unknown), a
// final record left marked is kept as it is, a repaired file that names no
// record is reported, and a second start changes nothing.
func TestRecoverCrash(t *testing.T) {
	at := time.Date(2026, 3, 2, 23, 59, 50, 0, time.UTC)
	final := crashedCall("final", at, true)
	final.EndReason, final.EndDetail, final.EndedAt = sip.EndCompleted, "bye", &at

	tests := []struct {
		name      string
		recording bool
		call      sip.Call
		wav       int // frames of the half-written file; 0 none
		// final, when set, is stored by PutCalls after the call's
		// provisional record: the call ended, its mark was left.
		final   *sip.Call
		wantRec *sip.Recording
	}{
		{name: "ringing", recording: true, call: crashedCall("ring", at, false)},
		{name: "answered, file half-written", recording: true, call: crashedCall("ans", at, true), wav: 16000,
			wantRec: &sip.Recording{File: "2026/03/02/ans.wav", DurationSeconds: 2, NotRecordable: recorder.ReasonCrash}},
		{name: "answer not stored, file left", recording: true, call: crashedCall("late", at, false), wav: 8000,
			wantRec: &sip.Recording{File: "2026/03/02/late.wav", DurationSeconds: 1, NotRecordable: recorder.ReasonCrash}},
		{name: "answered, no audio on disk", recording: true, call: crashedCall("mute", at, true),
			wantRec: &sip.Recording{NotRecordable: recorder.ReasonCrashNoAudio}},
		{name: "answered, recording off", recording: false, call: crashedCall("off", at, true)},
		{name: "ended, provisional record left", recording: true, call: crashedCall("final", at, true), final: &final},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			cfg.Recording.Enabled = tc.recording
			st, err := storage.Open(cfg.DataDir, storage.WithLogger(discard()))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.PutProgress(ctx, []sip.Call{tc.call}, nil); err != nil {
				t.Fatal(err)
			}
			if tc.final != nil {
				if err := st.PutCalls(ctx, []sip.Call{*tc.final}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.wav > 0 {
				fileAt := at
				if tc.call.AnsweredAt != nil {
					fileAt = *tc.call.AnsweredAt
				}
				halfWAV(t, cfg.RecordingDir(), fileAt, tc.call.ID, tc.wav)
			}
			// A file a crash left with no record at all.
			halfWAV(t, cfg.RecordingDir(), at, "orphan", 800)

			rep := recoverCrash(ctx, st, cfg, discard())
			want := tc.call
			want.EndReason, want.EndDetail, want.Recording = sip.EndUnknown, tap.DetailCrash, tc.wantRec
			wantCalls := 1
			if tc.final != nil {
				want, wantCalls = *tc.final, 0
			}
			got, err := st.Call(ctx, tc.call.ID)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := callJSON(t, got), callJSON(t, want); g != w {
				t.Errorf("record after recovery\n got %s\nwant %s", g, w)
			}
			wantFiles := 1
			if tc.wav > 0 {
				wantFiles = 2
			}
			attached := 0
			if tc.wantRec != nil && tc.wantRec.File != "" {
				attached = 1
			}
			if rep.Calls != wantCalls || rep.Repaired != wantFiles || rep.Orphans != 1 || rep.Recordings != attached {
				t.Errorf("recovery %+v", rep)
			}
			if open, _ := st.InProgress(ctx); len(open) != 0 {
				t.Errorf("%d calls still in progress", len(open))
			}
			if again := recoverCrash(ctx, st, cfg, discard()); again != (recovery{}) {
				t.Errorf("second start found %+v", again)
			}
		})
	}
}

func callJSON(t *testing.T, c sip.Call) string {
	t.Helper()
	c.Messages = nil
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNewClosesCrashedCalls: New runs the recovery before capture starts,
// and logs what it closed.
func TestNewClosesCrashedCalls(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Web.Listen, cfg.Metrics.Listen = "", ""
	cfg.Recording.MinFree = 0
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	st, err := storage.Open(cfg.DataDir, storage.WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutProgress(ctx, []sip.Call{crashedCall("a", at, true), crashedCall("b", at, false)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	halfWAV(t, cfg.RecordingDir(), at.Add(5*time.Second), "a", 8000)
	busy, _ := pcapgen.Lookup("busy")
	pcap := filepath.Join(t.TempDir(), "busy.pcap")
	if _, err := busy.WriteFile(pcap); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	d, err := New(ctx, Options{Config: cfg, Pcaps: []string{pcap}, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Argon: &access.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}})
	if err != nil {
		t.Fatal(err)
	}
	a, errA := d.store.Call(ctx, "a")
	b, errB := d.store.Call(ctx, "b")
	if err := d.close(); err != nil {
		t.Fatal(err)
	}
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if a.EndDetail != tap.DetailCrash || a.Recording == nil || a.Recording.File != "2026/03/02/a.wav" || a.Recording.DurationSeconds != 1 {
		t.Errorf("a after restart: %s %+v", a.EndDetail, a.Recording)
	}
	if b.EndDetail != tap.DetailCrash || b.Recording != nil {
		t.Errorf("b after restart: %s %+v", b.EndDetail, b.Recording)
	}
	if !strings.Contains(logs.String(), `msg="calls interrupted by a crash closed" component=recover calls=2 recordings_attached=1`) {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}
