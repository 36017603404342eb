package report

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// hlOut describes one record of an outgoing-calls test.
type hlOut struct {
	id       string
	dir      sip.Direction
	at       string // local "2006-01-02 15:04:05"
	answered bool
	reason   sip.EndReason
	detail   string
	rec      *sip.Recording
	from     string // transferred_from
	replaces string // replaces_call_id
	xfer     *sip.Transfer
}

// hlRec is a recording with the given per-direction packet counts.
func hlRec(file string, caller, callee int) *sip.Recording {
	return &sip.Recording{File: file, Caller: &sip.StreamRecording{Codec: "PCMA", Packets: caller},
		Callee: &sip.StreamRecording{Codec: "PCMA", Packets: callee}}
}

func hlLoc(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/El_Salvador")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func hlOutCalls(t testing.TB, loc *time.Location, specs []hlOut) []sip.Call {
	t.Helper()
	calls := make([]sip.Call, 0, len(specs))
	for _, s := range specs {
		at, err := time.ParseInLocation(time.DateTime, s.at, loc)
		if err != nil {
			t.Fatal(err)
		}
		dir := s.dir
		if dir == "" {
			dir = sip.DirectionOutbound
		}
		c := sip.Call{ID: "r-" + s.id, CallID: s.id, Direction: dir, Operator: "Ana", InviteAt: at.UTC(),
			EndReason: s.reason, EndDetail: s.detail, Recording: s.rec, TransferredFrom: s.from,
			ReplacesCallID: s.replaces, Transfer: s.xfer}
		end := at.Add(30 * time.Second)
		if s.answered {
			ans := at.Add(5 * time.Second)
			c.AnsweredAt = &ans
			c.EndReason = sip.EndCompleted
		}
		if s.reason != sip.EndUnknown {
			c.EndedAt = &end
		}
		calls = append(calls, c)
	}
	return calls
}

func TestOutgoing(t *testing.T) {
	loc := hlLoc(t)
	out := sip.DirectionOutbound
	tests := []struct {
		name  string
		specs []hlOut
		want  OutgoingPart
	}{
		{
			name: "empty month",
			want: OutgoingPart{Failures: map[string]int{}, NoAudioIDs: []string{}, OneWayAudioIDs: []string{}},
		},
		{
			name: "failures by end detail, then end reason",
			specs: []hlOut{
				{id: "o1", at: "2026-03-02 09:00:00", reason: sip.EndBusy, detail: "486"},
				{id: "o2", at: "2026-03-02 09:01:00", reason: sip.EndBusy, detail: "486"},
				{id: "o3", at: "2026-03-02 09:02:00", reason: sip.EndRejected, detail: "603"},
				{id: "o4", at: "2026-03-02 09:03:00", reason: sip.EndAbandoned, detail: "cancel"},
				{id: "o5", at: "2026-03-02 09:04:00", reason: sip.EndAbandoned, detail: "487"},
				{id: "o6", at: "2026-03-02 09:05:00", reason: sip.EndUnknown, detail: "timeout"},
				{id: "o7", at: "2026-03-02 09:06:00", reason: sip.EndFailed, detail: "503"},
				// No detail: the reason keys it; a leg still open is unknown.
				{id: "o8", at: "2026-03-02 09:07:00", reason: sip.EndFailed},
				{id: "o9", at: "2026-03-02 09:08:00", reason: sip.EndUnknown},
				// A corrupt record with neither.
				{id: "o10", at: "2026-03-02 09:09:00"},
				// A redirect keeps its code.
				{id: "o11", at: "2026-03-02 09:10:00", reason: sip.EndRedirected, detail: "302"},
			},
			want: OutgoingPart{Made: 11, Failures: map[string]int{"486": 2, "603": 1, "cancel": 1, "487": 1,
				"timeout": 1, "503": 1, "failed": 1, "unknown": 2, "302": 1},
				NoAudioIDs: []string{}, OneWayAudioIDs: []string{}},
		},
		{
			name: "audio from the per-direction packet counts",
			specs: []hlOut{
				// Listed out of id order: the lists come sorted.
				{id: "o9", at: "2026-03-03 10:00:00", answered: true, rec: hlRec("a.wav", 0, 0)},
				{id: "o2", at: "2026-03-03 10:01:00", answered: true, rec: hlRec("b.wav", 0, 0)},
				{id: "o5", at: "2026-03-03 10:02:00", answered: true, rec: hlRec("c.wav", 250, 0)},
				{id: "o3", at: "2026-03-03 10:03:00", answered: true, rec: hlRec("d.wav", 0, 1)},
				{id: "o4", at: "2026-03-03 10:04:00", answered: true, rec: hlRec("e.wav", 250, 248)},
				// Not recordable, but counted: judged and not recorded.
				{id: "o6", at: "2026-03-03 10:05:00", answered: true,
					rec: &sip.Recording{NotRecordable: "encrypted (SRTP)", Caller: &sip.StreamRecording{}, Callee: &sip.StreamRecording{Packets: 3}}},
				// No recording at all; one rebuilt after a crash has no
				// counts: neither is judged.
				{id: "o7", at: "2026-03-03 10:06:00", answered: true},
				{id: "o8", at: "2026-03-03 10:07:00", answered: true, rec: &sip.Recording{File: "f.wav", NotRecordable: "crash (packets unknown)"}},
				// One direction's counts only (not what the recorder writes):
				// not judged either.
				{id: "o10", at: "2026-03-03 10:07:30", answered: true, rec: &sip.Recording{File: "g.wav", Caller: &sip.StreamRecording{Packets: 5}}},
				// Unanswered: no audio expected, not judged.
				{id: "o1", at: "2026-03-03 10:08:00", reason: sip.EndBusy, detail: "486", rec: hlRec("", 0, 0)},
			},
			want: OutgoingPart{Made: 10, Answered: 9, Failures: map[string]int{"486": 1},
				NoAudio: 2, NoAudioIDs: []string{"r-o2", "r-o9"},
				OneWayAudio: 3, OneWayAudioIDs: []string{"r-o3", "r-o5", "r-o6"},
				NotRecorded: 2},
		},
		{
			name: "only the month's outbound calls, transfer legs excluded",
			specs: []hlOut{
				{id: "feb", at: "2026-02-28 23:59:59", answered: true, rec: hlRec("a.wav", 0, 0)},
				{id: "first", at: "2026-03-01 00:00:00", answered: true, rec: hlRec("a.wav", 1, 1)},
				{id: "last", at: "2026-03-31 23:59:59", reason: sip.EndBusy, detail: "486"},
				{id: "apr", at: "2026-04-01 00:00:00", reason: sip.EndBusy, detail: "486"},
				{id: "in", dir: sip.DirectionInbound, at: "2026-03-05 10:00:00", reason: sip.EndBusy, detail: "486"},
				{id: "int", dir: sip.DirectionInternal, at: "2026-03-05 10:00:00", answered: true, rec: hlRec("a.wav", 0, 0)},
				// An attended transfer begun on February 28 whose
				// consultation leg (outbound) starts on March 1: part of the
				// transfer, as the leg the transfer created.
				{id: "x", dir: sip.DirectionInbound, at: "2026-02-28 23:50:00", answered: true,
					xfer: &sip.Transfer{Kind: "attended", Result: "200", ReplacesCallID: "x-c", TargetCallID: "x-t"}},
				{id: "x-c", dir: out, at: "2026-03-01 00:05:00", answered: true, rec: hlRec("a.wav", 0, 0)},
				{id: "x-t", dir: out, at: "2026-03-01 00:06:00", answered: true, replaces: "x-c", rec: hlRec("a.wav", 0, 0)},
				{id: "x-r", dir: out, at: "2026-03-01 00:06:00", reason: sip.EndFailed, detail: "500", from: "x"},
				// An INVITE with Replaces no REFER named (its REFER not
				// captured): still the transfer's, not a new call.
				{id: "y", dir: out, at: "2026-03-09 10:00:00", answered: true, replaces: "z", rec: hlRec("a.wav", 0, 0)},
			},
			want: OutgoingPart{Made: 2, Answered: 1, Failures: map[string]int{"486": 1},
				NoAudioIDs: []string{}, OneWayAudioIDs: []string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := &figCalls{calls: hlOutCalls(t, loc, tt.specs)}
			got, err := Outgoing(context.Background(), calls, "2026-03", FiguresOptions{Location: loc})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Outgoing:\n got %+v\nwant %+v", *got, tt.want)
			}
			sum := got.Answered
			for _, n := range got.Failures {
				sum += n
			}
			if sum != got.Made {
				t.Errorf("answered + failures = %d, made = %d", sum, got.Made)
			}
		})
	}
}

// TestOutgoingMatchesFigures runs Outgoing over the synthetic month of
// the figures' tests, whose outbound calls include consultation legs of
// transfers (one across the month boundary): the calls counted are
// exactly figures' outbound.made, and the answered and failed agree.
func TestOutgoingMatchesFigures(t *testing.T) {
	loc, calls := figMonth(t)
	src := &figCalls{calls: calls}
	opts := FiguresOptions{Location: loc, Receptionists: []string{"Ana", "Beto", "Carla"}}
	f, err := Figures(context.Background(), src, "2026-03", opts)
	if err != nil {
		t.Fatal(err)
	}
	o, err := Outgoing(context.Background(), src, "2026-03", opts)
	if err != nil {
		t.Fatal(err)
	}
	if o.Made != f.Outbound.Made || o.Answered != f.Outbound.Answered {
		t.Errorf("outgoing made/answered %d/%d, figures %d/%d", o.Made, o.Answered, f.Outbound.Made, f.Outbound.Answered)
	}
	byReason := map[string]int{}
	for k, n := range o.Failures {
		byReason[k] = n
	}
	want := map[string]int{"busy": f.Outbound.Busy, "rejected": f.Outbound.Rejected, "failed": f.Outbound.Failed,
		"abandoned": f.Outbound.NoAnswer, "unknown": f.Outbound.Made - f.Outbound.Answered - f.Outbound.Busy -
			f.Outbound.Rejected - f.Outbound.Failed - f.Outbound.NoAnswer}
	// figMonth's records carry no end detail: each failure is keyed by
	// its reason, so the keys are figures' own columns.
	if !reflect.DeepEqual(byReason, want) {
		t.Errorf("failures %v, from figures %v", byReason, want)
	}
	// The month's outbound answered calls carry no recording: none judged.
	if o.NotRecorded != o.Answered || o.NoAudio != 0 || o.OneWayAudio != 0 {
		t.Errorf("audio: %+v", o)
	}
}

func TestOutgoingErrors(t *testing.T) {
	loc := hlLoc(t)
	boom := errors.New("boom")
	if _, err := Outgoing(context.Background(), &figCalls{err: boom}, "2026-03", FiguresOptions{Location: loc}); !errors.Is(err, boom) {
		t.Errorf("store error: %v", err)
	}
	if _, err := Outgoing(context.Background(), &figCalls{}, "2026-3", FiguresOptions{Location: loc}); !errors.Is(err, ErrBadMonth) {
		t.Errorf("bad month: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := &figCalls{calls: hlOutCalls(t, loc, []hlOut{{id: "o1", at: "2026-03-02 09:00:00", reason: sip.EndBusy}})}
	if _, err := Outgoing(ctx, calls, "2026-03", FiguresOptions{Location: loc}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// The walk asks for the month and the look-behind of the transfers.
	calls = &figCalls{}
	if _, err := Outgoing(context.Background(), calls, "2026-03", FiguresOptions{Location: loc}); err != nil {
		t.Fatal(err)
	}
	from, to, _ := MonthRange("2026-03", loc)
	if len(calls.asked) != 1 || !calls.asked[0][0].Equal(from.Add(-lookBehind)) || !calls.asked[0][1].Equal(to.Add(lookAhead)) {
		t.Errorf("asked %v", calls.asked)
	}
}
