package tap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
)

// The recorder is its own mediaSink: inline, the pipeline calls it with
// one dispatch a packet, not through inlineMedia.
var _ mediaSink = (*recorder.Recorder)(nil)

// callLog is a MediaRecorder that writes down every call the pipeline
// makes on the recorder, with its arguments and what the recorder
// answered, and passes it on to a real one.
type callLog struct {
	rec *recorder.Recorder
	mu  sync.Mutex
	log []string
}

func (l *callLog) add(format string, args ...any) {
	l.mu.Lock()
	l.log = append(l.log, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *callLog) Media(callID string, at time.Time, fromCaller, early bool, sdp []byte) {
	l.add("media %s %s %v %v %08x", callID, at.Format(time.RFC3339Nano), fromCaller, early, crc32.ChecksumIEEE(sdp))
	l.rec.Media(callID, at, fromCaller, early, sdp)
}

func (l *callLog) Answered(callID, recordID string, at time.Time) {
	l.add("answered %s %s %s", callID, recordID, at.Format(time.RFC3339Nano))
	l.rec.Answered(callID, recordID, at)
}

func (l *callLog) Packet(d *capture.Datagram) bool {
	ok := l.rec.Packet(d)
	l.add("packet %s %s>%s %d %08x %v", d.Time.Format(time.RFC3339Nano), d.Src, d.Dst, len(d.Payload), crc32.ChecksumIEEE(d.Payload), ok)
	return ok
}

func (l *callLog) End(callID string, at time.Time) *sip.Recording {
	r := l.rec.End(callID, at)
	b, _ := json.Marshal(r)
	l.add("end %s %s %s", callID, at.Format(time.RFC3339Nano), b)
	return r
}

func (l *callLog) Advance(now time.Time) {
	l.add("advance %s", now.Format(time.RFC3339Nano))
	l.rec.Advance(now)
}

func (l *callLog) Analysis(callID string) (*sip.Speech, *sip.Quality) {
	sp, q := l.rec.Analysis(callID)
	b, _ := json.Marshal([]any{sp, q})
	l.add("analysis %s %s", callID, b)
	return sp, q
}

func (l *callLog) OfferRefused(callID string, at time.Time, fromCaller bool) {
	l.add("refused %s %s %v", callID, at.Format(time.RFC3339Nano), fromCaller)
	l.rec.OfferRefused(callID, at, fromCaller)
}

// stagedRun is one replay of a capture with the recorder inline or on its
// goroutine: the recorder's calls, the records as the output got them (in
// order), the closed consumers' records, and the recordings' folder.
type stagedRun struct {
	calls   []string
	records []string
	closed  []string
	dir     string
	waits   uint64 // Stats.RecorderWaits
}

func replayStaged(t *testing.T, pcap string, staged bool, maxOps, maxBytes int) stagedRun {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	rec, err := recorder.New(recorder.Config{Dir: dir}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	log := &callLog{rec: rec}
	var run stagedRun
	var mu sync.Mutex
	asJSON := func(c sip.Call) string {
		b, err := json.Marshal(c)
		if err != nil {
			t.Error(err)
		}
		return string(b)
	}
	opts := []PipelineOption{WithRecorder(log), WithClosed(func(c sip.Call) {
		mu.Lock()
		run.closed = append(run.closed, asJSON(c))
		mu.Unlock()
	})}
	if staged {
		opts = append(opts, WithRecorderGoroutine())
	}
	p := NewPipeline(sip.DefaultTrackerConfig(), func(c sip.Call) {
		mu.Lock()
		run.records = append(run.records, asJSON(c))
		mu.Unlock()
	}, quiet, opts...)
	if staged {
		if p.stage == nil {
			t.Fatal("WithRecorderGoroutine made no stage")
		}
		p.stage.maxOps, p.stage.maxBytes = maxOps, maxBytes
	}
	if err := Replay(context.Background(), src, p); err != nil {
		t.Fatal(err)
	}
	if staged && p.stage.running {
		t.Error("the stage's goroutine still runs after Replay's Flush")
	}
	run.waits = p.Stats().RecorderWaits
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	run.calls = slices.Clone(log.log)
	log.mu.Unlock()
	run.dir = dir
	return run
}

// stageCaptures are the captures the stage is checked on: every synthetic
// scenario (holds, re-INVITEs refused, transfers, TCP, IPv6, tunnels...),
// and a load of calls overlapping, so that batches hold many legs' packets.
func stageCaptures(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	out := map[string]string{}
	for _, sc := range pcapgen.Scenarios() {
		path := filepath.Join(dir, sc.Name+".pcap")
		if _, err := sc.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		out[sc.Name] = path
	}
	load := filepath.Join(dir, "load.pcap")
	if err := pcapgen.WriteFile(load, func(w *pcapgen.Writer) error {
		_, _, err := pcapgen.LoadWith(w, 60, pcapgen.BaseTime(), pcapgen.LoadOptions{Interval: 50 * time.Millisecond, Ring: time.Second, Talk: 4 * time.Second})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	out["load"] = load
	return out
}

// TestRecorderGoroutineSameAsInline: with the recorder on a goroutine of
// its own, it gets exactly the calls it gets inline, in the same order,
// with the same arguments and capture times, and answers the same; the
// output gets the same records in the same order, the closed consumers
// too; the WAV files are the same bytes. Batches are bounded small as
// well as by default, so that batches are handed over mid-batch and grow
// while the stage is busy.
func TestRecorderGoroutineSameAsInline(t *testing.T) {
	caps := []struct {
		name             string
		maxOps, maxBytes int
	}{
		{"default", stageMaxOps, stageMaxBytes},
		{"small", 7, 1500},
		{"one", 1, 1},
	}
	for name, pcap := range stageCaptures(t) {
		t.Run(name, func(t *testing.T) {
			inline := replayStaged(t, pcap, false, 0, 0)
			if len(inline.records) == 0 {
				t.Fatal("no record")
			}
			for _, c := range caps {
				t.Run(c.name, func(t *testing.T) {
					staged := replayStaged(t, pcap, true, c.maxOps, c.maxBytes)
					sameLines(t, "recorder call", inline.calls, staged.calls)
					sameLines(t, "record", inline.records, staged.records)
					sameLines(t, "closed record", inline.closed, staged.closed)
					if wavs := sameFiles(t, inline.dir, staged.dir); name == "load" && wavs != 60 {
						t.Errorf("%d WAVs compared for the 60 answered calls of the load", wavs)
					}
					if inline.waits != 0 {
						t.Errorf("%d recorder waits inline", inline.waits)
					}
					// A batch of one op is full at every packet: over
					// hundreds of them the pipeline finds the stage still
					// at the last one.
					if c.maxOps == 1 && len(staged.calls) >= 100 && staged.waits == 0 {
						t.Error("batches of one op, no recorder wait counted")
					}
					t.Logf("%d recorder calls, %d records, %d waits", len(staged.calls), len(staged.records), staged.waits)
				})
			}
		})
	}
}

func sameLines(t *testing.T, what string, want, got []string) {
	t.Helper()
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			t.Fatalf("%s %d of %d differs:\ninline: %s\nstaged: %s", what, i, len(want), want[i], got[i])
		}
	}
	if len(want) != len(got) {
		t.Fatalf("%d %ss inline, %d staged", len(want), what, len(got))
	}
}

// sameFiles checks that two recordings folders hold the same files with
// the same bytes, and returns how many of them are WAVs.
func sameFiles(t *testing.T, a, b string) int {
	t.Helper()
	list := func(dir string) map[string][]byte {
		out := map[string][]byte{}
		err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			data, err := os.ReadFile(path)
			out[rel] = data
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	fa, fb := list(a), list(b)
	wavs := 0
	for name, data := range fa {
		if strings.HasSuffix(name, ".wav") {
			wavs++
		}
		other, ok := fb[name]
		if !ok {
			t.Errorf("%s recorded inline only", name)
			continue
		}
		if !bytes.Equal(data, other) {
			t.Errorf("%s: %d bytes inline, %d staged, not the same", name, len(data), len(other))
		}
	}
	for name := range fb {
		if _, ok := fa[name]; !ok {
			t.Errorf("%s recorded staged only", name)
		}
	}
	return wavs
}

// TestRecorderGoroutineRecordsAfterFlush: every record queued reaches the
// output before Flush returns, and the stage's goroutine is stopped; a
// pipeline fed again after Flush starts it again.
func TestRecorderGoroutineRecordsAfterFlush(t *testing.T) {
	pcap := stageCaptures(t)["load"]
	run := replayStaged(t, pcap, true, stageMaxOps, stageMaxBytes)
	ids := map[string]bool{}
	for _, r := range run.records {
		var c sip.Call
		if err := json.Unmarshal([]byte(r), &c); err != nil {
			t.Fatal(err)
		}
		ids[c.ID] = true
		if c.AnsweredAt != nil && (c.Recording == nil || c.Recording.File == "") {
			t.Errorf("%s answered, its record has no recording: %+v", c.CallID, c.Recording)
		}
	}
	if len(ids) != 60 {
		t.Fatalf("%d calls' records by the end of Replay, want 60", len(ids))
	}
}
