package e2e_test

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

// The capture's timing. The call is placed leadIn after the first frame so
// that the browser has logged in, changed the first password and opened En
// vivo before the INVITE arrives (the pacing starts when the daemon reads
// the first frame, about when it logs "switchtap ready"). The other steps
// are odd on purpose, so that every nanosecond counts, as in pcapgen's
// scenarios.
const (
	leadIn       = 6 * time.Second
	tryingDelay  = 12345678 * time.Nanosecond
	ringingDelay = 87654321 * time.Nanosecond
	// ringTime with the test's cadence (ringOn + ringOff = 2 s) gives
	// floor(7.5 / 2) + 1 = 4 rings, answered before ring 5 would start at
	// 8 s: within the limit of maxRings = 4.
	ringTime   = 7500 * time.Millisecond
	ackDelay   = 31415926 * time.Nanosecond
	mediaDelay = 20 * time.Millisecond
	talkTime   = 3 * time.Second
	byeDelay   = 500 * time.Millisecond
	okDelay    = 8765432 * time.Nanosecond

	rtpInterval = 20 * time.Millisecond
	rtpSamples  = 160 // 20 ms of PCMU at 8 kHz (RFC 3551 4.5.14)
	// The callee's packets are offset by half an interval.
	calleeOffset = 10 * time.Millisecond
)

// The test's ring policy (written into the configuration below).
const (
	maxRings = 4
	ringOn   = time.Second
	ringOff  = time.Second
)

// Tones of the two directions, so that the waveform has something to draw
// and the peaks can be checked: the caller (left channel) and the
// receptionist (right channel) differ in pitch and level.
const (
	callerHz, callerAmp = 440, 8000
	calleeHz, calleeAmp = 1000, 16000
)

// configYAML is the daemon's (and replay's) configuration: the short ring
// cadence, one receptionist (so that the call is inbound), no disk floor
// (the test's temporary disk may be nearly full) and a short linger so the
// record is stored a second after the BYE.
const configYAML = `
ring:
  max_rings: 4
  ring_on: 1s
  ring_off: 1s
receptionists:
  - name: Recepción 1
    extensions: ["1001"]
    ips: ["192.0.2.20"]
recording:
  min_free: 0
calls:
  linger: 1s
device:
  panel: log
`

// callPlan is what the capture holds, known before any of it is read: the
// independent truth next to the records.
type callPlan struct {
	callID                         string
	first                          time.Time // first frame (the lead-in)
	invite, ringing, answered, bye time.Time
	// messages is the number of SIP messages of the leg.
	messages int
	// rings is floor(ringTime / cycle) + 1 for the test's cadence.
	rings int
	// audio is how long RTP flows each way.
	audio time.Duration
}

// writeCapture writes the test's capture to path: one lead-in datagram at
// first, then one inbound call (INVITE, 100, 180, 200 with SDP, ACK, RTP
// both ways, BYE from the caller, 200) starting leadIn later.
func writeCapture(path string, first time.Time) (callPlan, error) {
	caller := pcapgen.Party{User: "22447000", Name: "Ana Pérez",
		Addr: netip.MustParseAddrPort("198.51.100.10:5060"), Media: netip.MustParseAddrPort("198.51.100.10:40000")}
	callee := pcapgen.Party{User: "1001", Name: "Recepción 1",
		Addr: netip.MustParseAddrPort("192.0.2.20:5060"), Media: netip.MustParseAddrPort("192.0.2.20:50000")}
	d := &pcapgen.Dialog{CallID: "e2e-console-1@pcapgen.example", Caller: caller, Callee: callee,
		FromTag: "e2e0caller", ToTag: "e2e0callee"}

	p := callPlan{callID: d.CallID, first: first, invite: first.Add(leadIn), audio: talkTime}
	p.ringing = p.invite.Add(tryingDelay + ringingDelay)
	p.answered = p.ringing.Add(ringTime)
	ack := p.answered.Add(ackDelay)
	media := ack.Add(mediaDelay)
	p.bye = media.Add(talkTime + byeDelay)
	p.rings = int(ringTime/(ringOn+ringOff)) + 1

	err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) error {
		var errs []error
		send := func(at time.Time, fromCaller bool, msg []byte) {
			src, dst := caller.Addr, callee.Addr
			if !fromCaller {
				src, dst = dst, src
			}
			errs = append(errs, w.UDP(at, src, dst, msg))
			p.messages++
		}
		// The lead-in: one datagram to the discard port, which is neither
		// SIP nor RTP, so it starts the pacing and changes no record.
		errs = append(errs, w.UDP(first, netip.MustParseAddrPort("198.51.100.99:40999"),
			netip.MustParseAddrPort("192.0.2.99:9"), []byte("switchtap e2e lead-in")))

		inv := d.Invite()
		send(p.invite, true, inv.Bytes)
		send(p.invite.Add(tryingDelay), false, d.Response(100, "Trying", inv))
		send(p.ringing, false, d.Response(180, "Ringing", inv))
		send(p.answered, false, d.Response(200, "OK", inv))
		send(ack, true, d.Ack(inv, 200))
		errs = append(errs, writeMedia(w, media, caller.MediaAddr(), callee.MediaAddr()))
		bye := d.Bye(true)
		send(p.bye, true, bye.Bytes)
		send(p.bye.Add(okDelay), false, d.Response(200, "OK", bye))
		return errors.Join(errs...)
	})
	if err != nil {
		return p, fmt.Errorf("%w %s: %w", errCapture, path, err)
	}
	return p, nil
}

// writeMedia writes talkTime of PCMU both ways in capture-time order: the
// caller's packet k at start + k·20 ms, the callee's 10 ms later. Each
// direction is a sine tone; sequence numbers start near the wrap so the
// recorder's unwrap is on the path too (RFC 3550 A.1).
func writeMedia(w *pcapgen.Writer, start time.Time, a, b netip.AddrPort) error {
	n := int(talkTime / rtpInterval)
	payload := make([]byte, rtpSamples)
	for k := range n {
		at := start.Add(time.Duration(k) * rtpInterval)
		streams := []struct {
			at       time.Time
			src, dst netip.AddrPort
			seq      uint16
			ts, ssrc uint32
			hz, amp  float64
		}{
			{at, a, b, uint16(65500 + k), 0xFFFFF000 + uint32(k*rtpSamples), 0x5e2e0001, callerHz, callerAmp},            //nolint:gosec // G115: wraps by design
			{at.Add(calleeOffset), b, a, uint16(1000 + k), 8000 + uint32(k*rtpSamples), 0x5e2e0002, calleeHz, calleeAmp}, //nolint:gosec // G115: small
		}
		for _, s := range streams {
			for i := range payload {
				sample := float64(k*rtpSamples + i)
				payload[i] = g711.EncodeUlawFrame(int16(s.amp * math.Sin(2*math.Pi*s.hz*sample/8000)))
			}
			hdr := rtp.Header{Version: 2, Marker: k == 0, PayloadType: 0, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc}
			if err := w.RTP(s.at, s.src, s.dst, hdr, payload); err != nil {
				return fmt.Errorf("rtp %d: %w", k, err)
			}
		}
	}
	return nil
}
