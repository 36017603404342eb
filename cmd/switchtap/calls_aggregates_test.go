package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
)

// aggregatesFixture is a month of stored never-rang aggregates: a flood
// over two minutes, a refusing host, and one on each side of March.
func aggregatesFixture(t *testing.T) []sip.Aggregate {
	t.Helper()
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	return []sip.Aggregate{
		{Period: at("2026-02-28T23:59:00Z"), Source: "192.0.2.66", Reason: "timeout", Legs: 7,
			First: at("2026-02-28T23:59:01Z"), Last: at("2026-02-28T23:59:59Z"), Flood: true},
		{Period: at("2026-03-02T10:00:00Z"), Source: "192.0.2.66", Reason: "timeout", Legs: 12000,
			First: at("2026-03-02T10:00:50.000000001Z"), Last: at("2026-03-02T10:00:59.999Z"), Flood: true},
		{Period: at("2026-03-02T10:00:00Z"), Source: "198.51.100.9", Reason: "486", Legs: 3,
			First: at("2026-03-02T10:00:10Z"), Last: at("2026-03-02T10:00:40Z")},
		{Period: at("2026-03-02T10:01:00Z"), Source: "192.0.2.66", Reason: "timeout", Legs: 8000,
			First: at("2026-03-02T10:01:00Z"), Last: at("2026-03-02T10:01:09.5Z"), Flood: true},
		{Period: at("2026-04-01T00:00:00Z"), Source: "192.0.2.66", Reason: "evicted", Legs: 1,
			First: at("2026-04-01T00:00:00Z"), Last: at("2026-04-01T00:00:00Z"), Flood: true},
	}
}

func storeAggregates(t *testing.T, as []sip.Aggregate) string {
	t.Helper()
	dir := t.TempDir()
	st, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddAggregates(context.Background(), as); err != nil {
		t.Fatal(err)
	}
	return dir
}

func decodeAggregates(t *testing.T, out string) []sip.Aggregate {
	t.Helper()
	var as []sip.Aggregate
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var a sip.Aggregate
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		as = append(as, a)
	}
	return as
}

func sameAggregates(got, want []sip.Aggregate) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Period.Equal(w.Period) || !g.First.Equal(w.First) || !g.Last.Equal(w.Last) ||
			g.Source != w.Source || g.Reason != w.Reason || g.Legs != w.Legs || g.Flood != w.Flood {
			return false
		}
	}
	return true
}

// TestCallsAggregates: `calls --aggregates` prints the stored aggregates
// of the range, exactly as stored (--json) or as a table with a total per
// source and reason; the store is read when no daemon runs.
func TestCallsAggregates(t *testing.T) {
	all := aggregatesFixture(t)
	dir := storeAggregates(t, all)
	march := all[1:4]
	tests := []struct {
		name string
		args []string
		want []sip.Aggregate
	}{
		{"all", nil, all},
		{"March", []string{"--from", "2026-03-01", "--to", "2026-03-31"}, march},
		{"one minute", []string{"--from", "2026-03-02T10:01:00Z", "--to", "2026-03-02T10:02:00Z"}, all[3:4]},
		{"none", []string{"--from", "2025-01-01", "--to", "2025-12-31"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCmd(t, append([]string{"calls", "--aggregates", "--json", "--data-dir", dir}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v: %s", err, errOut)
			}
			if got := decodeAggregates(t, out); !sameAggregates(got, tc.want) {
				t.Errorf("got\n%s\nwant %+v", out, tc.want)
			}
		})
	}

	t.Run("table", func(t *testing.T) {
		out, errOut, err := runCmd(t, "calls", "--aggregates", "--data-dir", dir, "--from", "2026-03-01", "--to", "2026-03-31")
		if err != nil {
			t.Fatalf("%v: %s", err, errOut)
		}
		want := [][]string{
			{"PERIOD", "(UTC)", "SOURCE", "REASON", "LEGS", "FIRST", "INVITE", "(UTC)", "LAST", "INVITE", "(UTC)", "FLOOD"},
			{"2026-03-02", "10:00", "192.0.2.66", "timeout", "12000", "2026-03-02", "10:00:50.000", "2026-03-02", "10:00:59.999", "yes"},
			{"2026-03-02", "10:00", "198.51.100.9", "486", "3", "2026-03-02", "10:00:10.000", "2026-03-02", "10:00:40.000", "no"},
			{"2026-03-02", "10:01", "192.0.2.66", "timeout", "8000", "2026-03-02", "10:01:00.000", "2026-03-02", "10:01:09.500", "yes"},
			{"total", "192.0.2.66", "timeout", "20000", "2026-03-02", "10:00:50.000", "2026-03-02", "10:01:09.500", "yes"},
			{"total", "198.51.100.9", "486", "3", "2026-03-02", "10:00:10.000", "2026-03-02", "10:00:40.000", "no"},
			{"20003", "legs", "that", "never", "rang,", "in", "3", "aggregates"},
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
		}
		for i, l := range lines {
			if got := strings.Fields(l); strings.Join(got, " ") != strings.Join(want[i], " ") {
				t.Errorf("line %d: %q, want %q", i, l, strings.Join(want[i], " "))
			}
		}
	})

	t.Run("no store", func(t *testing.T) {
		_, _, err := runCmd(t, "calls", "--aggregates", "--data-dir", filepath.Join(t.TempDir(), "typo"))
		if !errors.Is(err, storage.ErrNoStore) {
			t.Errorf("err = %v, want ErrNoStore", err)
		}
	})
}

// TestCallsAggregatesDaemon: with a daemon on the socket the aggregates
// are asked of it, day by day, and kept to the range; a daemon that does
// not serve them is a clear error, not an empty list.
func TestCallsAggregatesDaemon(t *testing.T) {
	all := aggregatesFixture(t)
	tests := []struct {
		name    string
		serve   bool
		want    []sip.Aggregate
		wantErr error
	}{
		{"served", true, all[1:4], nil},
		{"not served", false, nil, errNoAggregatesAPI},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var mu sync.Mutex
			var asked []string
			mux := http.NewServeMux()
			if tc.serve {
				mux.HandleFunc("GET "+aggregatesPath, func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					asked = append(asked, r.URL.RawQuery)
					mu.Unlock()
					// Whole days, as the API serves them: the command
					// keeps to the range asked.
					_ = json.NewEncoder(w).Encode(all)
				})
			}
			mux.HandleFunc("/api/", func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"error":"not found"}`))
			})
			ln, err := net.Listen("unix", filepath.Join(dir, "switchtap.sock"))
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Second}
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()

			out, _, err := runCmd(t, "calls", "--aggregates", "--json", "--data-dir", dir, "--from", "2026-03-01", "--to", "2026-03-31")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := decodeAggregates(t, out); !sameAggregates(got, tc.want) {
				t.Errorf("got\n%s\nwant %+v", out, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			// The API's days, one wider on each side (dayWindows).
			if len(asked) != 1 || asked[0] != "from=2026-02-28&to=2026-04-02" {
				t.Errorf("asked %q", asked)
			}
		})
	}
}

// TestCallsAggregatesThroughDaemon: the real daemon, holding a store with
// aggregates in it, serves them on its socket: `calls --aggregates` gives
// what the store holds, as it does with no daemon running (the fake
// daemon above cannot tell the daemon's wiring of the route).
func TestCallsAggregatesThroughDaemon(t *testing.T) {
	all := aggregatesFixture(t)
	dir := t.TempDir()
	st, err := storage.Open(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddAggregates(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := runDaemon(t, dir, "answered", "recording:\n  min_free: 0\n")
	var out, errOut string
	if !untilServed(data, func() bool {
		out, errOut, err = runCmd(t, "calls", "--aggregates", "--json", "--data-dir", data, "--from", "2026-03-01", "--to", "2026-03-31")
		return err == nil
	}) {
		t.Fatalf("the daemon did not serve the aggregates: %v %s", err, errOut)
	}
	if got := decodeAggregates(t, out); !sameAggregates(got, all[1:4]) {
		t.Errorf("got\n%s\nwant %+v", out, all[1:4])
	}
}
