package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/daemon"
	"github.com/switchtap/switchtap/internal/pcapgen"
)

// runDaemon writes the pcapgen scenario to dir/<scenario>.pcap and cfg to
// dir/switchtap.yaml, and runs `switchtap run --pcap` in-process on them
// with its data in dir/data (console on 127.0.0.1:0, no metrics, warn
// logs). The daemon is stopped, and its error reported, when the test
// ends. It returns the data directory and the calls the capture holds.
func runDaemon(t *testing.T, dir, scenario, cfg string) (data string, want []pcapgen.Expect) {
	t.Helper()
	s, err := pcapgen.Lookup(scenario)
	if err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(dir, scenario+".pcap")
	want, err = s.WriteFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "switchtap.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var errOut bytes.Buffer
		done <- run(ctx, []string{"run", "--pcap", pcap, "--config", cfgPath, "--data-dir", data,
			"--web-listen", "127.0.0.1:0", "--metrics-listen", "off", "--log-level", "warn"}, strings.NewReader(""), &errOut, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return data, want
}

// untilServed polls, every 50ms for up to 20s, until the daemon's socket
// in data answers and then served returns true; it reports whether that
// happened. Only the socket is tried: opening the store before the daemon
// has would keep it from starting.
func untilServed(data string, served func() bool) bool {
	sock := filepath.Join(data, "switchtap.sock")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, ok := daemon.Dial(sock); ok && served() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
