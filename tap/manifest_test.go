package tap_test

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// replayFiles runs capture files through a fresh pipeline.
func replayFiles(t testing.TB, cfg sip.TrackerConfig, files ...string) ([]sip.Call, tap.Stats) {
	t.Helper()
	src, err := capture.OpenFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var col tap.Collector
	p := tap.NewPipeline(cfg, col.Add, discard())
	if err := tap.Replay(context.Background(), src, p); err != nil {
		t.Fatal(err)
	}
	return col.Calls(), p.Stats()
}

// manifestTime reads tshark's "seconds.micros" into a time; "" is zero.
func manifestTime(t *testing.T, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		t.Fatalf("bad time %q", s)
	}
	frac = (frac + "000000")[:6]
	us, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		t.Fatalf("bad time %q", s)
	}
	return time.Unix(secs, us*1000).UTC()
}

// sameMicro compares a record's time (ns) with the manifest's, to the µs.
// The manifest's µs were rounded from float64 seconds, whose spacing near
// 1.5e9 s is 238 ns (e.g. frame time …201642498 ns is listed as …201643
// µs), so a difference under 1 µs is the same µs; 1 µs or more is not.
func sameMicro(got *time.Time, want time.Time) bool {
	if want.IsZero() {
		return got == nil
	}
	if got == nil {
		return false
	}
	d := got.Sub(want)
	return d > -time.Microsecond && d < time.Microsecond
}

func fmtTime(p *time.Time) string {
	if p == nil {
		return "null"
	}
	return p.UTC().Format(time.RFC3339Nano)
}

// TestSharedCaptures checks every call of every public capture against the
// message times tshark reports for it (../shared/pcaps/MANIFEST.md), to
// the microsecond: first INVITE, first 180 (or the 183 standing in for it),
// first 200 OK to the INVITE, first BYE, CANCEL.
func TestSharedCaptures(t *testing.T) {
	dir := testenv.SharedPcaps(t)
	manifests, err := filepath.Glob(filepath.Join(dir, "*.calls.csv"))
	if err != nil || len(manifests) == 0 {
		t.Fatalf("no manifests in %s", dir)
	}
	for _, mf := range manifests {
		base := strings.TrimSuffix(filepath.Base(mf), ".calls.csv")
		t.Run(base, func(t *testing.T) {
			pcaps, _ := filepath.Glob(filepath.Join(dir, base+".pcap*"))
			if len(pcaps) != 1 {
				t.Fatalf("want one capture for %s, found %v", base, pcaps)
			}
			calls, st := replayFiles(t, sip.DefaultTrackerConfig(), pcaps[0])
			byID := map[string][]sip.Call{}
			for _, c := range calls {
				byID[c.CallID] = append(byID[c.CallID], c)
			}
			rows := readManifest(t, mf)
			if len(rows) == 0 {
				t.Fatal("empty manifest")
			}
			for _, r := range rows {
				legs := byID[r["call_id"]]
				if len(legs) != 1 {
					t.Errorf("%s: want 1 record, got %d", r["call_id"], len(legs))
					continue
				}
				checkRow(t, r, legs[0])
			}
			if len(byID) != len(rows) {
				t.Errorf("records for %d Call-IDs, manifest has %d", len(byID), len(rows))
			}
			t.Logf("%d calls, %d SIP messages, %d rejected", len(rows), st.SIPMessages, sumErrors(st.SIPErrors))
		})
	}
}

func sumErrors(m map[string]uint64) (n uint64) {
	for _, v := range m {
		n += v
	}
	return n
}

func readManifest(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		r := map[string]string{}
		for i, h := range recs[0] {
			r[h] = rec[i]
		}
		rows = append(rows, r)
	}
	return rows
}

func checkRow(t *testing.T, r map[string]string, c sip.Call) {
	t.Helper()
	id := r["call_id"]
	invite := manifestTime(t, r["invite"])
	if !sameMicro(&c.InviteAt, invite) {
		t.Errorf("%s invite_at %s, tshark %s", id, c.InviteAt.Format(time.RFC3339Nano), invite.Format(time.RFC3339Nano))
	}
	first18x := manifestTime(t, r["first_18x"])
	switch {
	case r["code_18x"] == "180" || (r["code_18x"] == "183" && c.RingSource == "183"):
		if !sameMicro(c.RingingAt, first18x) {
			t.Errorf("%s ringing_at %s, tshark first %s %s", id, fmtTime(c.RingingAt), r["code_18x"], first18x.Format(time.RFC3339Nano))
		}
	case r["code_18x"] == "":
		if c.RingingAt != nil {
			t.Errorf("%s ringing_at %s, tshark saw no 18x", id, fmtTime(c.RingingAt))
		}
	default:
		// A 181/182/183 first and a 180 later: ringing starts at the 180.
		if c.RingingAt == nil || c.RingingAt.Before(first18x) {
			t.Errorf("%s ringing_at %s before first %s at %s", id, fmtTime(c.RingingAt), r["code_18x"], first18x.Format(time.RFC3339Nano))
		}
	}
	if ok := manifestTime(t, r["ok_200_invite"]); !sameMicro(c.AnsweredAt, ok) {
		t.Errorf("%s answered_at %s, tshark %s", id, fmtTime(c.AnsweredAt), r["ok_200_invite"])
	}
	if bye := manifestTime(t, r["bye"]); !sameMicro(c.ByeAt, bye) {
		t.Errorf("%s bye_at %s, tshark %s", id, fmtTime(c.ByeAt), r["bye"])
	}
	if cancel := manifestTime(t, r["cancel"]); !cancel.IsZero() && c.AnsweredAt == nil {
		if !sameMicro(c.EndedAt, cancel) || c.EndReason != sip.EndAbandoned {
			t.Errorf("%s ended_at %s (%s), tshark CANCEL %s", id, fmtTime(c.EndedAt), c.EndReason, r["cancel"])
		}
	}
	// Whatever ended the leg cannot precede its INVITE.
	if c.EndedAt != nil && c.EndedAt.Before(c.InviteAt) {
		t.Errorf("%s ended before its INVITE", id)
	}
}
