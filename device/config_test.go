package device

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func parseConfig(t *testing.T, doc string) (Config, error) {
	t.Helper()
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.KnownFields(true)
	err := dec.Decode(&c)
	return c, err
}

func TestConfigYAML(t *testing.T) {
	c, err := parseConfig(t, `
panel: gpio
chip: gpiochip1
amber: {offset: 17}
red: {name: LED_RED, active_low: true}
buzzer: {chip: gpiochip0, offset: 0}
status: {offset: 4}
button: {offset: 3, active_low: true}
debounce: 30ms
operators:
  - {name: Ana, amber: {offset: 10}, red: {offset: 11}}
no_sip_after: 15m
max_ringing: 3m
`)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Panel: PanelGPIO,
		GPIOConfig: GPIOConfig{
			Chip:      "gpiochip1",
			Amber:     &Line{Offset: 17},
			Red:       &Line{Name: "LED_RED", ActiveLow: true},
			Buzzer:    &Line{Chip: "gpiochip0"},
			Status:    &Line{Offset: 4},
			Operators: []OperatorLines{{Name: "Ana", Amber: &Line{Offset: 10}, Red: &Line{Offset: 11}}},
		},
		Button:     &Line{Offset: 3, ActiveLow: true},
		Debounce:   30 * time.Millisecond,
		NoSIPAfter: 15 * time.Minute,
		MaxRinging: 3 * time.Minute,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("parsed %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if l, ok := c.ButtonLine(); !ok || l != (Line{Chip: "gpiochip1", Offset: 3, ActiveLow: true}) {
		t.Fatalf("button line %+v %v: want the panel's chip filled in", l, ok)
	}
	if _, err := parseConfig(t, "panel: gpio\nambre: {offset: 1}\n"); err == nil {
		t.Fatal("a misspelt key was accepted")
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := parseConfig(t, "{}")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Panel != PanelLog || c.Debounce != DefaultDebounce || c.NoSIPAfter != DefaultNoSIPAfter || c.MaxRinging != DefaultMaxRinging {
		t.Fatalf("defaults %+v", c)
	}
	if _, ok := c.ButtonLine(); ok {
		t.Fatal("a button with none configured")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"unknown panel", func() Config { c := DefaultConfig(); c.Panel = "leds"; return c }()},
		{"empty panel", func() Config { c := DefaultConfig(); c.Panel = ""; return c }()},
		{"zero no_sip_after", func() Config { c := DefaultConfig(); c.NoSIPAfter = 0; return c }()},
		{"zero max_ringing", func() Config { c := DefaultConfig(); c.MaxRinging = 0; return c }()},
		{"negative debounce", func() Config { c := DefaultConfig(); c.Debounce = -1; return c }()},
		{"bad button on a log panel", func() Config { c := DefaultConfig(); c.Button = &Line{Offset: -3}; return c }()},
		{"gpio without red", gpioConfig(func(c *Config) { c.Red = nil })},
		{"gpio without amber", gpioConfig(func(c *Config) { c.Amber = nil })},
		{"name and offset", gpioConfig(func(c *Config) { c.Buzzer = &Line{Name: "BUZ", Offset: 3} })},
		{"operator without name", gpioConfig(func(c *Config) { c.Operators = []OperatorLines{{Red: &Line{Offset: 5}}} })},
		{"operator without lamps", gpioConfig(func(c *Config) { c.Operators = []OperatorLines{{Name: "Ana"}} })},
		{"operator twice", gpioConfig(func(c *Config) {
			c.Operators = []OperatorLines{{Name: "Ana", Red: &Line{Offset: 5}}, {Name: "Ana", Red: &Line{Offset: 6}}}
		})},
		{"operator bad line", gpioConfig(func(c *Config) { c.Operators = []OperatorLines{{Name: "Ana", Red: &Line{Offset: -5}}} })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate() = %v, want ErrConfig", err)
			}
		})
	}
	if err := gpioConfig(func(*Config) {}).Validate(); err != nil {
		t.Fatalf("minimal gpio config: %v", err)
	}
}

func gpioConfig(f func(c *Config)) Config {
	c := DefaultConfig()
	c.Panel = PanelGPIO
	c.Amber, c.Red = &Line{Offset: 1}, &Line{Offset: 2}
	f(&c)
	return c
}

func TestLineString(t *testing.T) {
	for _, tc := range []struct {
		l    Line
		want string
	}{
		{Line{Chip: "gpiochip0", Offset: 17}, "gpiochip0 offset 17"},
		{Line{Name: "LED_RED", ActiveLow: true}, `"LED_RED" on any chip (active low)`},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}
