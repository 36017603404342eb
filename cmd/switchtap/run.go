package main

import (
	"context"
	"fmt"
	"io"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/daemon"
)

func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	cf := addCommonFlags(fs)
	iface := fs.String("i", "", "interface on the mirror port (overrides interface:)")
	var pcaps listFlag
	fs.Var(&pcaps, "pcap", "read capture files instead of an interface (`FILE`...; files after it too)")
	realtime := fs.Bool("realtime", false, "with --pcap: replay at the speed of capture")
	metricsListen := fs.String("metrics-listen", "", `metrics address (overrides metrics.listen:; "off" disables)`)
	webListen := fs.String("web-listen", "", `console address (overrides web.listen:; "off" disables)`)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 && len(pcaps) == 0 {
		return fmt.Errorf("%w: unexpected arguments %q (capture files go after --pcap)", errUsage, pos)
	}
	pcaps = append(pcaps, pos...)
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	if *iface != "" {
		cfg.Interface = *iface
	}
	cfg.Metrics.Listen = override(cfg.Metrics.Listen, *metricsListen)
	cfg.Web.Listen = override(cfg.Web.Listen, *webListen)
	if cfg.Interface == "" && len(pcaps) == 0 {
		return fmt.Errorf("%w: run needs -i IFACE (or interface: in the config) or --pcap FILE", errUsage)
	}
	// On a terminal, run --pcap shows how far the files are read.
	var prog *progress
	if len(pcaps) > 0 {
		prog = newProgress(stderr, *realtime, progressEnv{})
	}
	d, err := daemon.New(ctx, daemon.Options{
		Config: cfg, Pcaps: pcaps, Realtime: *realtime, Version: version,
		Log: newLogger(prog.writer(stderr), cfg.LogLevel), DropPrivileges: true,
	})
	if err != nil {
		return err
	}
	if in := d.InputProgress(); in != nil && prog != nil {
		// The final line once every record of the files is stored: its
		// count is then the whole input's.
		prog.follow(func() capture.Progress { return in(progressFresh) }, d.Stored, d.InputStored)
		prog.countsRecords()
		defer prog.run(ctx)()
	}
	return d.Run(ctx)
}

// override applies an address flag: "" keeps the configured one, "off"
// turns it off.
func override(cfg, flag string) string {
	switch flag {
	case "":
		return cfg
	case "off":
		return ""
	}
	return flag
}
