package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

var smpZone = func() *time.Location {
	loc, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		return time.FixedZone("CST", -6*3600)
	}
	return loc
}()

// smpLeg is an eligible leg of March 2026 (local), or a variant.
func smpLeg(i int, op string) sip.Call {
	at := time.Date(2026, 3, 1+i%28, 9, i%60, 0, 0, smpZone)
	ans := at.Add(5 * time.Second)
	return sip.Call{
		ID: fmt.Sprintf("r-%05d", i), CallID: fmt.Sprintf("c%d", i), Direction: sip.DirectionInbound,
		Operator: op, InviteAt: at.UTC(), AnsweredAt: &ans, EndReason: sip.EndCompleted,
		Recording: &sip.Recording{File: fmt.Sprintf("2026/03/01/r-%05d.wav", i)},
	}
}

// smpStore opens a real store holding a month of 30 + 12 + 3 eligible legs
// and legs that must stay out of the frame.
func smpStore(t *testing.T) *storage.Store {
	t.Helper()
	st, err := storage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var calls []sip.Call
	for i := range 45 {
		op := "Ana"
		switch {
		case i%15 == 3:
			op = "Carlos" // 3 calls
		case i%15 > 10:
			op = "Beatriz"
		}
		calls = append(calls, smpLeg(i, op))
	}
	notAnswered := smpLeg(100, "Ana")
	notAnswered.AnsweredAt = nil
	encrypted := smpLeg(101, "Ana")
	encrypted.Recording = &sip.Recording{NotRecordable: "encrypted (SRTP)"}
	noRec := smpLeg(102, "Ana")
	noRec.Recording = nil
	outbound := smpLeg(103, "Ana")
	outbound.Direction = sip.DirectionOutbound
	transferred := smpLeg(104, "Beatriz")
	transferred.TransferredFrom = "c1"
	// 23:30 on 31 March in El Salvador is April in UTC: still March.
	lastNight := smpLeg(105, "Ana")
	lastNight.InviteAt = time.Date(2026, 3, 31, 23, 30, 0, 0, smpZone).UTC()
	// 00:10 on 1 April local is 06:10 UTC: April, out of the frame.
	april := smpLeg(106, "Ana")
	april.InviteAt = time.Date(2026, 4, 1, 0, 10, 0, 0, smpZone).UTC()
	calls = append(calls, notAnswered, encrypted, noRec, outbound, transferred, lastNight, april)
	if err := st.PutCalls(context.Background(), calls); err != nil {
		t.Fatal(err)
	}
	return st
}

func smpSampler(t *testing.T, st *storage.Store, opts SampleOptions) *Sampler {
	t.Helper()
	clock := time.Date(2026, 4, 2, 15, 0, 0, 0, time.UTC)
	s, err := NewSampler(st, st.KV("report"), st, smpZone, opts, slog.New(slog.NewTextHandler(io.Discard, nil)),
		WithSamplerClock(func() time.Time { clock = clock.Add(time.Second); return clock }),
		WithSeedSource(strings.NewReader("\x00\x00\x00\x00\x00\x00\x30\x39rest")))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSampleFrame(t *testing.T) {
	st := smpStore(t)
	from, to, _ := MonthRange("2026-03", smpZone)
	frame, err := BuildFrame(context.Background(), st, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(frame) != 46 { // 45 + the one at 23:30 on the 31st
		t.Fatalf("frame of %d, want 46", len(frame))
	}
	if !slices.IsSortedFunc(frame, func(a, b FrameEntry) int { return strings.Compare(a.ID, b.ID) }) {
		t.Fatal("frame not sorted by id")
	}
	for _, e := range frame {
		switch e.ID {
		case "r-00100", "r-00101", "r-00102", "r-00103", "r-00104", "r-00106":
			t.Errorf("%s must not be in the frame", e.ID)
		}
	}
	// The encoding is the documented one, and the hash follows it.
	enc := string(EncodeFrame(frame[:2]))
	if want := "7:r-00000,3:Ana,7:r-00001,3:Ana,"; enc != want {
		t.Errorf("encoding %q, want %q", enc, want)
	}
	dec, err := DecodeFrame(EncodeFrame(frame))
	if err != nil || !slices.Equal(dec, frame) {
		t.Errorf("decode(encode) = %v, %v", dec, err)
	}
	// An id holding the separators still encodes apart.
	a := FrameHash([]FrameEntry{{ID: "x,3:Ana", Operator: ""}})
	b := FrameHash([]FrameEntry{{ID: "x", Operator: "Ana"}})
	if a == b {
		t.Error("two frames hash alike")
	}
}

func TestSampleDrawStoreVerify(t *testing.T) {
	ctx := context.Background()
	st := smpStore(t)
	s := smpSampler(t, st, SampleOptions{})
	smp, err := s.Draw(ctx, DrawRequest{Month: "2026-03", By: "tecnico1"})
	if err != nil {
		t.Fatal(err)
	}
	if smp.Seed != 12345 || smp.Generator != GeneratorPCGv1 || smp.DrawnBy != "tecnico1" || smp.FrameSize != 46 {
		t.Fatalf("sample %+v", smp)
	}
	// Cochran over 46 at ±10 %: ⌈96.04/(1+95.04/46)⌉ = ⌈31.3⌉ = 32; Carlos
	// gives his 3, Ana (31) and Beatriz (12) share 29.
	wantAlloc := []Stratum{{"Ana", 31, 21, 10}, {"Beatriz", 12, 8, 4}, {"Carlos", 3, 3, 0}}
	if smp.NCochran != 32 || smp.N != 32 || !slices.Equal(smp.Allocation, wantAlloc) {
		t.Fatalf("n %d/%d allocation %+v, want 32 %+v", smp.NCochran, smp.N, smp.Allocation, wantAlloc)
	}
	for _, it := range smp.Items {
		why, err := st.Kept(ctx, it.ID)
		if err != nil || why != "muestra 2026-03" {
			t.Errorf("%s kept %q, %v", it.ID, why, err)
		}
	}
	got, err := s.Get(ctx, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(smp)
	if string(a) != string(b) {
		t.Errorf("stored sample differs:\n%s\n%s", a, b)
	}
	if !strings.Contains(string(a), `"seed":"12345"`) {
		t.Errorf("seed not a JSON string: %s", a)
	}
	v, err := s.Verify(ctx, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	if !v.Match || !v.FrameMatch || !v.DrawMatch || len(v.Differences) != 0 {
		t.Fatalf("fresh sample does not verify: %+v", v)
	}
	// Drawing again needs an explicit redraw with a reason.
	if _, err := s.Draw(ctx, DrawRequest{Month: "2026-03", By: "tecnico1"}); !errors.Is(err, ErrSampleExists) {
		t.Fatalf("second draw: %v, want ErrSampleExists", err)
	}
	if _, err := s.Draw(ctx, DrawRequest{Month: "2026-03", By: "tecnico1", Redraw: true}); !errors.Is(err, ErrReason) {
		t.Fatalf("redraw without reason: %v, want ErrReason", err)
	}
}

func TestSampleVerifyFails(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(t *testing.T, st *storage.Store, s *Sampler)
		frame  bool // the frame still matches
		draw   bool // the draw still matches
		check  func(t *testing.T, v Verification)
	}{
		{"record added", func(t *testing.T, st *storage.Store, _ *Sampler) {
			if err := st.PutCall(ctx, smpLeg(200, "Ana")); err != nil {
				t.Fatal(err)
			}
		}, false, true, func(t *testing.T, v Verification) {
			if !slices.Equal(v.Added, []string{"r-00200"}) || v.FrameSizeNow != 47 {
				t.Errorf("added %v size %d", v.Added, v.FrameSizeNow)
			}
		}},
		{"record removed from the frame", func(t *testing.T, st *storage.Store, _ *Sampler) {
			c := smpLeg(7, "Ana")
			c.Recording.NotRecordable = "disk floor"
			if err := st.PutCall(ctx, c); err != nil {
				t.Fatal(err)
			}
		}, false, true, func(t *testing.T, v Verification) {
			if !slices.Equal(v.Removed, []string{"r-00007"}) {
				t.Errorf("removed %v", v.Removed)
			}
		}},
		{"record reclassified", func(t *testing.T, st *storage.Store, _ *Sampler) {
			if err := st.PutCall(ctx, smpLeg(0, "Beatriz")); err != nil {
				t.Fatal(err)
			}
		}, false, true, func(t *testing.T, v Verification) {
			if !slices.Equal(v.Reclassified, []string{"r-00000"}) {
				t.Errorf("reclassified %v", v.Reclassified)
			}
		}},
		{"seed changed", func(t *testing.T, st *storage.Store, s *Sampler) {
			smpTamper(t, st, func(m *Sample) { m.Seed++ })
		}, true, false, nil},
		{"design changed", func(t *testing.T, st *storage.Store, s *Sampler) {
			smpTamper(t, st, func(m *Sample) { m.Design.Margin = 0.05 })
		}, true, false, nil},
		{"item swapped", func(t *testing.T, st *storage.Store, s *Sampler) {
			smpTamper(t, st, func(m *Sample) { m.Items[0], m.Reserves[0] = m.Reserves[0], m.Items[0] })
		}, true, false, nil},
		{"frame hash edited", func(t *testing.T, st *storage.Store, s *Sampler) {
			smpTamper(t, st, func(m *Sample) { m.FrameHash = strings.Repeat("0", 64) })
		}, false, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := smpStore(t)
			s := smpSampler(t, st, SampleOptions{})
			if _, err := s.Draw(ctx, DrawRequest{Month: "2026-03", By: "t"}); err != nil {
				t.Fatal(err)
			}
			tt.change(t, st, s)
			v, err := s.Verify(ctx, "2026-03")
			if err != nil {
				t.Fatal(err)
			}
			if v.Match || v.FrameMatch != tt.frame || v.DrawMatch != tt.draw || len(v.Differences) == 0 {
				t.Fatalf("verify = match %v frame %v draw %v %q; want frame %v draw %v",
					v.Match, v.FrameMatch, v.DrawMatch, v.Differences, tt.frame, tt.draw)
			}
			if tt.check != nil {
				tt.check(t, v)
			}
		})
	}
}

// smpTamper edits the stored sample behind the Sampler's back.
func smpTamper(t *testing.T, st *storage.Store, f func(*Sample)) {
	t.Helper()
	ctx := context.Background()
	kv := st.KV("report")
	raw, ok, err := kv.Get(ctx, sampleKey("2026-03"))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var m Sample
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	f(&m)
	raw, _ = json.Marshal(m)
	if err := kv.Set(ctx, sampleKey("2026-03"), raw); err != nil {
		t.Fatal(err)
	}
}

func TestSampleReplace(t *testing.T) {
	ctx := context.Background()
	st := smpStore(t)
	s := smpSampler(t, st, SampleOptions{})
	smp, err := s.Draw(ctx, DrawRequest{Month: "2026-03", By: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var bea []Item
	for _, r := range smp.Reserves {
		if r.Operator == "Beatriz" {
			bea = append(bea, r)
		}
	}
	var first Item
	for _, it := range smp.Items {
		if it.Operator == "Beatriz" {
			first = it
			break
		}
	}
	tests := []struct {
		name    string
		req     ReplaceRequest
		wantNew string
		err     error
	}{
		{"no reason", ReplaceRequest{Month: "2026-03", ID: first.ID, By: "t"}, "", ErrReason},
		{"not sampled", ReplaceRequest{Month: "2026-03", ID: bea[0].ID, By: "t", Reason: "x"}, "", ErrNotSampled},
		{"first", ReplaceRequest{Month: "2026-03", ID: first.ID, By: "jefe1", Reason: "grabación inaudible"}, bea[0].ID, nil},
		{"twice", ReplaceRequest{Month: "2026-03", ID: first.ID, By: "t", Reason: "x"}, "", ErrNotSampled},
		{"the replacement itself", ReplaceRequest{Month: "2026-03", ID: bea[0].ID, By: "t", Reason: "cifrada"}, bea[1].ID, nil},
		{"no sample", ReplaceRequest{Month: "2026-02", ID: first.ID, By: "t", Reason: "x"}, "", ErrNoSample},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rep, err := s.Replace(ctx, tt.req)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if rep.NewID != tt.wantNew || rep.OldID != tt.req.ID || rep.By != tt.req.By || rep.Reason != tt.req.Reason {
				t.Errorf("replacement %+v, want new %s", rep, tt.wantNew)
			}
			if why, _ := st.Kept(ctx, rep.NewID); why != "muestra 2026-03" {
				t.Errorf("new item kept %q", why)
			}
			if why, _ := st.Kept(ctx, rep.OldID); why != "muestra 2026-03" {
				t.Errorf("replaced item no longer kept: %q", why)
			}
			active := 0
			for _, it := range got.Items {
				if it.Operator == "Beatriz" && !it.Replaced {
					active++
				}
			}
			if active != 8 {
				t.Errorf("Beatriz has %d active items, want 8", active)
			}
		})
	}
	v, err := s.Verify(ctx, "2026-03")
	if err != nil || !v.Match {
		t.Fatalf("verify after replacements: %+v %v", v, err)
	}
	// Carlos has no reserve: all his 3 calls are in the sample.
	for _, it := range smp.Items {
		if it.Operator == "Carlos" {
			if _, _, err := s.Replace(ctx, ReplaceRequest{Month: "2026-03", ID: it.ID, By: "t", Reason: "x"}); !errors.Is(err, ErrNoReserve) {
				t.Fatalf("Carlos: %v, want ErrNoReserve", err)
			}
			break
		}
	}
	// A replacement that did not take the next reserve fails verify.
	smpTamper(t, st, func(m *Sample) { m.Replacements[0].NewID = "r-99999" })
	if v, _ := s.Verify(ctx, "2026-03"); v.Match || v.DrawMatch {
		t.Fatalf("verify passed a forged replacement: %+v", v)
	}
}

func TestSampleRedraw(t *testing.T) {
	ctx := context.Background()
	st := smpStore(t)
	s := smpSampler(t, st, SampleOptions{})
	seed1, seed2 := uint64(1), uint64(2)
	first, err := s.Draw(ctx, DrawRequest{Month: "2026-03", By: "t", Seed: &seed1})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Draw(ctx, DrawRequest{Month: "2026-03", By: "jefe", Seed: &seed2, Redraw: true, Reason: "marco incompleto"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Redraw != "marco incompleto" || second.Seed != 2 {
		t.Fatalf("redraw %+v", second)
	}
	hist, err := s.History(ctx, "2026-03")
	if err != nil || len(hist) != 1 || hist[0].Seed != 1 || !hist[0].DrawnAt.Equal(first.DrawnAt) {
		t.Fatalf("history %+v %v", hist, err)
	}
	in := map[string]bool{}
	for _, it := range second.Items {
		in[it.ID] = true
	}
	for _, it := range first.Items {
		why, _ := st.Kept(ctx, it.ID)
		if want := map[bool]string{true: "muestra 2026-03", false: ""}[in[it.ID]]; why != want {
			t.Errorf("%s kept %q after redraw, want %q", it.ID, why, want)
		}
	}
}

func TestSampleFixedAndErrors(t *testing.T) {
	ctx := context.Background()
	st := smpStore(t)
	s := smpSampler(t, st, SampleOptions{PerOperator: 5, Reserves: 2})
	smp, err := s.Draw(ctx, DrawRequest{Month: "2026-03", By: "t"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Stratum{{"Ana", 31, 5, 2}, {"Beatriz", 12, 5, 2}, {"Carlos", 3, 3, 0}}
	if smp.Design.Method != MethodFixed || !slices.Equal(smp.Allocation, want) || smp.N != 13 {
		t.Fatalf("fixed design: %+v %+v", smp.Design, smp.Allocation)
	}
	tests := []struct {
		name string
		req  DrawRequest
		err  error
	}{
		{"bad month", DrawRequest{Month: "2026-13", By: "t"}, ErrBadMonth},
		{"no author", DrawRequest{Month: "2026-02"}, ErrReason},
		{"empty month", DrawRequest{Month: "2026-02", By: "t"}, ErrEmptyFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Draw(ctx, tt.req); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
	if _, err := s.Get(ctx, "2026-02"); !errors.Is(err, ErrNoSample) {
		t.Fatalf("get: %v", err)
	}
	if _, err := s.Verify(ctx, "2026-02"); !errors.Is(err, ErrNoSample) {
		t.Fatalf("verify: %v", err)
	}
	if _, err := NewSampler(st, st.KV("report"), st, smpZone, SampleOptions{Generator: "x"}, nil); !errors.Is(err, ErrGenerator) {
		t.Fatalf("generator: %v", err)
	}
	if _, err := NewSampler(st, st.KV("report"), st, smpZone, SampleOptions{Margin: 2}, nil); !errors.Is(err, ErrDesign) {
		t.Fatalf("margin: %v", err)
	}
}

// smpBadKeep is a Keeper whose writes fail.
type smpBadKeep struct{ *storage.Store }

var errSmpKeep = errors.New("keep failed")

func (smpBadKeep) SetKeep(context.Context, string, string) error { return errSmpKeep }

// TestSampleKeepFails: a draw whose recordings cannot be protected stores
// no sample, so no sampled call is ever left to retention.
func TestSampleKeepFails(t *testing.T) {
	ctx := context.Background()
	st := smpStore(t)
	s, err := NewSampler(st, st.KV("report"), smpBadKeep{st}, smpZone, SampleOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Draw(ctx, DrawRequest{Month: "2026-03", By: "t"}); !errors.Is(err, errSmpKeep) {
		t.Fatalf("draw: %v, want the keep error", err)
	}
	if _, err := s.Get(ctx, "2026-03"); !errors.Is(err, ErrNoSample) {
		t.Fatalf("a sample was stored: %v", err)
	}
}
