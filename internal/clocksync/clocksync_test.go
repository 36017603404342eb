package clocksync

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestParseTimedatectl(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"yes\n", true, false},
		{"no\n", false, false},
		{"  yes  ", true, false},
		{"", false, true},
		{"NTPSynchronized=yes\n", false, true}, // without --value: refused, not guessed
		{"true", false, true},
	} {
		st, err := parseTimedatectl(tc.in)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%q: err %v, want error %v", tc.in, err, tc.wantErr)
		}
		if err == nil && (st.Synchronised != tc.want || st.Source != SourceTimedatectl) {
			t.Fatalf("%q: %+v", tc.in, st)
		}
	}
}

func FuzzParseTimedatectl(f *testing.F) {
	for _, s := range []string{"yes\n", "no\n", "", "maybe", " yes"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		st, err := parseTimedatectl(in)
		if err != nil {
			return
		}
		v := strings.TrimSpace(in)
		if (v == "yes") != st.Synchronised || (v != "yes" && v != "no") {
			t.Fatalf("%q: %+v", in, st)
		}
	})
}

var errRefused = errors.New("adjtimex: operation not permitted")

func kernelSays(st State, err error) Option {
	return WithKernel(func() (State, error) { return st, err })
}

func fallbackSays(st State, err error, calls *int) Option {
	return WithFallback(func(context.Context) (State, error) { *calls++; return st, err })
}

func TestReaderFallback(t *testing.T) {
	synced := State{Synchronised: true, Source: SourceAdjtimex}
	viaTD := State{Synchronised: false, Source: SourceTimedatectl}
	for _, tc := range []struct {
		name      string
		kst       State
		kerr      error
		fst       State
		ferr      error
		want      State
		wantErr   bool
		wantCalls int
	}{
		{"kernel answers: no fallback", synced, nil, viaTD, nil, synced, false, 0},
		{"kernel refused: fallback", State{}, errRefused, viaTD, nil, viaTD, false, 1},
		{"both fail", State{}, errRefused, State{}, errors.New("timedatectl: not found"), State{}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			r := NewReader(kernelSays(tc.kst, tc.kerr), fallbackSays(tc.fst, tc.ferr, &calls))
			st, err := r.Read(context.Background())
			if (err != nil) != tc.wantErr || st != tc.want || calls != tc.wantCalls {
				t.Fatalf("got %+v, %v, %d calls", st, err, calls)
			}
			if tc.wantErr && (!strings.Contains(err.Error(), "adjtimex") || !strings.Contains(err.Error(), "timedatectl")) {
				t.Fatalf("error does not name both reads: %v", err)
			}
		})
	}
	t.Run("no fallback", func(t *testing.T) {
		r := NewReader(kernelSays(State{}, errRefused), WithFallback(nil))
		if _, err := r.Read(context.Background()); !errors.Is(err, errRefused) {
			t.Fatalf("%v", err)
		}
	})
}

// TestWatch: the fault follows the clock, each change is logged once, and
// an unreadable state is no fault.
func TestWatch(t *testing.T) {
	var (
		st  State
		err error
	)
	r := NewReader(WithKernel(func() (State, error) { return st, err }), WithFallback(nil))
	var logs bytes.Buffer
	w := NewWatch(r, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx := context.Background()
	steps := []struct {
		st        State
		err       error
		wantFault string
		wantLog   string // "" = nothing logged
	}{
		{State{Synchronised: true, Source: SourceAdjtimex}, nil, "", "clock synchronised"},
		{State{Synchronised: true, Source: SourceAdjtimex}, nil, "", ""},
		{State{Unsync: true, MaxError: MaxErrorLimit, Source: SourceAdjtimex}, nil, FaultText, "clock not synchronised"},
		{State{Unsync: true, MaxError: MaxErrorLimit, Source: SourceAdjtimex}, nil, FaultText, ""},
		{State{}, errRefused, "", "clock synchronisation unknown"},
		{State{}, errRefused, "", ""},
		{State{Unsync: true, Source: SourceAdjtimex}, nil, FaultText, "clock not synchronised"},
		{State{Synchronised: true, Source: SourceAdjtimex}, nil, "", "clock synchronised"},
	}
	for i, s := range steps {
		st, err = s.st, s.err
		logs.Reset()
		w.Check(ctx)
		if got := w.Fault(); got != s.wantFault {
			t.Fatalf("step %d: fault %q, want %q", i, got, s.wantFault)
		}
		if s.wantLog == "" && logs.Len() != 0 || s.wantLog != "" && !strings.Contains(logs.String(), s.wantLog) {
			t.Fatalf("step %d: logged %q, want %q", i, logs.String(), s.wantLog)
		}
	}
}

// TestWatchRun: Run reads at once and stops with its context.
func TestWatchRun(t *testing.T) {
	reads := make(chan struct{}, 10)
	r := NewReader(WithKernel(func() (State, error) {
		reads <- struct{}{}
		return State{Unsync: true, Source: SourceAdjtimex}, nil
	}), WithFallback(nil))
	w := NewWatch(r, WithEvery(1<<62))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	<-reads
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w.Fault() != FaultText {
		t.Fatalf("fault %q after an unsynchronised read", w.Fault())
	}
}
