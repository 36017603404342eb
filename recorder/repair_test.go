package recorder

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestRecovered is issue 9 §4's second half, in the recorder: after a
// crash, each interrupted leg's record gets the recording object of the
// file left on disk (repaired), or says why there is none; the packet
// counts are unknown and the reason says so.
func TestRecovered(t *testing.T) {
	const id = "20260304T101010.000000000Z-0123456789ab"
	answered := time.Date(2026, 3, 4, 10, 10, 20, 0, time.UTC)
	day := filepath.Join("2026", "03", "04")
	// write leaves what a crash leaves in dir.
	writeWAV := func(t *testing.T, dir, name string, frames int, finish bool) {
		t.Helper()
		w, err := createWAV(filepath.Join(dir, day, name), formatULaw)
		if err != nil {
			t.Fatal(err)
		}
		lr := make([]int16, frames)
		fill(lr, 0x55)
		if err := w.frames(lr, lr); err != nil {
			t.Fatal(err)
		}
		if finish {
			if err := finishInPlace(w); err != nil {
				t.Fatal(err)
			}
			return
		}
		w.abort()
	}
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string)
		repaired []Repaired
		file     string
		pcap     string
		seconds  float64
		reason   string
	}{
		{
			name:     "wav left half-written",
			setup:    func(t *testing.T, dir string) { writeWAV(t, dir, id+".wav", 12000, false) },
			repaired: []Repaired{{File: "2026/03/04/" + id + ".wav", ID: id}},
			file:     "2026/03/04/" + id + ".wav", seconds: 1.5, reason: ReasonCrash,
		},
		{
			name:  "wav finished, record not stored",
			setup: func(t *testing.T, dir string) { writeWAV(t, dir, id+".wav", 4000, true) },
			file:  "2026/03/04/" + id + ".wav", seconds: 0.5, reason: ReasonCrash,
		},
		{
			name: "rtp kept as pcap",
			setup: func(t *testing.T, dir string) {
				p, err := createPcap(filepath.Join(dir, day, id+".pcap"))
				if err != nil {
					t.Fatal(err)
				}
				_ = p.bw.Flush()
				_ = p.f.Close()
			},
			repaired: []Repaired{{File: "2026/03/04/" + id + ".pcap", ID: id}},
			pcap:     "2026/03/04/" + id + ".pcap", reason: ReasonCrash,
		},
		{
			name: "header never reached the disk",
			setup: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, day, id+".wav.part"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			reason: ReasonCrashNoAudio,
		},
		{
			name: "garbage",
			setup: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, day, id+".wav.part"), make([]byte, 64), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			reason: ReasonCrashBroken,
		},
		{
			name:   "no file",
			setup:  func(*testing.T, string) {},
			reason: ReasonCrashNoAudio,
		},
		{
			name:   "another leg's file",
			setup:  func(t *testing.T, dir string) { writeWAV(t, dir, "other.wav", 8000, false) },
			reason: ReasonCrashNoAudio, repaired: []Repaired{{File: "2026/03/04/other.wav", ID: "other"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, day), 0o700); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, dir)
			got, _ := RepairFiles(dir)
			if !slices.Equal(got, tc.repaired) {
				t.Errorf("repaired %v, want %v", got, tc.repaired)
			}
			rec, err := Recovered(dir, id, answered)
			if err != nil {
				t.Fatal(err)
			}
			if rec.File != tc.file || rec.Pcap != tc.pcap || rec.DurationSeconds != tc.seconds || rec.NotRecordable != tc.reason {
				t.Errorf("recording %+v, want file %q pcap %q %v s %q", rec, tc.file, tc.pcap, tc.seconds, tc.reason)
			}
			if rec.Caller != nil || rec.Callee != nil {
				t.Errorf("packet counts invented: %+v %+v", rec.Caller, rec.Callee)
			}
			if rec.File != "" {
				checkReaders(t, filepath.Join(dir, rec.File), 2, int(tc.seconds*sampleRate))
			}
		})
	}
}

// TestRecoveredFromRecorder: the recorder killed in the middle of a leg
// (no End, no Close) leaves a file that Repair and Recovered turn into the
// leg's recording, named after the record id given at the answer.
func TestRecoveredFromRecorder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, Config{Dir: dir})
	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", g711Attrs), sdpBody(calleeAddr, "RTP/AVP", "0", g711Attrs))
	l := &talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
	rt := &talker{src: calleeAddr, dst: callerAddr, ssrc: 2}
	// 4 s of audio: past the writer's buffer, so most of it is on disk.
	for i := range 200 {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		l.send(t, r, at, 0x10)
		rt.send(t, r, at, 0x20)
		r.Advance(at)
	}
	// The crash: the process is gone, its file is still ".part", with
	// what the writer goroutine had written.
	writeOut(t, r)
	fs, err := RepairFiles(dir)
	if err != nil || len(fs) != 1 || fs[0].ID != "rec-1" {
		t.Fatalf("RepairFiles = %v, %v", fs, err)
	}
	rec, err := Recovered(dir, "rec-1", t0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.File != fs[0].File || rec.DurationSeconds < 1 || rec.DurationSeconds > 4 || rec.NotRecordable != ReasonCrash {
		t.Errorf("recording %+v", rec)
	}
	checkReaders(t, filepath.Join(dir, rec.File), 2, int(rec.DurationSeconds*sampleRate))
}
