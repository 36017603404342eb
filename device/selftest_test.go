package device

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

type fakeButton struct{ c chan time.Time }

func (b *fakeButton) Events() <-chan time.Time { return b.c }
func (b *fakeButton) Close() error             { return nil }

func TestSelfTest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePanel()
		fp.ops = []string{"Ana"}
		btn := &fakeButton{c: make(chan time.Time)}
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() { done <- SelfTest(t.Context(), fp, btn, &out, time.Second) }()
		time.Sleep(6500 * time.Millisecond) // six lamps, then all off
		btn.c <- time.Date(2026, 3, 2, 9, 0, 1, 0, time.UTC)
		time.Sleep(2 * time.Second)
		btn.c <- time.Date(2026, 3, 2, 9, 0, 3, 0, time.UTC)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := `amber on
red on
buzzer on
status on
operator Ana amber on
operator Ana red on
all off
press the silence button now (listening for 10s)
button pressed at 09:00:01.000
button pressed at 09:00:03.000
2 button presses
`
		if out.String() != want {
			t.Fatalf("output\n%s\nwant\n%s", out.String(), want)
		}
		wantSets := []fakeSet{
			{0, Lamps{Amber: true}},
			{time.Second, Lamps{Red: true}},
			{2 * time.Second, Lamps{Buzzer: true}},
			{3 * time.Second, Lamps{Status: true}},
			{4 * time.Second, Lamps{Operators: map[string]OperatorLamps{"Ana": {Amber: true}}}},
			{5 * time.Second, Lamps{Operators: map[string]OperatorLamps{"Ana": {Red: true}}}},
			{6 * time.Second, Lamps{}},
		}
		if got := fp.history(); !reflect.DeepEqual(got, wantSets) {
			t.Fatalf("sets %+v\nwant %+v", got, wantSets)
		}
		if fp.closed != 0 {
			t.Fatal("self-test closed the panel it does not own")
		}
	})
}

func TestSelfTestCancelLeavesPanelDark(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fp := newFakePanel()
		ctx, cancel := context.WithCancel(t.Context())
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() { done <- SelfTest(ctx, fp, nil, &out, time.Second) }()
		time.Sleep(1500 * time.Millisecond)
		cancel()
		if err := <-done; err == nil {
			t.Fatal("no error after cancel")
		}
		h := fp.history()
		if !h[len(h)-1].lamps.Equal(Lamps{}) {
			t.Fatalf("last set %+v, want all off", h[len(h)-1])
		}
	})
}

func TestSelfTestNoButton(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		if err := SelfTest(t.Context(), newFakePanel(), nil, &out, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(out.String(), "all off\nno silence button wired\n") {
			t.Fatalf("output %q", out.String())
		}
	})
}
