package tap_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/sip"
)

// TestTortureCounted sends every RFC 4475 torture message over UDP through
// the whole pipeline: the valid ones are parsed, every invalid one is
// rejected and counted, and nothing stops the tap.
func TestTortureCounted(t *testing.T) {
	dir := filepath.Join("..", "sip", "testdata", "torture")
	valid, _ := filepath.Glob(filepath.Join(dir, "valid", "*.dat"))
	invalid, _ := filepath.Glob(filepath.Join(dir, "invalid", "*.dat"))
	if len(valid) == 0 || len(invalid) == 0 {
		t.Fatal("torture messages missing")
	}
	path := filepath.Join(t.TempDir(), "torture.pcap")
	err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) error {
		at := pcapgen.BaseTime()
		src, dst := netip.MustParseAddrPort("192.0.2.10:5060"), netip.MustParseAddrPort("192.0.2.20:5060")
		for _, p := range append(append([]string{}, valid...), invalid...) {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			at = at.Add(time.Millisecond)
			// Big messages are fragmented by the writer, as on a real wire.
			if err := w.UDP(at, src, dst, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, st := replayFiles(t, sip.DefaultTrackerConfig(), path)
	if st.SIPMessages != uint64(len(valid)) {
		t.Errorf("%d messages parsed, want the %d valid ones", st.SIPMessages, len(valid))
	}
	if n := sumErrors(st.SIPErrors); n != uint64(len(invalid)) {
		t.Errorf("%d rejections counted (%v), want the %d invalid ones", n, st.SIPErrors, len(invalid))
	}
	t.Logf("rejections by reason: %v", st.SIPErrors)
}
