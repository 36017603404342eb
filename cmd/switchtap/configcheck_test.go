package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/config"
)

var updateGolden = flag.Bool("update-configcheck", false, "rewrite testdata/configcheck/*.golden")

// TestConfigCheck runs `switchtap config check` on each file of
// testdata/configcheck and compares what it says (stdout, or the error
// main prints, with the file's directory as DIR) with its .golden.
func TestConfigCheck(t *testing.T) {
	files, err := filepath.Glob("testdata/configcheck/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("%d files: %v", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			abs, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			err = run(context.Background(), []string{"config", "check", "--config", abs}, strings.NewReader(""), &out, &errOut)
			got := out.String()
			if err != nil {
				got += "switchtap: " + err.Error() + "\n"
				if exitStatus(err) != exitError {
					t.Errorf("exit status %d, want %d", exitStatus(err), exitError)
				}
			}
			got = strings.ReplaceAll(got, filepath.Dir(abs), "DIR")
			// A good file says OK, and only a good file does.
			if ok := err == nil; ok != (filepath.Base(f) == "good.yaml") || ok != strings.HasPrefix(got, "OK ") {
				t.Errorf("err %v, output %q", err, got)
			}
			matchGolden(t, strings.TrimSuffix(f, ".yaml")+".golden", got, *updateGolden)
		})
	}
}

// TestConfigCheckDeployExample: the shipped, commented configuration (the
// package's conffile) passes.
func TestConfigCheckDeployExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"config", "check", "--config", "../../deploy/switchtap.yaml"}, nil, &out, &out); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if out.String() != "OK ../../deploy/switchtap.yaml\n" {
		t.Fatalf("%q", out.String())
	}
}

func TestConfigCheckUsage(t *testing.T) {
	for _, args := range [][]string{{"config"}, {"config", "show"}, {"config", "check", "extra"}, {"config", "check", "--nope"}} {
		var out bytes.Buffer
		err := run(context.Background(), args, nil, &out, &out)
		if exitStatus(err) != exitUsage {
			t.Errorf("%v: %v (status %d), want a usage error", args, err, exitStatus(err))
		}
	}
	// A file named but missing is an error, not the defaults.
	err := run(context.Background(), []string{"config", "check", "--config", filepath.Join(t.TempDir(), "none.yaml")}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestWithKeys: the key path is found for errors on nested keys, flow
// mappings and sequence items, and the error chain is kept.
func TestWithKeys(t *testing.T) {
	doc := "interface: eth1\ncalls:\n  linger: 4s\n  idle_timeout: soon\ndevice:\n  amber: {offset: x}\nreceptionists:\n  - name: A\n    ips: [1, 2]\n"
	for _, tc := range []struct {
		line  int
		field string
		want  string
	}{
		{1, "", "interface"}, {2, "", "calls"}, {4, "", "calls.idle_timeout"}, {6, "", "device.amber.offset"},
		{6, "amber", "device.amber"}, {6, "red", ""},
		{8, "", "receptionists[0].name"}, {9, "", "receptionists[0].ips[1]"}, {9, "ips", "receptionists[0].ips"}, {42, "", ""},
	} {
		var root yamlNode
		root.parse(t, doc)
		if got := keyAtLine(root.n, tc.line, tc.field); got != tc.want {
			t.Errorf("line %d: %q, want %q", tc.line, got, tc.want)
		}
	}
	_, err := config.Parse([]byte(doc))
	if err == nil {
		t.Fatal("bad document accepted")
	}
	kerr := withKeys(err, []byte(doc))
	if !strings.Contains(kerr.Error(), "line 4: calls.idle_timeout: ") || !strings.Contains(kerr.Error(), "line 6: device.amber.offset: ") {
		t.Fatalf("%v", kerr)
	}
	if errors.Unwrap(kerr) != err {
		t.Fatal("chain lost")
	}
	// An error that names its key already: unchanged.
	named := fmt.Errorf("config x: %w: calls.linger \"4s\": want less", config.ErrInvalid)
	if withKeys(named, []byte(doc)) != named {
		t.Fatal("an error naming its key rewritten")
	}
	// A value's parser's error: the key holding the quoted value, once.
	sized := fmt.Errorf("parse: %w: size \"soon\": want a number", config.ErrInvalid)
	if got := withKeys(sized, []byte(doc)).Error(); !strings.HasSuffix(got, "want a number (calls.idle_timeout, line 4)") {
		t.Fatalf("%q", got)
	}
	twice := errors.New(`size "A": bad`) // receptionists[0].name and office both hold "A"
	if got := withKeys(twice, []byte(doc+"office: A\n")).Error(); got != twice.Error() {
		t.Fatalf("an ambiguous value named a key: %q", got)
	}
}

// matchGolden compares got with the golden file path, rewriting it first
// when update is set.
func matchGolden(t *testing.T, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
