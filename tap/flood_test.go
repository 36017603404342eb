package tap_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

var (
	floodAddr = netip.MustParseAddrPort("198.51.100.66:5060")
	pbxAddr   = netip.MustParseAddrPort("192.0.2.10:5060")
	deskAddr  = netip.MustParseAddrPort("192.0.2.20:5060")
)

type floodPkt struct {
	at       time.Time
	src, dst netip.AddrPort
	b        []byte
}

// floodCapture builds the packets of a flood of n INVITEs at rate per
// second from floodAddr to extension 1001 (each refused with code, or
// unanswered for 0), and of real answered calls from the PBX every gap
// from the flood's start until after its end.
func floodCapture(n, rate, code, real int, gap time.Duration) ([]floodPkt, []string) {
	t0 := pcapgen.BaseTime()
	var ps []floodPkt
	add := func(at time.Time, src, dst netip.AddrPort, b []byte) {
		ps = append(ps, floodPkt{at, src, dst, b})
	}
	desk := pcapgen.Party{User: "1001", Name: "Recepción 1", Addr: deskAddr}
	step := time.Second / time.Duration(rate)
	for i := range n {
		at := t0.Add(time.Duration(i) * step)
		id := fmt.Sprintf("flood-%07d@198.51.100.66", i)
		d := &pcapgen.Dialog{CallID: id, Caller: pcapgen.Party{User: "100", Addr: floodAddr}, Callee: desk,
			FromTag: fmt.Sprintf("f%d", i), ToTag: fmt.Sprintf("t%d", i)}
		inv := d.Invite(pcapgen.WithoutSDP())
		add(at, floodAddr, deskAddr, inv.Bytes)
		if code != 0 {
			add(at.Add(step/2), deskAddr, floodAddr, d.Response(code, "Busy Here", inv))
		}
	}
	var ids []string
	for i := range real {
		at := t0.Add(time.Duration(i) * gap)
		id := fmt.Sprintf("real-%05d@192.0.2.10", i)
		ids = append(ids, id)
		d := &pcapgen.Dialog{CallID: id, Caller: pcapgen.Party{User: fmt.Sprintf("2244%04d", i), Addr: pbxAddr}, Callee: desk,
			FromTag: fmt.Sprintf("rf%d", i), ToTag: fmt.Sprintf("rt%d", i)}
		inv := d.Invite()
		add(at, pbxAddr, deskAddr, inv.Bytes)
		add(at.Add(10*time.Millisecond), deskAddr, pbxAddr, d.Response(100, "Trying", inv))
		add(at.Add(100*time.Millisecond), deskAddr, pbxAddr, d.Response(180, "Ringing", inv))
		add(at.Add(3*time.Second), deskAddr, pbxAddr, d.Response(200, "OK", inv))
		add(at.Add(3010*time.Millisecond), pbxAddr, deskAddr, d.Ack(inv, 200))
		bye := d.Bye(true)
		add(at.Add(20*time.Second), pbxAddr, deskAddr, bye.Bytes)
		add(at.Add(20010*time.Millisecond), deskAddr, pbxAddr, d.Response(200, "OK", bye))
	}
	slices.SortStableFunc(ps, func(a, b floodPkt) int { return a.at.Compare(b.at) })
	return ps, ids
}

func writeFlood(t testing.TB, ps []floodPkt) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flood.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgen.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := w.UDP(p.at, p.src, p.dst, p.b); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// replayFlood replays path with the receptionist of the scenarios
// configured and returns the records, the aggregates and the counters.
func replayFlood(t testing.TB, cfg sip.TrackerConfig, path string) ([]sip.Call, []sip.Aggregate, tap.Stats) {
	t.Helper()
	src, err := capture.OpenFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var col tap.Collector
	p := tap.NewPipeline(cfg, col.Add, discard(), tap.WithAggregates(col.AddAggregates))
	if err := tap.Replay(context.Background(), src, p); err != nil {
		t.Fatal(err)
	}
	return col.Calls(), col.Aggregates(), p.Stats()
}

func receptionistConfig() sip.TrackerConfig {
	cfg := sip.DefaultTrackerConfig()
	cfg.Receptionists = []sip.Receptionist{{Name: "ana", Extensions: []string{"1001"}}}
	return cfg
}

// TestReplayFloodThenRealCalls is issue 9 §2's first flood: 20,000
// unanswered INVITEs (10 s at 2,000/s) fill calls.max_open; before the
// fix 0 of 1,334 real calls after it were stored. Every real call placed
// during and after the flood must be a record, the flood's legs counted in
// aggregates naming its source, none of them a record.
func TestReplayFloodThenRealCalls(t *testing.T) {
	tests := []struct {
		name string
		cfg  sip.TrackerConfig
	}{
		{"receptionists configured", receptionistConfig()},
		{"default config", sip.DefaultTrackerConfig()},
	}
	ps, ids := floodCapture(20000, 2000, 0, 300, 100*time.Millisecond)
	path := writeFlood(t, ps)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, aggs, st := replayFlood(t, tt.cfg, path)
			byID := map[string]sip.Call{}
			for _, c := range calls {
				byID[c.CallID] = c
			}
			for _, id := range ids {
				c, ok := byID[id]
				if !ok || c.AnsweredAt == nil || c.EndReason != sip.EndCompleted {
					t.Fatalf("real call %s not recorded whole: %+v (%d records)", id, c, len(calls))
				}
			}
			if len(calls) != len(ids) {
				t.Errorf("%d records, want the %d real calls", len(calls), len(ids))
			}
			n := 0
			for _, a := range aggs {
				if a.Source != floodAddr.Addr().String() || !a.Flood {
					t.Errorf("aggregate %+v", a)
				}
				n += a.Legs
			}
			if n != 20000 || st.Tracker.Aggregated != 20000 || st.Tracker.DroppedFull != 0 || st.Tracker.Floods != 1 {
				t.Errorf("aggregated %d (stats %d), dropped %d, floods %d", n, st.Tracker.Aggregated, st.Tracker.DroppedFull, st.Tracker.Floods)
			}
		})
	}
}

// TestReplayFloodCostFlat: replays of 10k/20k/40k/80k unanswered INVITEs
// (max_open 200k) took 1.6 s / 6.4 s / 48 s / 311 s before the fix, and
// 40k INVITE+486 pairs 184 s; the time per INVITE must now be flat (×4
// allowed from the smallest to the largest, against ×24 before). The
// sizes take turns, best of three each, so a busy machine slows them
// alike.
func TestReplayFloodCostFlat(t *testing.T) {
	tests := []struct {
		name string
		code int
		ns   []int
	}{
		{"unanswered", 0, []int{10000, 20000, 40000, 80000}},
		{"INVITE+486", 486, []int{10000, 40000}},
	}
	cfg := sip.DefaultTrackerConfig()
	cfg.MaxCalls = 200000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paths := make([]string, len(tt.ns))
			for i, n := range tt.ns {
				ps, _ := floodCapture(n, 2000, tt.code, 0, 0)
				paths[i] = writeFlood(t, ps)
			}
			best := make([]time.Duration, len(tt.ns))
			for range 3 {
				for i, n := range tt.ns {
					start := time.Now()
					_, aggs, _ := replayFlood(t, cfg, paths[i])
					c := time.Since(start) / time.Duration(n)
					if len(aggs) == 0 {
						t.Fatal("no aggregates")
					}
					if best[i] == 0 || c < best[i] {
						best[i] = c
					}
				}
			}
			for i, n := range tt.ns {
				t.Logf("%d INVITEs: %v per INVITE, %v in all", n, best[i], best[i]*time.Duration(n))
				if best[i] > 4*best[0] {
					t.Errorf("%d INVITEs: %v per INVITE, more than 4× the %v at %d", n, best[i], best[0], tt.ns[0])
				}
			}
		})
	}
}
