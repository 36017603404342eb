package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/switchtap/switchtap/device"
)

// cmdDevice runs `switchtap device test`: every lamp and the buzzer in
// turn, then the silence button, for the installer.
func cmdDevice(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "test" {
		return fmt.Errorf("%w: device test [--config FILE] [--step D]", errUsage)
	}
	fs := newFlagSet("device test", stderr)
	var cfgPath string
	addConfigFlag(fs, &cfgPath)
	step := fs.Duration("step", time.Second, "how long each lamp stays on")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	panel, button, err := device.Open(cfg.Device, log)
	if err != nil {
		return fmt.Errorf("alarm panel: %w", err)
	}
	fmt.Fprintf(stdout, "panel %s\n", cfg.Device.Panel)
	testErr := device.SelfTest(ctx, panel, button, stdout, *step)
	if button != nil {
		_ = button.Close()
	}
	if err := panel.Close(); err != nil && testErr == nil {
		testErr = err
	}
	return testErr
}
