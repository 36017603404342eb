package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		{name: "all pcapng", args: []string{"-scenario", "all", "-ng", "-o", filepath.Join(dir, "all.pcapng")}, lines: 19},
		{name: "load flag", args: []string{"-load", "3", "-o", filepath.Join(dir, "l.pcap")}, lines: 3},
		{name: "load positional", args: []string{"-o", filepath.Join(dir, "l2.pcap"), "load", "4"}, lines: 4},
		{name: "quiet", args: []string{"-q", "-scenario", "busy", "-o", filepath.Join(dir, "q.pcap")}, lines: 0},
		{name: "unknown scenario", args: []string{"-scenario", "nope", "-o", filepath.Join(dir, "x.pcap")}, wantErr: true},
		{name: "no output", args: []string{"-scenario", "busy"}, wantErr: true},
		{name: "both", args: []string{"-scenario", "busy", "-load", "2", "-o", filepath.Join(dir, "y.pcap")}, wantErr: true},
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
