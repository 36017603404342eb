package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	asJSON := fs.Bool("json", false, "print call records as JSON Lines")
	alarms := fs.Bool("alarms", false, "print the alarm panel's edges (warning, alarm, clear) as JSON Lines instead")
	var cfgPath string
	addConfigFlag(fs, &cfgPath)
	recordDir := fs.String("record-dir", "", "write the answered calls' recordings under this directory")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: replay needs at least one capture file", errUsage)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	// A progress line on a terminal (issue 12), nothing otherwise; the
	// messages that share stderr with it blank it first.
	prog := newProgress(stderr, false, progressEnv{})
	stderr = prog.writer(stderr)
	log := newLogger(stderr, "warn")
	src, err := capture.OpenFiles(files)
	if err != nil {
		return err
	}
	defer src.Close()
	src = prog.watch(src)
	// A file cut mid-packet ends at its last whole frame and the calls read
	// so far are printed; the exit status says the input was partial
	// (issue 9 §3).
	var cuts []*capture.TruncatedError
	if t, ok := src.(capture.Truncating); ok {
		t.OnTruncated(func(e *capture.TruncatedError) {
			cuts = append(cuts, e)
			fmt.Fprintf(stderr, "switchtap: warning: %s: cut short at byte %d of %d (%d frames read, the rest is lost): %v\n",
				e.Path, e.Offset, e.Size, e.Frames, e.Err)
		})
	}

	var col tap.Collector
	var edges []device.Edge
	// Legs that never rang from a flooding source are counted, not
	// printed one record each: say so on stderr.
	opts := []tap.PipelineOption{tap.WithAggregates(col.AddAggregates)}
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
		if rec, err = daemon.OpenReplayRecorder(cfg, log); err != nil {
			return err
		}
		opts = append(opts, daemon.RecorderOptions(rec)...)
	}
	p := tap.NewPipeline(cfg.TrackerConfig(), prog.countCalls(col.Add), log, opts...)
	stopProg := prog.run(ctx)
	defer stopProg()
	err = tap.Replay(ctx, src, p)
	if rec != nil {
		if cerr := rec.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	stopProg()
	if err != nil {
		return err
	}
	if err := printReplay(stdout, stderr, &col, edges, p.Stats(), *alarms, *asJSON); err != nil {
		return err
	}
	if len(cuts) > 0 {
		return fmt.Errorf("%w: %d of %d capture files cut short", errPartial, len(cuts), len(files))
	}
	return nil
}

// printReplay writes replay's output: the alarm edges or the calls on
// stdout, and on stderr the summary (table mode) and the frames that could
// not be decoded, by reason, whenever there are any — an unsupported link
// type or frames cut by a small snaplen otherwise give 0 calls and no word.
func printReplay(stdout, stderr io.Writer, col *tap.Collector, edges []device.Edge, st tap.Stats, alarms, asJSON bool) error {
	defer printUndecodable(stderr, st.Decoder)
	defer printAggregates(stderr, col.Aggregates())
	if alarms {
		return writeJSONLines(stdout, edges)
	}
	calls := col.Calls()
	if asJSON {
		return writeJSONLines(stdout, calls)
	}
	printTable(stdout, calls)
	fmt.Fprintf(stderr, "%d frames, %d SIP messages, %d rejected, %d calls\n",
		st.Decoder.Frames, st.SIPMessages, sum(st.SIPErrors), len(calls))
	return nil
}

// printAggregates writes, when there are any, how many legs that never
// rang were counted per source and reason instead of printed as records.
func printAggregates(w io.Writer, as []sip.Aggregate) {
	if len(as) == 0 {
		return
	}
	type key struct{ source, reason string }
	sums := map[key]int{}
	var keys []key
	total := 0
	for _, a := range as {
		k := key{a.Source, a.Reason}
		if _, ok := sums[k]; !ok {
			keys = append(keys, k)
		}
		sums[k] += a.Legs
		total += a.Legs
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %s %d", k.source, k.reason, sums[k]))
	}
	fmt.Fprintf(w, "switchtap: %d legs that never rang counted as aggregates, not records (%s)\n", total, strings.Join(parts, ", "))
}

// printUndecodable writes one line with the undecodable frames by reason,
// in a fixed order, when there are any.
func printUndecodable(w io.Writer, st capture.DecoderStats) {
	n := sum(st.Undecodable)
	if n == 0 {
		return
	}
	keys := make([]string, 0, len(st.Undecodable))
	for k, v := range st.Undecodable {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, st.Undecodable[k]))
	}
	fmt.Fprintf(w, "switchtap: warning: %d of %d frames undecodable (%s)\n", n, st.Frames, strings.Join(parts, ", "))
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
