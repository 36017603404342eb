package device

import (
	"fmt"
	"time"
)

// Panel kinds for Config.Panel.
const (
	// PanelLog logs the panel's state changes through slog.
	PanelLog = "log"
	// PanelGPIO drives lamps and buzzer on GPIO lines.
	PanelGPIO = "gpio"
)

// Defaults of the device configuration.
const (
	// DefaultChip is the chip of a line given by offset with no chip.
	DefaultChip = "gpiochip0"
	// DefaultDebounce is the silence button's debounce period.
	DefaultDebounce = 20 * time.Millisecond
	// DefaultNoSIPAfter is how long without SIP makes the status lamp blink
	// slowly.
	DefaultNoSIPAfter = 10 * time.Minute
	// DefaultMaxRinging is how long a call whose end was never seen can keep
	// the alarm on.
	DefaultMaxRinging = 5 * time.Minute
)

// Config is the "device" section of the configuration file.
type Config struct {
	// Panel is "log" (state changes logged) or "gpio". Asking for gpio on a
	// machine without a chip is an error at start-up, never a silent
	// fallback to the log.
	Panel      string `yaml:"panel"`
	GPIOConfig `yaml:",inline"`
	// Button is the silence button's input line, if any.
	Button *Line `yaml:"button"`
	// Debounce is the button's debounce period.
	Debounce time.Duration `yaml:"debounce"`
	// NoSIPAfter is how long without any SIP message turns the status lamp
	// from steady to a slow blink.
	NoSIPAfter time.Duration `yaml:"no_sip_after"`
	// MaxRinging is how long a ringing call counts at most: a call whose
	// end was never seen cannot keep the alarm on forever.
	MaxRinging time.Duration `yaml:"max_ringing"`
}

// GPIOConfig names the output lines of a GPIO panel. A nil line is not
// wired.
type GPIOConfig struct {
	// Chip is the chip of lines that name none (default gpiochip0).
	Chip   string `yaml:"chip"`
	Amber  *Line  `yaml:"amber"`
	Red    *Line  `yaml:"red"`
	Buzzer *Line  `yaml:"buzzer"`
	Status *Line  `yaml:"status"`
	// Operators are optional lamps of each receptionist, chosen by the
	// call's operator (the receptionist's configured name).
	Operators []OperatorLines `yaml:"operators"`
}

// OperatorLines are one receptionist's own lamps.
type OperatorLines struct {
	Name  string `yaml:"name"`
	Amber *Line  `yaml:"amber"`
	Red   *Line  `yaml:"red"`
}

// Line is one GPIO line: by chip and offset, or by line name (found on Chip,
// or on every chip when Chip is empty).
type Line struct {
	// Chip is the chip name ("gpiochip0") or path ("/dev/gpiochip0").
	Chip   string `yaml:"chip"`
	Offset int    `yaml:"offset"`
	// Name is the line's name in the device tree, an alternative to
	// Offset.
	Name string `yaml:"name"`
	// ActiveLow says the lamp or button is on when the line is low.
	ActiveLow bool `yaml:"active_low"`
}

// String describes the line for errors and logs.
func (l Line) String() string {
	s := l.Chip
	if s == "" {
		s = "any chip"
	}
	if l.Name != "" {
		s = fmt.Sprintf("%q on %s", l.Name, s)
	} else {
		s = fmt.Sprintf("%s offset %d", s, l.Offset)
	}
	if l.ActiveLow {
		s += " (active low)"
	}
	return s
}

// Validate reports a line that names neither a valid offset nor a name, or
// both.
func (l Line) Validate() error {
	if l.Offset < 0 {
		return fmt.Errorf("%w: line offset %d < 0", ErrConfig, l.Offset)
	}
	if l.Name != "" && l.Offset != 0 {
		return fmt.Errorf("%w: line %q has both a name and offset %d: give one", ErrConfig, l.Name, l.Offset)
	}
	return nil
}

// DefaultConfig returns the defaults: a log panel, no lines.
func DefaultConfig() Config {
	return Config{
		Panel:      PanelLog,
		GPIOConfig: GPIOConfig{Chip: DefaultChip},
		Debounce:   DefaultDebounce,
		NoSIPAfter: DefaultNoSIPAfter,
		MaxRinging: DefaultMaxRinging,
	}
}

// Validate checks a configuration before anything is opened.
func (c Config) Validate() error {
	if c.Debounce < 0 || c.NoSIPAfter <= 0 || c.MaxRinging <= 0 {
		return fmt.Errorf("%w: debounce %s, no_sip_after %s, max_ringing %s: want debounce ≥ 0 and the others > 0",
			ErrConfig, c.Debounce, c.NoSIPAfter, c.MaxRinging)
	}
	if c.Button != nil {
		if err := c.Button.Validate(); err != nil {
			return fmt.Errorf("button: %w", err)
		}
	}
	switch c.Panel {
	case PanelLog:
		return nil
	case PanelGPIO:
		return c.GPIOConfig.Validate()
	}
	return fmt.Errorf("%w: panel %q: want log or gpio", ErrConfig, c.Panel)
}

// Validate checks the panel's lines: amber and red are required, every
// line must be valid, operators need a name and at least one lamp.
func (c GPIOConfig) Validate() error {
	if c.Amber == nil || c.Red == nil {
		return fmt.Errorf("%w: a gpio panel needs amber and red lines", ErrConfig)
	}
	for _, nl := range c.named() {
		if err := nl.line.Validate(); err != nil {
			return fmt.Errorf("%s: %w", nl.name, err)
		}
	}
	seen := make(map[string]bool, len(c.Operators))
	for i, o := range c.Operators {
		if o.Name == "" {
			return fmt.Errorf("%w: operators[%d]: name is required", ErrConfig, i)
		}
		if seen[o.Name] {
			return fmt.Errorf("%w: operator %q listed twice", ErrConfig, o.Name)
		}
		seen[o.Name] = true
		if o.Amber == nil && o.Red == nil {
			return fmt.Errorf("%w: operator %q: give amber and/or red", ErrConfig, o.Name)
		}
		for _, l := range []*Line{o.Amber, o.Red} {
			if l == nil {
				continue
			}
			if err := l.Validate(); err != nil {
				return fmt.Errorf("operator %q: %w", o.Name, err)
			}
		}
	}
	return nil
}

// ButtonLine returns the button's line with the panel's chip filled in, and
// false when no button is wired.
func (c Config) ButtonLine() (Line, bool) {
	if c.Button == nil {
		return Line{}, false
	}
	return c.GPIOConfig.withChip(*c.Button), true
}

// withChip fills in the default chip of a line that gives an offset and no
// chip. A line given by name and no chip is searched on every chip.
func (c GPIOConfig) withChip(l Line) Line {
	if l.Chip == "" && l.Name == "" {
		l.Chip = c.Chip
		if l.Chip == "" {
			l.Chip = DefaultChip
		}
	}
	return l
}

// namedLine is a configured line with its role, for errors.
type namedLine struct {
	name string
	line Line
}

// named lists the wired shared lines in a fixed order.
func (c GPIOConfig) named() []namedLine {
	var out []namedLine
	for _, nl := range []struct {
		name string
		l    *Line
	}{{"amber", c.Amber}, {"red", c.Red}, {"buzzer", c.Buzzer}, {"status", c.Status}} {
		if nl.l != nil {
			out = append(out, namedLine{nl.name, *nl.l})
		}
	}
	return out
}
