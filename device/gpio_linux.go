//go:build linux

package device

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/warthog618/go-gpiocdev"
)

// NewGPIOPanel requests the panel's lines through the GPIO character
// device, every output inactive. It fails if the machine has no GPIO chip
// or a line cannot be found or held.
func NewGPIOPanel(cfg GPIOConfig) (*GPIOPanel, error) {
	return newGPIOPanel(cfg, cdev{})
}

// NewGPIOButton requests the button's line as a debounced input with edge
// events. A line with no chip and no name is on DefaultChip.
func NewGPIOButton(line Line, debounce time.Duration) (*GPIOButton, error) {
	return newGPIOButton(line, debounce, cdev{}, time.Now)
}

// cdev is chipAccess through go-gpiocdev.
type cdev struct{}

func (cdev) chips() []string { return gpiocdev.Chips() }

func (cdev) findLine(chip, name string) (string, int, error) {
	if chip == "" {
		return gpiocdev.FindLine(name)
	}
	c, err := gpiocdev.NewChip(chip)
	if err != nil {
		return "", 0, err
	}
	defer c.Close()
	off, err := c.FindLine(name)
	return chip, off, err
}

func (cdev) requestOutput(chip string, offset int, activeLow bool) (outputLine, error) {
	return gpiocdev.RequestLine(chip, offset, outputOptions(activeLow)...)
}

func (cdev) requestInput(chip string, offset int, activeLow bool, debounce time.Duration,
	onEdge func(rising bool, ts time.Duration),
) (io.Closer, error) {
	eh := func(e gpiocdev.LineEvent) { onEdge(e.Type == gpiocdev.LineEventRisingEdge, e.Timestamp) }
	l, err := gpiocdev.RequestLine(chip, offset, inputOptions(activeLow, debounce, eh)...)
	var abi gpiocdev.ErrUapiIncompatibility
	if debounce > 0 && errors.As(err, &abi) {
		// A kernel with only the v1 uAPI cannot debounce: the press
		// filter's gap stands in for it.
		l, err = gpiocdev.RequestLine(chip, offset, inputOptions(activeLow, 0, eh)...)
	}
	if err != nil {
		return nil, fmt.Errorf("request input: %w", err)
	}
	return l, nil
}

// outputOptions are the options of a lamp or buzzer line: output, inactive
// from the start.
func outputOptions(activeLow bool) []gpiocdev.LineReqOption {
	opts := []gpiocdev.LineReqOption{gpiocdev.WithConsumer(consumer), gpiocdev.AsOutput(0)}
	if activeLow {
		opts = append(opts, gpiocdev.AsActiveLow)
	}
	return opts
}

// inputOptions are the options of the button line: input with both edges
// reported (a press is the rising one), debounced by the kernel.
func inputOptions(activeLow bool, debounce time.Duration, eh gpiocdev.EventHandler) []gpiocdev.LineReqOption {
	opts := []gpiocdev.LineReqOption{gpiocdev.WithConsumer(consumer), gpiocdev.WithBothEdges, gpiocdev.WithEventHandler(eh)}
	if activeLow {
		opts = append(opts, gpiocdev.AsActiveLow)
	}
	if debounce > 0 {
		opts = append(opts, gpiocdev.WithDebounce(debounce))
	}
	return opts
}
