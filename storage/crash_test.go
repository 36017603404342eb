package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Environment of the crash helper child process.
const (
	envCrashDir   = "SWITCHTAP_STORAGE_CRASH_DIR"
	envCrashRound = "SWITCHTAP_STORAGE_CRASH_ROUND"
	envCrashBatch = "SWITCHTAP_STORAGE_CRASH_BATCH"
)

// crashCall is the record number i of a crash round. Every seventh record
// is put twice, the second time with a later invite_at and EndDetail
// "reput": after the crash it must be there once, in its second form.
func crashCall(round string, i int) (first, final sip.Call) {
	id := fmt.Sprintf("%s-%06d", round, i)
	first = fullCall(id, march.Add(time.Duration(i)*time.Second))
	final = first
	if i%7 == 0 {
		final.InviteAt = first.InviteAt.Add(500 * time.Millisecond)
		final.EndDetail = "reput"
	}
	return first, final
}

// TestCrashHelper is the child of TestCrashKill9: it writes records until it
// is killed, printing "put <id>" only after the put returned.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("crash helper: only run by TestCrashKill9")
	}
	round := os.Getenv(envCrashRound)
	batch := os.Getenv(envCrashBatch) != ""
	s, err := Open(dir, WithLogger(discard()))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := context.Background()
	w := bufio.NewWriter(os.Stdout)
	const limit = 1_000_000 // the parent kills us long before
	for i := 0; i < limit; {
		var ids []string
		if batch {
			// Batches of 10 with the re-put inside the same batch.
			var cs []sip.Call
			for range 10 {
				first, final := crashCall(round, i)
				cs = append(cs, first, final)
				ids = append(ids, first.ID)
				i++
			}
			if err := s.PutCalls(ctx, cs); err != nil {
				t.Fatalf("PutCalls: %v", err)
			}
		} else {
			first, final := crashCall(round, i)
			if err := s.PutCall(ctx, first); err != nil {
				t.Fatalf("PutCall: %v", err)
			}
			if final.EndDetail == "reput" {
				if err := s.PutCall(ctx, final); err != nil {
					t.Fatalf("PutCall: %v", err)
				}
			}
			ids = append(ids, first.ID)
			i++
		}
		for _, id := range ids {
			fmt.Fprintf(w, "put %s\n", id)
		}
		// One write per put: the parent sees whole lines only.
		if err := w.Flush(); err != nil {
			t.Fatalf("stdout: %v", err)
		}
	}
}

// TestCrashKill9 kills a writing child with SIGKILL three times, at
// different points and on the same store, and checks after each kill that
// every record the child had reported as put is there, decodes, and is
// stored once.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	dir := t.TempDir()
	var acked []string // ids reported by all children so far
	rounds := []struct {
		round  string
		killAt int
		batch  bool
	}{
		{"r1", 200, false},
		{"r2", 57, false},
		{"r3", 350, true},
	}
	for _, r := range rounds {
		t.Run(r.round, func(t *testing.T) {
			acked = append(acked, runCrashChild(t, dir, r.round, r.killAt, r.batch)...)
			checkAcked(t, dir, acked)
		})
	}
}

// runCrashChild runs one crash helper child, kills it once it has reported
// killAt ids, and returns the ids it reported.
func runCrashChild(t *testing.T, dir, round string, killAt int, batch bool) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashRound+"="+round)
	if batch {
		cmd.Env = append(cmd.Env, envCrashBatch+"=1")
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	r := bufio.NewReader(out)
	var ids []string
	for len(ids) < killAt {
		line, err := r.ReadString('\n')
		if err != nil {
			_ = cmd.Wait()
			t.Fatalf("child stopped after %d ids: %v; stderr:\n%s", len(ids), err, stderr.String())
		}
		if id, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "put "); ok {
			ids = append(ids, id)
		}
	}
	// Process.Kill is SIGKILL on Linux: no deferred code, no Close.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	// Lines written before the kill are acknowledged puts too; a line cut
	// short (no newline) is not.
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		if id, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "put "); ok {
			ids = append(ids, id)
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("child ended with %v, want killed by a signal; stderr:\n%s", err, stderr.String())
	}
	t.Logf("child %s killed after %d acknowledged ids", round, len(ids))
	return ids
}

// checkAcked reopens the store and checks the acknowledged records.
func checkAcked(t *testing.T, dir string, acked []string) {
	t.Helper()
	s := openStore(t, dir)
	ctx := context.Background()
	for _, id := range acked {
		c, err := s.Call(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged record lost: %v", err)
		}
		var round string
		var i int
		if _, err := fmt.Sscanf(strings.Replace(id, "-", " ", 1), "%s %d", &round, &i); err != nil {
			t.Fatalf("id %q: %v", id, err)
		}
		_, want := crashCall(round, i)
		if !reflect.DeepEqual(c, want) {
			t.Fatalf("record %s after crash =\n%+v\nwant\n%+v", id, c, want)
		}
	}
	seen := map[string]bool{}
	err := s.Calls(ctx, time.Unix(0, 0), march.AddDate(1, 0, 0), func(c sip.Call) error {
		if seen[c.ID] {
			return fmt.Errorf("id %s stored twice", c.ID)
		}
		seen[c.ID] = true
		return nil
	})
	if err != nil {
		t.Fatalf("scan after crash: %v", err)
	}
	if len(seen) < len(acked) {
		t.Fatalf("scan found %d records, want at least %d", len(seen), len(acked))
	}
}
