package lab_test

import (
	"context"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

// Audio of the two sides: different tones, so that a recording's left and
// right channels can be told apart (the caller's 400 Hz, the answering
// phone's 1000 Hz).
const (
	callerTone = "400"
	calleeTone = "1000"
	// dtmfDigit is the RFC 4733 event the caller sends 1 s into the call.
	dtmfDigit = 5
	// dtmfPT is telephone-event's payload type in the lab's SDP.
	dtmfPT = 101
)

// makeAudio writes, into dir, callee.ul (raw µ-law for SIPp's rtp_stream),
// caller.pcap (RTP for SIPp's play_pcap_audio: PCMU every 20 ms with an
// RFC 4733 DTMF event at 1 s) and callee.pcap (the callee's tone as RTP,
// for the load run), each dur long, made with sox.
func makeAudio(ctx context.Context, t *testing.T, dir string, dur time.Duration) {
	t.Helper()

	secs := dur.Seconds()
	for _, a := range []struct{ file, tone string }{{"callee.ul", calleeTone}, {"caller.ul", callerTone}} {
		runCmd(ctx, t, "sox", "-n", "-r", "8000", "-c", "1", "-t", "ul", filepath.Join(dir, a.file),
			"synth", formatSecs(secs), "sine", a.tone, "vol", "0.5")
	}
	writeRTPPcap(t, dir, "caller.ul", "caller.pcap", true)
	writeRTPPcap(t, dir, "callee.ul", "callee.pcap", false)
}

// writeRTPPcap turns a raw µ-law file into a pcap of PCMU packets every
// 20 ms, with the DTMF event when dtmf is set.
func writeRTPPcap(t *testing.T, dir, ulawFile, pcapFile string, dtmf bool) {
	t.Helper()
	ulaw, err := os.ReadFile(filepath.Join(dir, ulawFile))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, pcapFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapgen.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	// SIPp replays only the UDP payloads, to the peer's SDP address: the
	// addresses here are placeholders.
	src := netip.MustParseAddrPort(callerIP + ":6000")
	dst := netip.MustParseAddrPort(recIP + ":6000")
	t0 := time.Unix(1_700_000_000, 0)
	const frame = 160 // 20 ms of 8 kHz µ-law
	var seq uint16
	const ssrc = 0x1ab0c411
	dtmfFrom, dtmfTo := 50, 60 // packets 50..59: 200 ms of digit at 1 s
	if !dtmf {
		dtmfFrom, dtmfTo = -1, -1
	}
	for i := 0; (i+1)*frame <= len(ulaw); i++ {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		ts := uint32(i * frame)
		var err error
		switch {
		case i >= dtmfFrom && i < dtmfTo:
			// RFC 4733 2.3: one event, same timestamp throughout, growing
			// duration; the last packet carries the E bit (sent once here;
			// real phones repeat it three times).
			start := uint32(dtmfFrom * frame)
			dur := uint16((i - dtmfFrom + 1) * frame)
			ev := make([]byte, 4)
			ev[0] = dtmfDigit
			ev[1] = 10 // volume −10 dBm0
			if i == dtmfTo-1 {
				ev[1] |= 0x80
			}
			binary.BigEndian.PutUint16(ev[2:], dur)
			err = w.RTP(at, src, dst, rtp.Header{PayloadType: dtmfPT, SequenceNumber: seq, Timestamp: start, SSRC: ssrc, Marker: i == dtmfFrom}, ev)
		default:
			err = w.RTP(at, src, dst, rtp.Header{PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, Marker: i == 0}, ulaw[i*frame:(i+1)*frame])
		}
		if err != nil {
			t.Fatal(err)
		}
		seq++
	}
}

// formatSecs prints seconds for sox.
func formatSecs(s float64) string {
	return strconv.FormatFloat(s, 'f', 3, 64)
}
