package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/web"
)

func runIn(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func listUsers(t *testing.T, dataDir string) map[string]web.User {
	t.Helper()
	out, _, err := runIn(t, "", "user", "list", "--json", "--data-dir", dataDir)
	if err != nil {
		t.Fatalf("user list: %v", err)
	}
	us := map[string]web.User{}
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var u web.User
		if err := dec.Decode(&u); err != nil {
			t.Fatal(err)
		}
		us[u.Name] = u
	}
	return us
}

// accountSteps manages accounts with the command line, reading passwords
// from standard input, and checks each step with `user list`.
func accountSteps(t *testing.T, dataDir string) {
	t.Helper()
	steps := []struct {
		stdin string
		args  []string
		check func(map[string]web.User) bool
	}{
		{"clave-de-ana-1\nclave-de-ana-1\n", []string{"user", "add", "ana", "--role", "tecnico"},
			func(us map[string]web.User) bool { return us["ana"].Role == web.RoleTecnico && !us["ana"].Disabled }},
		{"", []string{"user", "role", "ana", "--role", "jefe"},
			func(us map[string]web.User) bool { return us["ana"].Role == web.RoleJefe }},
		{"otra-clave-ana\n", []string{"user", "passwd", "ana"}, func(map[string]web.User) bool { return true }},
		{"", []string{"user", "disable", "ana"}, func(us map[string]web.User) bool { return us["ana"].Disabled }},
		{"", []string{"user", "enable", "ana"}, func(us map[string]web.User) bool { return !us["ana"].Disabled }},
	}
	for _, s := range steps {
		if _, errOut, err := runIn(t, s.stdin, append(s.args, "--data-dir", dataDir)...); err != nil {
			t.Fatalf("%v: %v\n%s", s.args, err, errOut)
		}
		if us := listUsers(t, dataDir); !s.check(us) {
			t.Fatalf("after %v: %+v", s.args, us)
		}
	}
	// Mistakes are refused with a clear error.
	for _, bad := range []struct {
		stdin string
		args  []string
	}{
		{"a\nb\n", []string{"user", "add", "bea", "--role", "tecnico"}},            // confirmation differs
		{"", []string{"user", "add", "bea", "--role", "tecnico"}},                  // no password
		{"clave-larga-bea\n", []string{"user", "add", "bea", "--role", "boss"}},    // no such role
		{"clave-larga-ana\n", []string{"user", "add", "ana", "--role", "tecnico"}}, // exists
		{"corta\n", []string{"user", "add", "bea", "--role", "tecnico"}},           // too short
		{"", []string{"user", "disable", "nadie"}},                                 // unknown
	} {
		if _, _, err := runIn(t, bad.stdin, append(bad.args, "--data-dir", dataDir)...); err == nil {
			t.Errorf("%v with %q: no error", bad.args, bad.stdin)
		}
	}
	tok, _, err := runIn(t, "", "user", "token", "ana", "--label", "script", "--data-dir", dataDir)
	if err != nil || !strings.HasPrefix(strings.TrimSpace(tok), "stt_") {
		t.Fatalf("user token: %q %v", tok, err)
	}
	out, _, err := runIn(t, "", "audit", "verify", "--data-dir", dataDir)
	if err != nil || !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify: %q %v", out, err)
	}
}

// TestAccountsOnStore: with no daemon running, the commands open the store.
func TestAccountsOnStore(t *testing.T) {
	dir := t.TempDir()
	accountSteps(t, dir)
	out, _, err := runIn(t, "", "audit", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, `"action":"user_added"`) || !strings.Contains(out, `"actor":"local:`) {
		t.Fatalf("audit list: %q %v", out, err)
	}
}

// TestAccountsThroughDaemon: with the daemon running on a capture, the same
// commands go through its socket (the store is locked by the daemon), and
// calls and recording export work without stopping it.
func TestAccountsThroughDaemon(t *testing.T) {
	dir := t.TempDir()
	data, want := runDaemon(t, dir, "answered", "recording:\n  min_free: 0\n")
	var out string
	if !untilServed(data, func() bool {
		out, _, _ = runIn(t, "", "calls", "--json", "--data-dir", data)
		return strings.Count(out, "\n") == len(want)
	}) {
		t.Fatalf("the daemon did not serve its %d records: %q", len(want), out)
	}
	if _, err := storage.Open(data); err == nil {
		t.Fatal("the store opened beside the running daemon: the commands would not need the socket")
	}
	accountSteps(t, data)

	out, _, err := runIn(t, "", "calls", "--json", "--data-dir", data)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &rec); err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(dir, "x.wav")
	if _, errOut, err := runIn(t, "", "recording", "export", rec.ID, "--pcm", "-o", wav, "--data-dir", data); err != nil {
		t.Fatalf("recording export: %v %s", err, errOut)
	}
	b, err := os.ReadFile(wav)
	if err != nil || len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("exported %d bytes, not a WAV: %v", len(b), err)
	}
	al, _, err := runIn(t, "", "audit", "list", "--data-dir", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(al, `"action":"recording_download"`) || !strings.Contains(al, fmt.Sprintf(`"actor":"local:%d`, os.Getuid())) {
		t.Errorf("the export is not in the audit log as the socket's peer:\n%s", al)
	}
}

// TestAuditVerifyDetectsTampering edits, then removes, entries of the
// audit log behind the service's back: `audit verify` fails and names
// them.
func TestAuditVerifyDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(*storage.Bucket, []byte, []byte) error
		want   string
	}{
		{"edited entry", func(b *storage.Bucket, k, v []byte) error {
			return b.Set(context.Background(), k, bytes.Replace(v, []byte(`"bea"`), []byte(`"zoe"`), 1))
		}, "entry 2:"},
		{"removed entry", func(b *storage.Bucket, k, _ []byte) error {
			return b.Delete(context.Background(), k)
		}, "entry 2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range []string{"ana", "bea", "eva"} {
				if _, _, err := runIn(t, "clave-larga-"+n+"\n", "user", "add", n, "--role", "tecnico", "--data-dir", dir); err != nil {
					t.Fatal(err)
				}
			}
			st, err := storage.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			b := st.KV("access")
			key := []byte(fmt.Sprintf("audit/%016x", 2))
			v, ok, err := b.Get(context.Background(), key)
			if err != nil || !ok {
				t.Fatalf("entry 2: %v %v", ok, err)
			}
			if err := tc.tamper(b, key, v); err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			out, _, err := runIn(t, "", "audit", "verify", "--data-dir", dir)
			if !errors.Is(err, errAuditBroken) || !strings.Contains(out, tc.want) {
				t.Fatalf("audit verify: %q %v; want %q and a broken-log error", out, err, tc.want)
			}
		})
	}
}
