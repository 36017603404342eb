package central

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/web"
)

// badgerOf is a board's store holding the boxes' records under their
// GlobalIDs: what report.Figures reads on a box.
func badgerOf(t *testing.T, boxes ...*fixtureBox) *storage.Store {
	t.Helper()
	st, err := storage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var cs []sip.Call
	for _, b := range boxes {
		for _, c := range b.calls {
			c.ID = GlobalID(b.id, c.ID)
			cs = append(cs, c)
		}
	}
	if err := st.PutCalls(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestOfficeFiguresMatchBadger: the month's figures over the central
// database, per office and for all, are report.Figures over the same
// records in a board's store, key for key; the receptionists are the
// operators of the office's records.
func TestOfficeFiguresMatchBadger(t *testing.T) {
	e, a, b := twoOffices(t)
	// A recording on the server changes nothing in the figures: they
	// count what the box recorded.
	a.upload(testWAV(t, 1), "leg-0000")
	cases := []struct {
		office string
		boxes  []*fixtureBox
		ops    []string
	}{
		{"Oficina Norte", []*fixtureBox{a}, []string{"Ana", "Beto"}},
		{"Oficina Sur", []*fixtureBox{b}, []string{"Ana", "Carla"}},
		{AllOffices, []*fixtureBox{a, b}, []string{"Ana", "Beto", "Carla"}},
	}
	offered := map[string]int{}
	for _, tc := range cases {
		t.Run("office="+tc.office, func(t *testing.T) {
			ctx := context.Background()
			proc, err := e.s.Procedure(ctx, tc.office, Procedure{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(proc.Operators, tc.ops) {
				t.Errorf("receptionists %q, want %q", proc.Operators, tc.ops)
			}
			got, err := proc.Figures.Figures(ctx, fixtureMonth)
			if err != nil {
				t.Fatal(err)
			}
			want, err := report.Figures(ctx, badgerOf(t, tc.boxes...), fixtureMonth, report.FiguresOptions{
				Location: fixtureZone, Receptionists: tc.ops, Now: e.clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.MarshalIndent(got, "", " ")
			wj, _ := json.MarshalIndent(want, "", " ")
			if !bytes.Equal(gj, wj) {
				t.Errorf("central figures differ from the board's:\n%s\nwant\n%s", gj, wj)
			}
			if got.Inbound.Offered == 0 || got.Inbound.Answered == 0 || got.Inbound.Transferred.Blind == 0 ||
				got.Inbound.ShortAbandoned == 0 || got.Outbound.Made == 0 || got.Inbound.Recorded == 0 {
				t.Errorf("fixture does not exercise the figures: %s", gj)
			}
			offered[tc.office] = got.Inbound.Offered
		})
	}
	if offered["Oficina Norte"]+offered["Oficina Sur"] != offered[AllOffices] {
		t.Errorf("offered per office %v do not add up to all offices'", offered)
	}
}

// TestOfficeCalls: ids unique across boxes and mapped back, the office
// filter, the transfer's target by Call-ID, the order of the walk, and
// the two views of a recording.
func TestOfficeCalls(t *testing.T) {
	e, a, b := twoOffices(t)
	wav := testWAV(t, 1)
	a.upload(wav, "leg-0000")
	ctx := context.Background()
	all, norte := e.s.OfficeCalls(AllOffices), e.s.OfficeCalls("Oficina Norte")

	ca, err := all.Call(ctx, "box-a~leg-0000")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := all.Call(ctx, "box-b~leg-0000")
	if err != nil {
		t.Fatal(err)
	}
	if ca.ID != "box-a~leg-0000" || ca.CallID != a.call("leg-0000").CallID || cb.CallID != b.call("leg-0000").CallID || ca.CallID == cb.CallID {
		t.Errorf("same record id on two boxes: %s %s / %s %s", ca.ID, ca.CallID, cb.ID, cb.CallID)
	}
	for _, id := range []string{"box-b~leg-0000", "leg-0000", "box-a~", "~leg-0000", "box-a/leg-0000", "box-z~leg-0000", "box-a~leg-9999"} {
		if _, err := norte.Call(ctx, id); !errors.Is(err, web.ErrNotFound) {
			t.Errorf("Norte's Call(%q): %v, want web.ErrNotFound", id, err)
		}
	}

	// The console's view: the uploaded file, or none here.
	if ca.Recording == nil || ca.Recording.File != hexSHA(wav)[:2]+"/"+hexSHA(wav) || ca.Recording.NotRecordable != "" {
		t.Errorf("uploaded recording: %+v", ca.Recording)
	}
	c1, err := norte.Call(ctx, "box-a~leg-0001")
	if err != nil {
		t.Fatal(err)
	}
	if c1.Recording == nil || c1.Recording.File != "" || c1.Recording.NotRecordable != NoCentralRecording {
		t.Errorf("recording not uploaded, console's view: %+v", c1.Recording)
	}
	// The report's view: what the box recorded.
	r1, err := norte.AsRecorded().Call(ctx, "box-a~leg-0001")
	if err != nil {
		t.Fatal(err)
	}
	if r1.Recording == nil || r1.Recording.File != a.call("leg-0001").Recording.File || r1.Recording.NotRecordable != "" {
		t.Errorf("recording not uploaded, report's view: %+v", r1.Recording)
	}
	g, err := norte.Call(ctx, "box-a~leg-0007")
	if err != nil {
		t.Fatal(err)
	}
	if g.Recording == nil || g.Recording.NotRecordable != "codec G729" {
		t.Errorf("not recordable on the box: %+v", g.Recording)
	}

	// The transfer's target leg, by its Call-ID, in the office only.
	tgt := a.call("leg-0006").Transfer.TargetCallID
	x, err := norte.CallByCallID(ctx, tgt)
	if err != nil || x.ID != "box-a~leg-0006-x" {
		t.Errorf("CallByCallID(%s) = %s, %v", tgt, x.ID, err)
	}
	if _, err := e.s.OfficeCalls("Oficina Sur").CallByCallID(ctx, tgt); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("Sur's CallByCallID of Norte's leg: %v", err)
	}
	if ms, err := norte.Messages(ctx, "box-a~leg-0000"); err != nil || len(ms) != 0 {
		t.Errorf("messages: %v %v", ms, err)
	}

	// The walk: in invite order, the office's only, every leg once.
	walk := func(c *OfficeCalls) []sip.Call {
		var out []sip.Call
		err := c.Calls(ctx, time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), func(c sip.Call) error {
			out = append(out, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ns, as := walk(norte), walk(all)
	if len(ns) != len(a.calls) || len(as) != len(a.calls)+len(b.calls) {
		t.Fatalf("walk: Norte %d of %d, all %d of %d", len(ns), len(a.calls), len(as), len(a.calls)+len(b.calls))
	}
	for _, c := range ns {
		if !strings.HasPrefix(c.ID, "box-a~") {
			t.Errorf("Norte's walk has %s", c.ID)
		}
	}
	if !slices.IsSortedFunc(as, func(x, y sip.Call) int { return x.InviteAt.Compare(y.InviteAt) }) {
		t.Error("walk not in invite order")
	}
	stop := errors.New("stop")
	n := 0
	if err := all.Calls(ctx, time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), func(sip.Call) error {
		n++
		return stop
	}); !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn's error: %v after %d", err, n)
	}
}

// TestOfficeSample: a sample drawn for one office has only that office's
// calls whose recordings are on the server, kept apart from the other
// office's state; its recordings are protected through the Keeper.
func TestOfficeSample(t *testing.T) {
	e, a, b := twoOffices(t)
	wav := testWAV(t, 1)
	// Inbound answered legs recorded on the box: kinds 0, 1 and 6.
	a.upload(wav, "leg-0000", "leg-0001", "leg-0006", "leg-0008", "leg-0005") // leg-0005 is outbound
	b.upload(wav, "leg-0000", "leg-0009")
	// leg-0000 rang on 31 October, local: not the month's.
	up := map[string]bool{"box-a~leg-0001": true, "box-a~leg-0006": true, "box-a~leg-0008": true}
	ctx := context.Background()
	norte, err := e.s.Procedure(ctx, "Oficina Norte", Procedure{})
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(42)
	smp, err := norte.Sampler.Draw(ctx, report.DrawRequest{Month: fixtureMonth, Seed: &seed, By: "tecnico"})
	if err != nil {
		t.Fatal(err)
	}
	if smp.FrameSize != len(up) || len(smp.Items) == 0 {
		t.Fatalf("Norte's frame %d, items %d; want the %d uploaded inbound answered legs", smp.FrameSize, len(smp.Items), len(up))
	}
	for _, it := range append(slices.Clone(smp.Items), smp.Reserves...) {
		if !up[it.ID] {
			t.Errorf("Norte's sample has %s (%s)", it.ID, it.Operator)
		}
		if it.Operator != "Ana" && it.Operator != "Beto" {
			t.Errorf("Norte's sample has operator %s", it.Operator)
		}
	}
	for _, it := range smp.Items {
		if why, err := e.s.Keeper().Kept(ctx, it.ID); err != nil || why != smp.Keep.Reason || why == "" {
			t.Errorf("%s kept for %q (%v), want %q", it.ID, why, err, smp.Keep.Reason)
		}
	}
	if n := e.count("SELECT count(*) FROM recording_keep"); n != len(smp.Items) {
		t.Errorf("%d recordings kept, %d sampled", n, len(smp.Items))
	}
	// Verify recomputes the same frame over the database.
	v, err := norte.Sampler.Verify(ctx, fixtureMonth)
	if err != nil || !v.Match {
		t.Errorf("verify: %+v %v", v, err)
	}

	sur, err := e.s.Procedure(ctx, "Oficina Sur", Procedure{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sur.Sampler.Get(ctx, fixtureMonth); !errors.Is(err, report.ErrNoSample) {
		t.Errorf("Sur's sample before its draw: %v", err)
	}
	allp, err := e.s.Procedure(ctx, AllOffices, Procedure{})
	if err != nil {
		t.Fatal(err)
	}
	as, err := allp.Sampler.Draw(ctx, report.DrawRequest{Month: fixtureMonth, Seed: &seed, By: "tecnico"})
	if err != nil {
		t.Fatal(err)
	}
	if as.FrameSize != len(up)+1 {
		t.Errorf("all offices' frame %d, want %d", as.FrameSize, len(up)+1)
	}

	// The keeper's own rules.
	k := e.s.Keeper()
	if err := k.SetKeep(ctx, "box-a~leg-0002", "prueba"); err != nil {
		t.Fatal(err)
	}
	if err := k.SetKeep(ctx, "box-a~leg-0002", ""); err != nil {
		t.Fatal(err)
	}
	if why, err := k.Kept(ctx, "box-a~leg-0002"); err != nil || why != "" {
		t.Errorf("released: %q %v", why, err)
	}
	if err := k.SetKeep(ctx, "leg-0002", "prueba"); err == nil {
		t.Error("SetKeep of an id without its box took it")
	}
}

// TestSplitID is the id mapping's table.
func TestSplitID(t *testing.T) {
	for _, tc := range []struct {
		id, box, rec string
		ok           bool
	}{
		{"box-a~leg-1", "box-a", "leg-1", true},
		{"box.1~a~b", "box.1", "a~b", true},
		{"box-a~", "", "", false},
		{"~leg", "", "", false},
		{"leg", "", "", false},
		{"bad box~leg", "", "", false},
	} {
		box, rec, ok := SplitID(tc.id)
		if box != tc.box || rec != tc.rec || ok != tc.ok {
			t.Errorf("SplitID(%q) = %q %q %v", tc.id, box, rec, ok)
		}
		if ok && GlobalID(box, rec) != tc.id {
			t.Errorf("GlobalID(SplitID(%q)) = %q", tc.id, GlobalID(box, rec))
		}
	}
}

// FuzzSplitID: an id that splits joins back to itself, and its box id is
// one CheckBoxID takes.
func FuzzSplitID(f *testing.F) {
	for _, s := range []string{"box-a~leg-1", "~", "a~~", "box~a/b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		box, rec, ok := SplitID(id)
		if !ok {
			return
		}
		if GlobalID(box, rec) != id || CheckBoxID(box) != nil || rec == "" {
			t.Errorf("SplitID(%q) = %q %q", id, box, rec)
		}
	})
}

// BenchmarkOfficeCalls walks 10,000 legs of one office (plus the legs
// the fixture's transfers create) from the database.
func BenchmarkOfficeCalls(b *testing.B) {
	e := newEnv(b, nil, func(c *Config) { c.Timezone = "America/El_Salvador" })
	fb := &fixtureBox{box: e.addBox("box-a", "Oficina Norte"), calls: fixtureCalls("box-a", []string{"Ana", "Beto"}, 10000)}
	for _, c := range fb.calls {
		raw, _ := json.Marshal(c)
		fb.outbox = append(fb.outbox, Entry{Seq: uint64(len(fb.outbox) + 1), RecordID: c.ID, Revision: 1, Record: raw})
		fb.latest[c.ID] = 1
	}
	fb.drain(2000)
	oc := e.s.OfficeCalls("Oficina Norte")
	from, to := time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		if err := oc.Calls(ctx, from, to, func(sip.Call) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != len(fb.calls) {
			b.Fatalf("walked %d of %d", n, len(fb.calls))
		}
	}
	b.ReportMetric(float64(len(fb.calls)), "records/op")
}
