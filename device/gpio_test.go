package device

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeChip stands in for the kernel's GPIO character devices: it logs
// every request, write and release in order.
type fakeChip struct {
	mu          sync.Mutex
	chipNames   []string
	names       map[string]map[string]int // chip → line name → offset
	log         []string
	failRequest string // "chip:offset" whose request fails
	failSet     string
	onEdge      func(bool, time.Duration)
	debounce    time.Duration
}

func newFakeChip() *fakeChip {
	return &fakeChip{
		chipNames: []string{"gpiochip0", "gpiochip1"},
		names: map[string]map[string]int{
			"gpiochip0": {"LED_RED": 5},
			"gpiochip1": {"LED_AMBER": 2, "BUTTON": 3},
		},
	}
}

func (f *fakeChip) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf(format, args...))
}

func (f *fakeChip) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.log
	f.log = nil
	return l
}

func (f *fakeChip) chips() []string { return f.chipNames }

func (f *fakeChip) findLine(chip, name string) (string, int, error) {
	for _, c := range f.chipNames {
		if chip != "" && c != chip {
			continue
		}
		if off, ok := f.names[c][name]; ok {
			return c, off, nil
		}
	}
	return "", 0, errors.New("not found")
}

func (f *fakeChip) requestOutput(chip string, offset int, activeLow bool) (outputLine, error) {
	key := fmt.Sprintf("%s:%d", chip, offset)
	if key == f.failRequest {
		return nil, errors.New("device or resource busy")
	}
	f.record("out %s active_low=%v", key, activeLow)
	return &fakeLine{chip: f, key: key}, nil
}

func (f *fakeChip) requestInput(chip string, offset int, activeLow bool, debounce time.Duration,
	onEdge func(bool, time.Duration),
) (io.Closer, error) {
	key := fmt.Sprintf("%s:%d", chip, offset)
	if key == f.failRequest {
		return nil, errors.New("device or resource busy")
	}
	f.record("in %s active_low=%v debounce=%s", key, activeLow, debounce)
	f.mu.Lock()
	f.onEdge, f.debounce = onEdge, debounce
	f.mu.Unlock()
	return &fakeLine{chip: f, key: key}, nil
}

type fakeLine struct {
	chip *fakeChip
	key  string
}

func (l *fakeLine) SetValue(v int) error {
	if l.key == l.chip.failSet {
		return errors.New("io error")
	}
	l.chip.record("set %s=%d", l.key, v)
	return nil
}

func (l *fakeLine) Close() error {
	l.chip.record("close %s", l.key)
	return nil
}

func TestResolve(t *testing.T) {
	fc := newFakeChip()
	for _, tc := range []struct {
		name string
		line Line
		want string
		err  error
	}{
		{"offset on chip", Line{Chip: "gpiochip1", Offset: 7}, "gpiochip1:7", nil},
		{"offset on default chip", Line{Offset: 17}, "gpiochip0:17", nil},
		{"offset 0", Line{Chip: "/dev/gpiochip0"}, "/dev/gpiochip0:0", nil},
		{"name on any chip", Line{Name: "LED_AMBER"}, "gpiochip1:2", nil},
		{"name on its chip", Line{Chip: "gpiochip0", Name: "LED_RED"}, "gpiochip0:5", nil},
		{"name on another chip", Line{Chip: "gpiochip0", Name: "LED_AMBER"}, "", ErrLine},
		{"unknown name", Line{Name: "NOPE"}, "", ErrLine},
		{"name and offset", Line{Name: "LED_RED", Offset: 5}, "", ErrConfig},
		{"negative offset", Line{Offset: -1}, "", ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := resolve(tc.line, fc)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || a.String() != tc.want || a.activeLow != tc.line.ActiveLow {
				t.Fatalf("%v %v, want %s", a, err, tc.want)
			}
		})
	}
}

func testGPIOConfig() GPIOConfig {
	return GPIOConfig{
		Chip:   "gpiochip0",
		Amber:  &Line{Name: "LED_AMBER"},
		Red:    &Line{Name: "LED_RED"},
		Buzzer: &Line{Offset: 6, ActiveLow: true},
		Status: &Line{Offset: 7},
		Operators: []OperatorLines{
			{Name: "Ana", Amber: &Line{Offset: 10}, Red: &Line{Offset: 11}},
			{Name: "Beto", Red: &Line{Chip: "gpiochip1", Offset: 0}},
		},
	}
}

func TestGPIOPanel(t *testing.T) {
	fc := newFakeChip()
	p, err := newGPIOPanel(testGPIOConfig(), fc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"out gpiochip1:2 active_low=false",
		"out gpiochip0:5 active_low=false",
		"out gpiochip0:6 active_low=true",
		"out gpiochip0:7 active_low=false",
		"out gpiochip0:10 active_low=false",
		"out gpiochip0:11 active_low=false",
		"out gpiochip1:0 active_low=false",
	}
	if got := fc.take(); !reflect.DeepEqual(got, want) {
		t.Fatalf("requests\n got %q\nwant %q", got, want)
	}
	if got := p.Operators(); !reflect.DeepEqual(got, []string{"Ana", "Beto"}) {
		t.Fatalf("operators %v", got)
	}
	steps := []struct {
		lamps Lamps
		want  []string
	}{
		{Lamps{Amber: true, Status: true, Operators: map[string]OperatorLamps{"Ana": {Amber: true}}},
			[]string{"set gpiochip1:2=1", "set gpiochip0:7=1", "set gpiochip0:10=1"}},
		// Only the lines that change are written.
		{Lamps{Red: true, Buzzer: true, Status: true, Operators: map[string]OperatorLamps{"Ana": {Red: true}, "Beto": {Red: true}, "Nobody": {Red: true}}},
			[]string{"set gpiochip1:2=0", "set gpiochip0:5=1", "set gpiochip0:6=1", "set gpiochip0:10=0", "set gpiochip0:11=1", "set gpiochip1:0=1"}},
		{Lamps{Red: true, Status: true, Operators: map[string]OperatorLamps{"Ana": {Red: true}, "Beto": {Red: true}}},
			[]string{"set gpiochip0:6=0"}},
		{Lamps{Red: true, Status: true, Operators: map[string]OperatorLamps{"Ana": {Red: true}, "Beto": {Red: true}}}, nil},
		// An operator not listed goes dark.
		{Lamps{Red: true, Status: true}, []string{"set gpiochip0:11=0", "set gpiochip1:0=0"}},
	}
	for i, s := range steps {
		if err := p.Set(s.lamps); err != nil {
			t.Fatal(err)
		}
		if got := fc.take(); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d writes\n got %q\nwant %q", i, got, s.want)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Every output is written inactive before any line is released.
	got := fc.take()
	if len(got) != 14 {
		t.Fatalf("close: %q", got)
	}
	for i, g := range got {
		if (i < 7) != strings.HasPrefix(g, "set ") || (i < 7 && !strings.HasSuffix(g, "=0")) {
			t.Fatalf("close: %q: want every line set to 0, then every line closed", got)
		}
	}
	if err := p.Close(); err != nil || len(fc.take()) != 0 {
		t.Fatal("second Close did something")
	}
	if err := p.Set(Lamps{Red: true}); !errors.Is(err, ErrLine) {
		t.Fatalf("Set after Close: %v", err)
	}
}

func TestGPIOPanelErrors(t *testing.T) {
	t.Run("no chip", func(t *testing.T) {
		fc := newFakeChip()
		fc.chipNames = nil
		if _, err := newGPIOPanel(testGPIOConfig(), fc); !errors.Is(err, ErrNoGPIO) {
			t.Fatalf("err %v, want ErrNoGPIO", err)
		}
	})
	t.Run("same line twice", func(t *testing.T) {
		cfg := testGPIOConfig()
		cfg.Status = &Line{Chip: "/dev/gpiochip0", Offset: 5} // LED_RED
		fc := newFakeChip()
		_, err := newGPIOPanel(cfg, fc)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "red and status") {
			t.Fatalf("err %v, want red and status on the same line", err)
		}
		if got := fc.take(); !reflect.DeepEqual(got, []string{
			"out gpiochip1:2 active_low=false", "out gpiochip0:5 active_low=false", "out gpiochip0:6 active_low=true",
			"set gpiochip1:2=0", "set gpiochip0:5=0", "set gpiochip0:6=0",
			"close gpiochip1:2", "close gpiochip0:5", "close gpiochip0:6",
		}) {
			t.Fatalf("lines held before the error were not released dark: %q", got)
		}
	})
	t.Run("request fails", func(t *testing.T) {
		fc := newFakeChip()
		fc.failRequest = "gpiochip0:11"
		_, err := newGPIOPanel(testGPIOConfig(), fc)
		if !errors.Is(err, ErrLine) || !strings.Contains(err.Error(), "operator Ana red") {
			t.Fatalf("err %v", err)
		}
		if got := fc.take(); len(got) != 15 || got[len(got)-1] != "close gpiochip0:10" {
			t.Fatalf("log %q: want 5 requests, 5 writes of 0, 5 releases", got)
		}
	})
	t.Run("missing red", func(t *testing.T) {
		cfg := testGPIOConfig()
		cfg.Red = nil
		if _, err := newGPIOPanel(cfg, newFakeChip()); !errors.Is(err, ErrConfig) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("set fails", func(t *testing.T) {
		fc := newFakeChip()
		p, err := newGPIOPanel(testGPIOConfig(), fc)
		if err != nil {
			t.Fatal(err)
		}
		fc.failSet = "gpiochip0:5"
		err = p.Set(Lamps{Amber: true, Red: true})
		if !errors.Is(err, ErrLine) || !strings.Contains(err.Error(), "red") {
			t.Fatalf("err %v", err)
		}
		// The other lines were still written.
		if got := fc.take(); !reflect.DeepEqual(got[len(got)-1:], []string{"set gpiochip1:2=1"}) {
			t.Fatalf("log %q", got)
		}
		fc.failSet = ""
		if err := p.Set(Lamps{Amber: true, Red: true}); err != nil {
			t.Fatal(err)
		}
		if got := fc.take(); !reflect.DeepEqual(got, []string{"set gpiochip0:5=1"}) {
			t.Fatalf("retry wrote %q, want the failed line only", got)
		}
	})
}

func TestGPIOButton(t *testing.T) {
	fc := newFakeChip()
	now := t0
	b, err := newGPIOButton(Line{Name: "BUTTON", ActiveLow: true}, 20*time.Millisecond, fc, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if got := fc.take(); !reflect.DeepEqual(got, []string{"in gpiochip1:3 active_low=true debounce=20ms"}) {
		t.Fatalf("request %q", got)
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	// A press, a bounce the kernel let through, a release, a second press.
	for _, e := range []struct {
		rising bool
		ts     time.Duration
		at     float64
	}{
		{true, ms(1000), 1},
		{true, ms(1005), 1.005},
		{false, ms(1100), 1.1},
		{true, ms(1500), 1.5},
		{false, ms(1600), 1.6},
	} {
		now = sec(e.at)
		fc.onEdge(e.rising, e.ts)
	}
	var got []time.Time
	for range 2 {
		got = append(got, <-b.Events())
	}
	if !got[0].Equal(sec(1)) || !got[1].Equal(sec(1.5)) {
		t.Fatalf("presses at %v, want 1 s and 1.5 s", got)
	}
	select {
	case e := <-b.Events():
		t.Fatalf("extra press %v", e)
	default:
	}
	// Presses nobody reads are dropped, not blocking the kernel's reader.
	for i := range 2 * buttonBuffer {
		fc.onEdge(true, ms(3000+100*i))
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range b.Events() {
		n++
	}
	if n != buttonBuffer {
		t.Fatalf("%d buffered presses, want %d", n, buttonBuffer)
	}
	fc.onEdge(true, ms(9000)) // late event after Close: ignored, no panic
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fc.take(); !reflect.DeepEqual(got, []string{"close gpiochip1:3"}) {
		t.Fatalf("release %q", got)
	}
}

func TestGPIOButtonErrors(t *testing.T) {
	fc := newFakeChip()
	if _, err := newGPIOButton(Line{Name: "NOPE"}, 0, fc, time.Now); !errors.Is(err, ErrLine) {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := newGPIOButton(Line{Offset: 3}, -time.Millisecond, fc, time.Now); !errors.Is(err, ErrConfig) {
		t.Fatalf("negative debounce: %v", err)
	}
	fc.chipNames = nil
	if _, err := newGPIOButton(Line{Offset: 3}, 0, fc, time.Now); !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("no chip: %v", err)
	}
}
