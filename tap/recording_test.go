package tap_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/internal/nettest"
	"github.com/switchtap/switchtap/internal/pcapgen"
	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/recorder"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/tap"
)

// TestRecordingBitExact replays the public captures with answered G.711
// calls through the whole pipeline with the recorder on, and checks every
// audio packet tshark sees after the answer: its payload is in the WAV
// byte for byte (so its decoded samples are those of any reference
// decoder), in the channel of its direction, placed by its capture time
// within one packet (160 samples) — the channels are aligned.
func TestRecordingBitExact(t *testing.T) {
	dir := testenv.SharedPcaps(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		testenv.SkipOrFail(t, "tshark not installed")
	}
	for _, name := range []string{"voipshark-call-pcmu.pcap", "sip-call-rtp-g711.pcap", "fax-t38-reinvite-488.pcap", "sip-tcp-call-pcma.pcap"} {
		t.Run(name, func(t *testing.T) {
			checkRecordingBitExact(t, filepath.Join(dir, name))
		})
	}
}

// TestRecordingBitExactSynthetic does the same on the generated calls that
// carry RTP (PCMU both ways, the caller's stream starting near the sequence
// and timestamp wrap), over every path: plain, VLAN, QinQ, IPv6, fragmented
// INVITE, SIP over TCP, compact headers, retransmissions.
func TestRecordingBitExactSynthetic(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		testenv.SkipOrFail(t, "tshark not installed")
	}
	for _, name := range []string{"answered", "answered-retransmissions", "vlan", "qinq", "ipv6", "ipv6-fragmented", "fragmented-invite", "tcp-split", "compact"} {
		t.Run(name, func(t *testing.T) {
			sc, err := pcapgen.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			pcap, _ := writeScenario(t, sc, t.TempDir())
			checkRecordingBitExact(t, pcap)
		})
	}
}

// checkRecordingBitExact replays pcap with the recorder on and checks every
// recorded leg's channels against tshark's RTP payloads.
func checkRecordingBitExact(t *testing.T, pcap string) {
	t.Helper()
	{
		{
			recDir := t.TempDir()
			rec, err := recorder.New(recorder.Config{Dir: recDir}, discard())
			if err != nil {
				t.Fatal(err)
			}
			src, err := capture.OpenFile(pcap)
			if err != nil {
				t.Fatal(err)
			}
			var col tap.Collector
			p := tap.NewPipeline(sip.DefaultTrackerConfig(), col.Add, discard(), tap.WithRecorder(rec))
			if err := tap.Replay(context.Background(), src, p); err != nil {
				t.Fatal(err)
			}
			src.Close()
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			refs := nettest.TsharkRTP(t, pcap)
			checked := 0
			for _, c := range col.Calls() {
				if c.Recording == nil || c.Recording.File == "" {
					continue
				}
				left, right := nettest.WAVChannels(t, filepath.Join(recDir, c.Recording.File))
				callerAddrs, calleeAddrs := nettest.SDPSides(t, pcap, c.CallID)
				var ended time.Time
				if c.EndedAt != nil {
					ended = *c.EndedAt
				}
				checked += nettest.CheckChannels(t, c.CallID, *c.AnsweredAt, ended, callerAddrs, calleeAddrs, refs, left, right)
			}
			if checked == 0 {
				t.Fatal("no audio packet checked")
			}
			t.Logf("%d audio packets found bit-exact in their channel", checked)
		}
	}
}
