package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// buttonWindowSteps is how many steps the self-test listens for the
// button.
const buttonWindowSteps = 10

// operatorLister is a panel with per-receptionist lamps.
type operatorLister interface {
	Operators() []string
}

// SelfTest is `switchtap device test`: it lights each lamp and sounds the
// buzzer alone for step each (the receptionists' own lamps too, if the
// panel has any), then listens for the silence button for ten steps,
// reporting each press to w. It leaves the panel dark but open. A nil
// button is reported as not wired.
func SelfTest(ctx context.Context, panel Panel, button Button, w io.Writer, step time.Duration) error {
	type stepLamps struct {
		name  string
		lamps Lamps
	}
	steps := []stepLamps{
		{"amber", Lamps{Amber: true}},
		{"red", Lamps{Red: true}},
		{"buzzer", Lamps{Buzzer: true}},
		{"status", Lamps{Status: true}},
	}
	if ol, ok := panel.(operatorLister); ok {
		for _, name := range ol.Operators() {
			steps = append(steps,
				stepLamps{"operator " + name + " amber", Lamps{Operators: map[string]OperatorLamps{name: {Amber: true}}}},
				stepLamps{"operator " + name + " red", Lamps{Operators: map[string]OperatorLamps{name: {Red: true}}}})
		}
	}
	dark := func(err error) error { return errors.Join(err, panel.Set(Lamps{})) }
	for _, s := range steps {
		fmt.Fprintf(w, "%s on\n", s.name)
		if err := panel.Set(s.lamps); err != nil {
			return dark(fmt.Errorf("self-test %s: %w", s.name, err))
		}
		if err := sleep(ctx, step); err != nil {
			return dark(err)
		}
	}
	if err := panel.Set(Lamps{}); err != nil {
		return fmt.Errorf("self-test all off: %w", err)
	}
	fmt.Fprintln(w, "all off")
	if button == nil {
		fmt.Fprintln(w, "no silence button wired")
		return nil
	}
	window := buttonWindowSteps * step
	fmt.Fprintf(w, "press the silence button now (listening for %s)\n", window)
	timer := time.NewTimer(window)
	defer timer.Stop()
	presses := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			fmt.Fprintf(w, "%d button presses\n", presses)
			return nil
		case at, ok := <-button.Events():
			if !ok {
				return fmt.Errorf("self-test: %w: button closed", ErrLine)
			}
			presses++
			fmt.Fprintf(w, "button pressed at %s\n", at.Format("15:04:05.000"))
		}
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
