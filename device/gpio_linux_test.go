//go:build linux

package device

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"
)

// describe renders request options so they can be compared.
func describe(t *testing.T, opts []gpiocdev.LineReqOption) []string {
	t.Helper()
	var out []string
	for _, o := range opts {
		switch v := o.(type) {
		case gpiocdev.ConsumerOption:
			out = append(out, "consumer="+string(v))
		case gpiocdev.OutputOption:
			out = append(out, "output")
			if !reflect.DeepEqual([]int(v), []int{0}) {
				t.Errorf("output values %v, want [0]", []int(v))
			}
		case gpiocdev.LevelOption:
			if v == gpiocdev.AsActiveLow {
				out = append(out, "active_low")
			}
		case gpiocdev.LineEdge:
			if v == gpiocdev.WithBothEdges {
				out = append(out, "both_edges")
			}
		case gpiocdev.EventHandler:
			out = append(out, "handler")
		case gpiocdev.DebounceOption:
			out = append(out, "debounce="+time.Duration(v).String())
		default:
			t.Fatalf("unexpected option %T", o)
		}
	}
	return out
}

func TestOutputOptions(t *testing.T) {
	if got, want := describe(t, outputOptions(false)), []string{"consumer=switchtap", "output"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("%q, want %q", got, want)
	}
	if got, want := describe(t, outputOptions(true)), []string{"consumer=switchtap", "output", "active_low"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("%q, want %q", got, want)
	}
}

func TestInputOptions(t *testing.T) {
	eh := func(gpiocdev.LineEvent) {}
	if got, want := describe(t, inputOptions(true, 20*time.Millisecond, eh)),
		[]string{"consumer=switchtap", "both_edges", "handler", "active_low", "debounce=20ms"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("%q, want %q", got, want)
	}
	if got, want := describe(t, inputOptions(false, 0, eh)),
		[]string{"consumer=switchtap", "both_edges", "handler"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("%q, want %q", got, want)
	}
}

// TestNoChipIsAnError checks that asking for GPIO where there is none
// fails at start-up rather than falling back (the QEMU harness tests the
// real chip).
func TestNoChipIsAnError(t *testing.T) {
	if len(gpiocdev.Chips()) > 0 {
		t.Skip("this machine has GPIO chips")
	}
	if _, err := NewGPIOPanel(testGPIOConfig()); !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("panel: %v, want ErrNoGPIO", err)
	}
	if _, err := NewGPIOButton(Line{Offset: 3}, DefaultDebounce); !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("button: %v, want ErrNoGPIO", err)
	}
	cfg := DefaultConfig()
	cfg.Panel = PanelGPIO
	cfg.GPIOConfig = testGPIOConfig()
	if _, _, err := Open(cfg, nil); !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("Open: %v, want ErrNoGPIO", err)
	}
}
