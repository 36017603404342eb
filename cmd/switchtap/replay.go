package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/tap"
)

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	asJSON := fs.Bool("json", false, "print call records as JSON Lines")
	alarms := fs.Bool("alarms", false, "print the alarm panel's edges (warning, alarm, clear) as JSON Lines instead")
	cfgPath := fs.String("config", "", "configuration file (defaults apply without one)")
	recordDir := fs.String("record-dir", "", "write the answered calls' recordings under this directory")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: replay needs at least one capture file", errUsage)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(stderr, "warn")
	src, err := capture.OpenFiles(files)
	if err != nil {
		return err
	}
	defer src.Close()

	var col tap.Collector
	var edges []device.Edge
	opts := []tap.PipelineOption{}
	if *alarms {
		opts = append(opts, tap.WithAlarm(device.NewPolicy(daemon.AlarmPolicy(cfg)), func(es []device.Edge, _ device.PanelState) {
			for _, e := range es {
				// A mute needs the button: it never happens in a replay.
				if e.State != device.EdgeMuted {
					edges = append(edges, e)
				}
			}
		}))
	}
	var rec *recorder.Recorder
	if *recordDir != "" {
		cfg.Recording.Dir = *recordDir
		// Replay writes what the capture holds: no retention, no floor.
		cfg.Recording.MinFree, cfg.Recording.MaxTotal, cfg.Recording.MaxAge = 0, 0, 0
		if rec, err = daemon.OpenRecorder(cfg, log); err != nil {
			return err
		}
		opts = append(opts, tap.WithRecorder(rec))
	}
	p := tap.NewPipeline(cfg.TrackerConfig(), col.Add, log, opts...)
	err = tap.Replay(ctx, src, p)
	if rec != nil {
		if cerr := rec.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	if *alarms {
		enc := json.NewEncoder(stdout)
		for _, e := range edges {
			if err := enc.Encode(e); err != nil {
				return fmt.Errorf("write json: %w", err)
			}
		}
		return nil
	}
	calls := col.Calls()
	if *asJSON {
		return writeJSONLines(stdout, calls)
	}
	printTable(stdout, calls)
	st := p.Stats()
	fmt.Fprintf(stderr, "%d frames, %d SIP messages, %d rejected, %d calls\n",
		st.Decoder.Frames, st.SIPMessages, sum(st.SIPErrors), len(calls))
	return nil
}

func sum(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

func writeJSONLines[T any](w io.Writer, items []T) error {
	enc := json.NewEncoder(w)
	for _, c := range items {
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
	}
	return nil
}
