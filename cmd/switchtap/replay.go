package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	asJSON := fs.Bool("json", false, "print call records as JSON Lines")
	cfgPath := fs.String("config", "", "configuration file (defaults apply without one)")
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
	p := tap.NewPipeline(cfg.TrackerConfig(), col.Add, log)
	if err := tap.Replay(ctx, src, p); err != nil {
		return err
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

func writeJSONLines(w io.Writer, calls []sip.Call) error {
	enc := json.NewEncoder(w)
	for _, c := range calls {
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
	}
	return nil
}
