package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

func cmdCalls(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calls", stderr)
	from := fs.String("from", "", "first day (YYYY-MM-DD, UTC) or RFC 3339 time; default: all")
	to := fs.String("to", "", "last day included (YYYY-MM-DD) or RFC 3339 time (excluded); default: all")
	asJSON := fs.Bool("json", false, "print call records as JSON Lines")
	cfgPath := fs.String("config", "", "configuration file")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir:)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	start, err := parseWhen(*from, time.Unix(0, 0), false)
	if err != nil {
		return err
	}
	end, err := parseWhen(*to, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), true)
	if err != nil {
		return err
	}
	store, err := storage.Open(cfg.DataDir, storage.WithLogger(newLogger(stderr, "warn")))
	if err != nil {
		return err
	}
	defer store.Close()
	var calls []sip.Call
	if err := store.Calls(ctx, start, end, func(c sip.Call) error {
		calls = append(calls, c)
		return nil
	}); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(stdout, calls)
	}
	printTable(stdout, calls)
	return nil
}

// parseWhen reads a day or an RFC 3339 time; a day given as the end of a
// range includes that whole day.
func parseWhen(s string, def time.Time, end bool) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is neither YYYY-MM-DD nor RFC 3339", errUsage, s)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

func printTable(w io.Writer, calls []sip.Call) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INVITE (UTC)\tFROM\tTO\tDIRECTION\tRING s\tRINGS\tOK\tEND\tBY\tTRANSFER\tCALL-ID")
	for _, c := range calls {
		ok := "no"
		if c.WithinLimit {
			ok = "yes"
		}
		tr := ""
		if c.Transfer != nil {
			tr = c.Transfer.Kind + "→" + c.Transfer.Target
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%d\t%s\t%s\t%s\t%s\t%s\n",
			c.InviteAt.UTC().Format("2006-01-02 15:04:05.000"), c.From, c.To, c.Direction,
			c.RingSeconds, c.Rings, ok, c.EndReason, c.HangupBy, tr, c.CallID)
	}
	tw.Flush()
}
