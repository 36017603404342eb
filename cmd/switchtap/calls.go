package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/sip"
)

func cmdCalls(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calls", stderr)
	cf := addCommonFlags(fs)
	rf := addRangeFlags(fs)
	asJSON := fs.Bool("json", false, "print call records as JSON Lines")
	aggs := fs.Bool("aggregates", false, "print the legs that never rang, counted per minute, source and reason, instead of the call records")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	start, end, err := rf.parse()
	if err != nil {
		return err
	}
	l, err := cf.open(stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	if *aggs {
		as, err := readAggregates(ctx, l, start, end)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSONLines(stdout, as)
		}
		printAggregateTable(stdout, as)
		return nil
	}
	var calls []sip.Call
	if l.client != nil {
		calls, err = callsFromDaemon(ctx, l, start, end)
	} else {
		err = l.store.Calls(ctx, start, end, func(c sip.Call) error {
			calls = append(calls, c)
			return nil
		})
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(stdout, calls)
	}
	printTable(stdout, calls)
	return nil
}

// apiWindowDays is the range asked of the API in one request (it serves
// at most 366 days at a time).
const apiWindowDays = 360

// dayWindows splits [start, end) into the local-day ranges the API takes,
// one day wider on each side (a local day is not a UTC day); an open end
// stops a year past today: records come from captures, not the future.
func dayWindows(start, end time.Time) []url.Values {
	if limit := time.Now().AddDate(1, 0, 0); end.After(limit) {
		end = limit
	}
	first := start.UTC().AddDate(0, 0, -1)
	if first.Before(time.Unix(0, 0)) {
		first = time.Unix(0, 0).UTC()
	}
	last := end.UTC().AddDate(0, 0, 1)
	var out []url.Values
	for from := first; !from.After(last); from = from.AddDate(0, 0, apiWindowDays) {
		to := from.AddDate(0, 0, apiWindowDays-1)
		if to.After(last) {
			to = last
		}
		out = append(out, url.Values{"from": {from.Format("2006-01-02")}, "to": {to.Format("2006-01-02")}})
	}
	return out
}

// callsFromDaemon asks the running daemon for the records of [start, end).
func callsFromDaemon(ctx context.Context, l *local, start, end time.Time) ([]sip.Call, error) {
	var out []sip.Call
	for _, q := range dayWindows(start, end) {
		var page []sip.Call
		if err := l.client.Do(ctx, "GET", "/api/v1/calls?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		for _, c := range page {
			if !c.InviteAt.Before(start) && c.InviteAt.Before(end) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// aggregatesPath is the daemon's API of the aggregates, asked by day as
// /api/v1/calls is.
const aggregatesPath = "/api/v1/aggregates"

// errNoAggregatesAPI says the running daemon does not serve the
// aggregates, and the store cannot be read while it holds it.
var errNoAggregatesAPI = errors.New("the running daemon does not serve " + aggregatesPath +
	" (and holds the store): stop it to read the aggregates from the store")

// readAggregates returns the aggregates whose period starts in [start,
// end): from the running daemon, or from the store.
func readAggregates(ctx context.Context, l *local, start, end time.Time) ([]sip.Aggregate, error) {
	var out []sip.Aggregate
	if l.client == nil {
		err := l.store.Aggregates(ctx, start, end, func(a sip.Aggregate) error {
			out = append(out, a)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read aggregates: %w", err)
		}
		return out, nil
	}
	for _, q := range dayWindows(start, end) {
		var page []sip.Aggregate
		if err := l.client.Do(ctx, "GET", aggregatesPath+"?"+q.Encode(), nil, &page); err != nil {
			if apiErr := (*daemon.APIError)(nil); errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
				return nil, errNoAggregatesAPI
			}
			return nil, err
		}
		for _, a := range page {
			if !a.Period.Before(start) && a.Period.Before(end) {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// printAggregateTable prints one line per stored aggregate (a minute of
// one source and reason), then a "total" line per source and reason over
// the range, then the legs in all.
func printAggregateTable(w io.Writer, as []sip.Aggregate) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PERIOD (UTC)\tSOURCE\tREASON\tLEGS\tFIRST INVITE (UTC)\tLAST INVITE (UTC)\tFLOOD")
	row := func(period string, a sip.Aggregate) {
		flood := "no"
		if a.Flood {
			flood = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", period, a.Source, a.Reason, a.Legs,
			a.First.UTC().Format("2006-01-02 15:04:05.000"), a.Last.UTC().Format("2006-01-02 15:04:05.000"), flood)
	}
	type key struct{ source, reason string }
	totals := map[key]*sip.Aggregate{}
	var keys []key
	legs := 0
	for _, a := range as {
		row(a.Period.UTC().Format("2006-01-02 15:04"), a)
		legs += a.Legs
		k := key{a.Source, a.Reason}
		t, ok := totals[k]
		if !ok {
			keys = append(keys, k)
			t = &sip.Aggregate{Source: a.Source, Reason: a.Reason, First: a.First, Last: a.Last}
			totals[k] = t
		}
		t.Legs += a.Legs
		t.Flood = t.Flood || a.Flood
		if a.First.Before(t.First) {
			t.First = a.First
		}
		if a.Last.After(t.Last) {
			t.Last = a.Last
		}
	}
	for _, k := range keys {
		row("total", *totals[k])
	}
	tw.Flush()
	fmt.Fprintf(w, "%d legs that never rang, in %d aggregates\n", legs, len(as))
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
