package device

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// consumer is the label the kernel shows for lines we hold.
const consumer = "switchtap"

// chipAccess is what the GPIO panel and button need from the kernel:
// gpio_linux.go implements it with go-gpiocdev, tests with a fake chip.
type chipAccess interface {
	// chips lists the GPIO character devices present.
	chips() []string
	// findLine finds a line by name on chip, or on every chip when chip
	// is empty.
	findLine(chip, name string) (string, int, error)
	// requestOutput holds a line as an output, inactive.
	requestOutput(chip string, offset int, activeLow bool) (outputLine, error)
	// requestInput holds a line as an input with edge events on both
	// edges; onEdge gets each (rising: inactive to active) with the
	// kernel's timestamp.
	requestInput(chip string, offset int, activeLow bool, debounce time.Duration,
		onEdge func(rising bool, ts time.Duration)) (io.Closer, error)
}

// outputLine is a held output line (*gpiocdev.Line).
type outputLine interface {
	SetValue(v int) error
	Close() error
}

// lineAddr is a line resolved to chip and offset.
type lineAddr struct {
	chip      string
	offset    int
	activeLow bool
}

func (a lineAddr) String() string { return fmt.Sprintf("%s:%d", a.chip, a.offset) }

// key identifies the physical line whatever the spelling of its chip.
func (a lineAddr) key() string {
	return fmt.Sprintf("%s:%d", strings.TrimPrefix(a.chip, "/dev/"), a.offset)
}

// resolve turns a configured line into chip and offset: by name (on its
// chip, or on every chip when it names none), else by offset on its chip
// (DefaultChip when it names none).
func resolve(l Line, ca chipAccess) (lineAddr, error) {
	if err := l.Validate(); err != nil {
		return lineAddr{}, err
	}
	if l.Name == "" {
		chip := l.Chip
		if chip == "" {
			chip = DefaultChip
		}
		return lineAddr{chip: chip, offset: l.Offset, activeLow: l.ActiveLow}, nil
	}
	chip, off, err := ca.findLine(l.Chip, l.Name)
	if err != nil {
		return lineAddr{}, fmt.Errorf("%w: %s: %w", ErrLine, l, err)
	}
	return lineAddr{chip: chip, offset: off, activeLow: l.ActiveLow}, nil
}

// gpioOut is one output of the panel and the value it was last set to.
type gpioOut struct {
	role  string
	addr  lineAddr
	line  outputLine
	value int
}

func (o *gpioOut) set(on bool) error {
	v := 0
	if on {
		v = 1
	}
	if v == o.value {
		return nil
	}
	if err := o.line.SetValue(v); err != nil {
		return fmt.Errorf("%w: set %s (%s) to %d: %w", ErrLine, o.role, o.addr, v, err)
	}
	o.value = v
	return nil
}

// GPIOPanel drives the lamps and buzzer on GPIO output lines. Values are
// logical (active = 1); active-low lines are inverted by the kernel.
type GPIOPanel struct {
	mu     sync.Mutex
	amber  *gpioOut
	red    *gpioOut
	buzzer *gpioOut
	status *gpioOut
	ops    map[string][2]*gpioOut // amber, red
	all    []*gpioOut
	closed bool
}

// newGPIOPanel resolves and requests every configured line, all inactive.
// If any fails, the lines already held are set inactive and released.
func newGPIOPanel(cfg GPIOConfig, ca chipAccess) (*GPIOPanel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(ca.chips()) == 0 {
		return nil, fmt.Errorf("%w: no /dev/gpiochip* on this machine (use panel: log)", ErrNoGPIO)
	}
	p := &GPIOPanel{ops: make(map[string][2]*gpioOut, len(cfg.Operators))}
	seen := make(map[string]string)
	open := func(role string, l *Line) (*gpioOut, error) {
		if l == nil {
			return nil, nil
		}
		a, err := resolve(cfg.withChip(*l), ca)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", role, err)
		}
		if other, ok := seen[a.key()]; ok {
			return nil, fmt.Errorf("%w: %s and %s are both line %s", ErrConfig, other, role, a)
		}
		seen[a.key()] = role
		line, err := ca.requestOutput(a.chip, a.offset, a.activeLow)
		if err != nil {
			return nil, fmt.Errorf("%w: request %s (%s): %w", ErrLine, role, a, err)
		}
		o := &gpioOut{role: role, addr: a, line: line}
		p.all = append(p.all, o)
		return o, nil
	}
	var err error
	outs := []struct {
		dst  **gpioOut
		role string
		l    *Line
	}{{&p.amber, "amber", cfg.Amber}, {&p.red, "red", cfg.Red}, {&p.buzzer, "buzzer", cfg.Buzzer}, {&p.status, "status", cfg.Status}}
	for _, o := range outs {
		if *o.dst, err = open(o.role, o.l); err != nil {
			return nil, errors.Join(err, p.Close())
		}
	}
	for _, op := range cfg.Operators {
		var pair [2]*gpioOut
		if pair[0], err = open("operator "+op.Name+" amber", op.Amber); err != nil {
			return nil, errors.Join(err, p.Close())
		}
		if pair[1], err = open("operator "+op.Name+" red", op.Red); err != nil {
			return nil, errors.Join(err, p.Close())
		}
		p.ops[op.Name] = pair
	}
	return p, nil
}

// Set drives every line to the lamps' state, writing only the lines that
// change. Operators not listed, and lines not wired, are dark.
func (p *GPIOPanel) Set(l Lamps) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("%w: panel closed", ErrLine)
	}
	var errs []error
	for _, s := range []struct {
		o  *gpioOut
		on bool
	}{{p.amber, l.Amber}, {p.red, l.Red}, {p.buzzer, l.Buzzer}, {p.status, l.Status}} {
		if s.o != nil {
			errs = append(errs, s.o.set(s.on))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.ops)) {
		pair, want := p.ops[name], l.Operators[name]
		if pair[0] != nil {
			errs = append(errs, pair[0].set(want.Amber))
		}
		if pair[1] != nil {
			errs = append(errs, pair[1].set(want.Red))
		}
	}
	return errors.Join(errs...)
}

// Close sets every output inactive, then releases the lines: a released
// line keeps its last level (docs/gpio-qemu.md, pitfall 6). It is safe to
// call more than once.
func (p *GPIOPanel) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	for _, o := range p.all {
		// Write 0 even if we believe the line is already 0: the level is
		// what must be right when we let go.
		if err := o.line.SetValue(0); err != nil {
			errs = append(errs, fmt.Errorf("%w: set %s (%s) to 0: %w", ErrLine, o.role, o.addr, err))
		}
		o.value = 0
	}
	for _, o := range p.all {
		if err := o.line.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%w: release %s (%s): %w", ErrLine, o.role, o.addr, err))
		}
	}
	return errors.Join(errs...)
}

// Operators returns the names of the receptionists with their own lamps.
func (p *GPIOPanel) Operators() []string {
	return slices.Sorted(maps.Keys(p.ops))
}

// Button is the silence button: Events delivers one time per press.
type Button interface {
	Events() <-chan time.Time
	Close() error
}

// pressFilter keeps a press only if it comes at least gap after the last
// one kept, by the kernel's event timestamps: a second line of defence when
// the kernel cannot debounce.
type pressFilter struct {
	gap  time.Duration
	last time.Duration
	any  bool
}

func (f *pressFilter) accept(ts time.Duration) bool {
	if f.any && ts-f.last < f.gap {
		return false
	}
	f.last, f.any = ts, true
	return true
}

// buttonBuffer is how many presses wait for the reader before more are
// dropped: a press only matters once.
const buttonBuffer = 4

// GPIOButton is a silence button on a GPIO input line, debounced, read
// from the kernel's edge events.
type GPIOButton struct {
	events chan time.Time
	now    func() time.Time
	addr   lineAddr

	mu     sync.Mutex
	filter pressFilter
	closed bool
	line   io.Closer
}

// newGPIOButton resolves and requests the button's line.
func newGPIOButton(l Line, debounce time.Duration, ca chipAccess, now func() time.Time) (*GPIOButton, error) {
	if debounce < 0 {
		return nil, fmt.Errorf("%w: debounce %s < 0", ErrConfig, debounce)
	}
	if len(ca.chips()) == 0 {
		return nil, fmt.Errorf("%w: no /dev/gpiochip* on this machine for the button", ErrNoGPIO)
	}
	a, err := resolve(l, ca)
	if err != nil {
		return nil, fmt.Errorf("button: %w", err)
	}
	b := &GPIOButton{
		events: make(chan time.Time, buttonBuffer),
		now:    now,
		addr:   a,
		filter: pressFilter{gap: debounce},
	}
	line, err := ca.requestInput(a.chip, a.offset, a.activeLow, debounce, b.edge)
	if err != nil {
		return nil, fmt.Errorf("%w: request button (%s): %w", ErrLine, a, err)
	}
	b.mu.Lock()
	b.line = line
	b.mu.Unlock()
	return b, nil
}

// edge handles one edge event; a press is the rising edge (inactive to
// active: for an active-low button, the line going low).
func (b *GPIOButton) edge(rising bool, ts time.Duration) {
	if !rising {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || !b.filter.accept(ts) {
		return
	}
	select {
	case b.events <- b.now():
	default:
	}
}

// Events delivers the wall time of each press; it is closed by Close.
func (b *GPIOButton) Events() <-chan time.Time { return b.events }

// Close releases the line and closes Events. It is safe to call more than
// once.
func (b *GPIOButton) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	line := b.line
	close(b.events)
	b.mu.Unlock()
	// Released outside the lock: gpiocdev's Close waits for a running
	// event handler, which takes the lock.
	if err := line.Close(); err != nil {
		return fmt.Errorf("%w: release button (%s): %w", ErrLine, b.addr, err)
	}
	return nil
}
