package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/config"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/web"
)

// TestSocketAPIGuard: everything the local socket serves, the audit
// chain's check included, needs the peer's credentials (SO_PEERCRED, set
// by peerContext): the socket's 0660 mode is not the only lock.
func TestSocketAPIGuard(t *testing.T) {
	dir := t.TempDir()
	s, err := pcapgen.Lookup("answered")
	if err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(dir, "a.pcap")
	if _, err := s.WriteFile(pcap); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Web.Listen, cfg.Metrics.Listen = "", ""
	cfg.Recording.MinFree = 0
	d, err := New(context.Background(), Options{Config: cfg, Pcaps: []string{pcap}, Version: "test", Log: discard(),
		Argon: &access.ArgonParams{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	for _, path := range []string{"/audit/verify", "/api/v1/users", "/api/v1/status"} {
		t.Run(path, func(t *testing.T) {
			w := httptest.NewRecorder()
			d.socketAPI.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
			if w.Code != http.StatusUnauthorized {
				t.Errorf("without peer credentials: %d %s, want 401", w.Code, w.Body)
			}
			r := httptest.NewRequest("GET", path, nil)
			w = httptest.NewRecorder()
			d.socketAPI.ServeHTTP(w, r.WithContext(web.WithPeer(r.Context(), os.Getuid())))
			if w.Code != http.StatusOK {
				t.Fatalf("with the peer's uid: %d %s", w.Code, w.Body)
			}
			if path != "/audit/verify" {
				return
			}
			var rep access.VerifyReport
			if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil || rep.Entries == 0 || len(rep.Problems) != 0 {
				t.Errorf("verify: %+v %v (%s)", rep, err, w.Body)
			}
		})
	}
}
