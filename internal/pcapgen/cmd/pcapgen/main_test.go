package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		lines   int
		wantErr bool
	}{
		{name: "list", args: []string{"-list"}, lines: len(pcapgen.Scenarios())},
		{name: "scenario", args: []string{"-scenario", "blind-transfer", "-o", filepath.Join(dir, "b.pcap")}, lines: 2},
		{name: "all pcapng", args: []string{"-scenario", "all", "-ng", "-o", filepath.Join(dir, "all.pcapng")}, lines: 20},
		{name: "load flag", args: []string{"-load", "3", "-o", filepath.Join(dir, "l.pcap")}, lines: 3},
		{name: "load positional", args: []string{"-o", filepath.Join(dir, "l2.pcap"), "load", "4"}, lines: 4},
		{name: "quiet", args: []string{"-q", "-scenario", "busy", "-o", filepath.Join(dir, "q.pcap")}, lines: 0},
		{name: "unknown scenario", args: []string{"-scenario", "nope", "-o", filepath.Join(dir, "x.pcap")}, wantErr: true},
		{name: "no output", args: []string{"-scenario", "busy"}, wantErr: true},
		{name: "both", args: []string{"-scenario", "busy", "-load", "2", "-o", filepath.Join(dir, "y.pcap")}, wantErr: true},
		{name: "load timed", args: []string{"-load", "3", "-interval", "10ms", "-ring", "500ms", "-talk", "1s", "-o", filepath.Join(dir, "t.pcap")}, lines: 3},
		{name: "timing without load", args: []string{"-scenario", "busy", "-talk", "1s", "-o", filepath.Join(dir, "z.pcap")}, wantErr: true},
		{name: "talk too short", args: []string{"-load", "2", "-talk", "1ms", "-o", filepath.Join(dir, "s.pcap")}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tc.args, &out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("run(%q) = %v", tc.args, err)
			}
			if tc.wantErr {
				return
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if out.Len() == 0 {
				lines = nil
			}
			if len(lines) != tc.lines {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), tc.lines, out.String())
			}
			if tc.name == "list" {
				return
			}
			for _, l := range lines {
				var e pcapgen.Expect
				if err := json.Unmarshal([]byte(l), &e); err != nil || e.CallID == "" {
					t.Errorf("line %q: %v", l, err)
				}
			}
			o := tc.args[len(tc.args)-1]
			for i, a := range tc.args {
				if a == "-o" {
					o = tc.args[i+1]
				}
			}
			if st, err := os.Stat(o); err != nil || st.Size() < 100 {
				t.Errorf("output file %s: %v", o, err)
			}
		})
	}
}

// TestRunLoadTiming: the timing flags reach the generator: the printed
// expectations are LoadWith's for those options, and the file holds the
// frames they imply.
func TestRunLoadTiming(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.pcap")
	var out bytes.Buffer
	if err := run([]string{"-load", "4", "-interval", "10ms", "-ring", "500ms", "-talk", "1s", "-o", path}, &out); err != nil {
		t.Fatal(err)
	}
	opts := pcapgen.LoadOptions{Interval: 10 * time.Millisecond, Ring: 500 * time.Millisecond, Talk: time.Second}
	var want bytes.Buffer
	w, err := pcapgen.NewWriter(&want)
	if err != nil {
		t.Fatal(err)
	}
	exp, _, err := pcapgen.LoadWith(w, 4, pcapgen.BaseTime(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var lines bytes.Buffer
	enc := json.NewEncoder(&lines)
	for _, e := range exp {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if out.String() != lines.String() {
		t.Errorf("expectations\n%s\nwant\n%s", out.String(), lines.String())
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("file of %d bytes, LoadWith writes %d", len(got), want.Len())
	}
	if d := exp[1].InviteAt.Sub(exp[0].InviteAt); d != 10*time.Millisecond {
		t.Errorf("INVITEs %v apart, want 10ms", d)
	}
}
