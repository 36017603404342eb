// Command guest runs inside the QEMU virt machine booted by test/gpio: it
// opens switchtap's GPIO panel and silence button through device.Open, as
// the daemon does on the board, and drives the board's PL061 GPIO chip.
//
// It either plays a script of lamp states (-script) and then waits for
// button presses (-events), or runs device.SelfTest (-selftest), the code
// behind `switchtap device test`. The host reads the console: "READY
// button" (or the self-test's "press the silence button now") when it may
// pulse pin 3, one "EVENT" line per press, and a last "RESULT ok ..." or
// "RESULT fail ..." line. The panel is always closed before exit, which
// sets every output inactive.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/switchtap/switchtap/device"
)

// outputs are the roles a script step can turn on. The receptionist's own
// lamps are "op-amber" and "op-red".
var outputs = []string{"amber", "red", "status", "buzzer", "op-amber", "op-red"}

// errUsage is a command line that cannot be run.
var errUsage = errors.New("usage")

// options is the parsed command line.
type options struct {
	cfg      device.Config
	script   []device.Lamps
	step     time.Duration
	events   int
	wait     time.Duration
	settle   time.Duration
	selftest time.Duration
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

func run(args []string, out io.Writer) int {
	opts, err := parse(args)
	if err != nil {
		fmt.Fprintf(out, "RESULT fail %v\n", err)
		return 2
	}
	n, err := drive(opts, out)
	if err != nil {
		fmt.Fprintf(out, "RESULT fail events=%d %v\n", n, err)
		return 1
	}
	if opts.selftest > 0 {
		fmt.Fprintln(out, "RESULT ok selftest")
		return 0
	}
	fmt.Fprintf(out, "RESULT ok events=%d steps=%d\n", n, len(opts.script))
	return 0
}

func parse(args []string) (options, error) {
	fs := flag.NewFlagSet("guest", flag.ContinueOnError)
	opts := options{cfg: device.DefaultConfig()}
	opts.cfg.Panel = device.PanelGPIO
	specs := map[string]string{}
	for _, r := range append(append([]string(nil), outputs...), "button") {
		fs.Func(r, "line of the "+r+": [CHIP:]OFFSET or [CHIP:]NAME", func(s string) error {
			specs[r] = s
			return nil
		})
	}
	fs.StringVar(&opts.cfg.Chip, "chip", device.DefaultChip, "chip of the lines given by a bare offset")
	operator := fs.String("operator", "ana", "name of the receptionist owning -op-amber and -op-red")
	activeLow := fs.String("active-low", "", "comma-separated roles whose line is active-low")
	script := fs.String("script", "", "steps separated by ';', each the comma-separated roles that are on")
	fs.DurationVar(&opts.step, "step", 20*time.Millisecond, "time each script step is held")
	fs.DurationVar(&opts.cfg.Debounce, "debounce", 5*time.Millisecond, "button debounce")
	fs.IntVar(&opts.events, "events", 0, "button presses to wait for after the script")
	fs.DurationVar(&opts.wait, "wait", 10*time.Second, "longest wait for the presses")
	fs.DurationVar(&opts.settle, "settle", 300*time.Millisecond, "time to keep listening after the last wanted press")
	fs.DurationVar(&opts.selftest, "selftest", 0, "run device.SelfTest with this step instead of the script")
	if err := fs.Parse(args); err != nil {
		return opts, fmt.Errorf("%w: %w", errUsage, err)
	}
	low := map[string]bool{}
	for _, r := range splitList(*activeLow, ",") {
		if _, ok := specs[r]; !ok {
			return opts, fmt.Errorf("%w: -active-low names %q, which has no line", errUsage, r)
		}
		low[r] = true
	}
	line := func(r string) *device.Line {
		s, ok := specs[r]
		if !ok {
			return nil
		}
		l := device.Line{ActiveLow: low[r]}
		if i := strings.LastIndex(s, ":"); i >= 0 {
			l.Chip, s = s[:i], s[i+1:]
		}
		if o, err := strconv.Atoi(s); err == nil {
			l.Offset = o
		} else {
			l.Name = s
		}
		return &l
	}
	g := &opts.cfg.GPIOConfig
	g.Amber, g.Red, g.Status, g.Buzzer = line("amber"), line("red"), line("status"), line("buzzer")
	if a, r := line("op-amber"), line("op-red"); a != nil || r != nil {
		g.Operators = []device.OperatorLines{{Name: *operator, Amber: a, Red: r}}
	}
	opts.cfg.Button = line("button")
	if (opts.events > 0 || opts.selftest > 0) && opts.cfg.Button == nil {
		return opts, fmt.Errorf("%w: -events and -selftest need -button", errUsage)
	}
	for _, step := range strings.Split(*script, ";") {
		var l device.Lamps
		for _, r := range splitList(step, ",") {
			switch r {
			case "amber":
				l.Amber = true
			case "red":
				l.Red = true
			case "status":
				l.Status = true
			case "buzzer":
				l.Buzzer = true
			case "op-amber", "op-red":
				op := l.Operators[*operator]
				if r == "op-amber" {
					op.Amber = true
				} else {
					op.Red = true
				}
				l.Operators = map[string]device.OperatorLamps{*operator: op}
			default:
				return opts, fmt.Errorf("%w: script step %q names %q", errUsage, step, r)
			}
		}
		opts.script = append(opts.script, l)
	}
	return opts, nil
}

// drive opens the panel and the button as the daemon does, plays the script
// or the self-test, and returns how many presses it saw.
func drive(opts options, out io.Writer) (n int, err error) {
	panel, button, err := device.Open(opts.cfg, slog.New(slog.NewTextHandler(out, nil)))
	if err != nil {
		return 0, err
	}
	defer func() {
		// Lamps and buzzer off, then release: the host checks this last
		// level on every line.
		if cerr := panel.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the panel: %w", cerr)
		}
	}()
	if button != nil {
		defer button.Close()
	}
	if opts.selftest > 0 {
		return 0, device.SelfTest(context.Background(), panel, button, out, opts.selftest)
	}
	for i, l := range opts.script {
		if err := panel.Set(l); err != nil {
			return 0, fmt.Errorf("step %d: %w", i, err)
		}
		time.Sleep(opts.step)
	}
	fmt.Fprintf(out, "SCRIPT done steps=%d\n", len(opts.script))
	if opts.events == 0 {
		return 0, nil
	}
	fmt.Fprintln(out, "READY button")
	deadline := time.NewTimer(opts.wait)
	defer deadline.Stop()
	var settle <-chan time.Time
	start := time.Now()
	for {
		select {
		case at, ok := <-button.Events():
			if !ok {
				return n, errors.New("button events closed")
			}
			n++
			fmt.Fprintf(out, "EVENT %d at=%s\n", n, at.Sub(start).Round(time.Millisecond))
			if n == opts.events {
				settle = time.After(opts.settle)
			}
		case <-settle:
			return n, nil
		case <-deadline.C:
			return n, fmt.Errorf("%d of %d button presses in %s", n, opts.events, opts.wait)
		}
	}
}

func splitList(s, sep string) []string {
	var out []string
	for _, f := range strings.Split(s, sep) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
