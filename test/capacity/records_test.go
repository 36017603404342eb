package capacity_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
	"github.com/switchtap/switchtap/internal/pcapgen"
)

// recordCheck is what the store holds of a load, against the generator's
// expectations.
type recordCheck struct {
	stored, missing, extra int
	// wrong counts records whose fields differ from the expectation;
	// incomplete those whose recording is missing or not exact.
	wrong, incomplete int
	peakConcurrent    int
	// allUp is when every call of the load was up at once, from the last
	// INVITE to the first end (the records' times: in a live capture,
	// the kernel's clock); zero when there was no such time.
	allUp [2]time.Time
}

// maxLogged bounds the examples logged of each kind of problem.
const maxLogged = 5

// checkRecords matches the records with the calls by Call-ID and checks
// each call's fields and recording (recDir holds the WAVs).
func checkRecords(t *testing.T, recs []nettest.Record, l load, recDir string) recordCheck {
	t.Helper()

	var rc recordCheck
	byID := make(map[string]nettest.Record, len(recs))
	for _, r := range recs {
		id := r.Str("call_id")
		if _, dup := byID[id]; dup {
			rc.extra++
			if rc.extra <= maxLogged {
				t.Logf("two records of %s", id)
			}
			continue
		}
		byID[id] = r
	}
	rc.stored = len(recs)
	packets := l.opts.RTPPackets()
	var spans [][2]int64
	for _, e := range l.calls {
		r, ok := byID[e.CallID]
		if !ok {
			rc.missing++
			if rc.missing <= maxLogged {
				t.Logf("%s: no record", e.CallID)
			}
			continue
		}
		delete(byID, e.CallID)
		if why := fieldProblem(r, e); why != "" {
			rc.wrong++
			if rc.wrong <= maxLogged {
				t.Logf("%s: %s", e.CallID, why)
			}
		}
		if why := recordingProblem(r, recDir, packets); why != "" {
			rc.incomplete++
			if rc.incomplete <= maxLogged {
				t.Logf("%s: recording %s", e.CallID, why)
			}
		}
		a, _ := r.Time("invite_at")
		b, _ := r.Time("ended_at")
		spans = append(spans, [2]int64{a.UnixNano(), b.UnixNano()})
	}
	for id := range byID {
		rc.extra++
		if rc.extra <= maxLogged {
			t.Logf("record of %s: no such call in the capture", id)
		}
	}
	// The calls up at once, from the records' own times: the live clock's,
	// compressed by the replay's speed.
	if len(spans) == len(l.calls) && len(spans) > 0 {
		lastIn, firstOut := spans[0][0], spans[0][1]
		for _, s := range spans {
			lastIn, firstOut = max(lastIn, s[0]), min(firstOut, s[1])
		}
		if lastIn < firstOut {
			rc.allUp = [2]time.Time{time.Unix(0, lastIn), time.Unix(0, firstOut)}
		}
	}
	for _, s := range spans {
		n := 0
		for _, o := range spans {
			if o[0] <= s[0] && o[1] > s[0] {
				n++
			}
		}
		rc.peakConcurrent = max(rc.peakConcurrent, n)
	}
	return rc
}

// fieldProblem compares the fields of a record that do not depend on the
// replay's timing with the expectation ("" when they agree). The times
// are the live clock's, so only their presence and order are checked.
func fieldProblem(r nettest.Record, e pcapgen.Expect) string {
	for k, want := range map[string]string{
		"from": e.From, "to": e.To, "end_reason": e.EndReason, "hangup_by": e.HangupBy, "transport": "udp",
	} {
		if got := r.Str(k); got != want {
			return fmt.Sprintf("%s = %q, want %q", k, got, want)
		}
	}
	inv, ok1 := r.Time("invite_at")
	ring, ok2 := r.Time("ringing_at")
	ans, ok3 := r.Time("answered_at")
	end, ok4 := r.Time("ended_at")
	if !ok1 || !ok2 || !ok3 || !ok4 || ring.Before(inv) || ans.Before(ring) || !end.After(ans) {
		return fmt.Sprintf("times invite %s ringing %s answered %s ended %s: want all, in order",
			nettest.Show(r["invite_at"], true), nettest.Show(r["ringing_at"], true), nettest.Show(r["answered_at"], true), nettest.Show(r["ended_at"], true))
	}
	return ""
}

// recordingProblem says what is wrong with a call's recording, "" when
// it is complete: the record names a WAV, each side counts every packet
// and lost none, and the WAV holds the talk exactly (talkProblem).
func recordingProblem(r nettest.Record, dir string, packets int) string {
	rc := r.Obj("recording")
	if rc == nil || rc.Str("file") == "" {
		return fmt.Sprintf("missing (%s)", nettest.Show(r["recording"], true))
	}
	if nr := rc.Str("not_recordable"); nr != "" {
		return "not recordable: " + nr
	}
	for _, side := range []string{"caller", "callee"} {
		got, _ := rc.Obj(side).Float("packets")
		lost, _ := rc.Obj(side).Float("lost")
		if got != float64(packets) || lost != 0 {
			return fmt.Sprintf("%s: %v packets, %v lost; want %d, 0", side, got, lost, packets)
		}
	}
	file := rc.Str("file")
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	ans, ok1 := r.Time("answered_at")
	end, ok2 := r.Time("ended_at")
	if !ok1 || !ok2 {
		return fmt.Sprintf("answered_at %s, ended_at %s: the file's span is unknown", nettest.Show(r["answered_at"], true), nettest.Show(r["ended_at"], true))
	}
	frames, why := talkProblem(b, packets, end.Sub(ans))
	if why != "" {
		return file + ": " + why
	}
	// The record's duration is the file's.
	if d, _ := rc.Float("duration_seconds"); d != float64(frames)/wavRate {
		return fmt.Sprintf("duration_seconds %v for a file of %d frames", d, frames)
	}
	return ""
}
