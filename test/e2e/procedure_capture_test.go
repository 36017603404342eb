package e2e_test

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/netip"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

// procMonths are the story's two months: the two before the current one
// in loc, so that both have ended whenever the test runs (the daemon's
// clock is the real one). On 2 December 2026 they are October and
// November 2026.
func procMonths(now time.Time, loc *time.Location) (first, second time.Time) {
	local := now.In(loc)
	cur := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)
	return cur.AddDate(0, -2, 0), cur.AddDate(0, -1, 0)
}

// monthNames are the months as the report names them.
var monthNames = [12]string{"Enero", "Febrero", "Marzo", "Abril", "Mayo", "Junio",
	"Julio", "Agosto", "Septiembre", "Octubre", "Noviembre", "Diciembre"}

// monthTitle is a month as the PDF's title writes it ("Octubre 2026").
func monthTitle(m time.Time) string { return monthNames[m.Month()-1] + " " + m.Format("2006") }

// procReceptionist is one configured receptionist: the name the reports
// use, the extension and the phone's address.
type procReceptionist struct {
	name string
	ext  string
	ip   string
}

// The three receptionists. Their names carry accents on purpose: they go
// into URLs, select values, the workbook and the PDF.
var procReceptionists = []procReceptionist{
	{"Ana López", "1001", "192.0.2.20"},
	{"Beatriz Núñez", "1002", "192.0.2.21"},
	{"Carmen Peña", "1003", "192.0.2.22"},
}

// procConfigYAML is the daemon's configuration: the e2e ring cadence (1 s
// on, 1 s off, four rings), the three receptionists, a sample of one call
// per receptionist (October's frame has four calls, two of them Ana's:
// Cochran would take all four, and the proof asks for three), no disk
// floor and a short linger.
func procConfigYAML() string {
	s := `
ring:
  max_rings: 4
  ring_on: 1s
  ring_off: 1s
time_zone: America/El_Salvador
sample:
  per_operator: 1
report:
  office: "Oficina central, San Salvador"
recording:
  min_free: 0
  # The calls are weeks old: no age limit may delete their recordings.
  max_age: 0s
calls:
  linger: 1s
device:
  panel: log
receptionists:
`
	for _, r := range procReceptionists {
		s += fmt.Sprintf("  - name: %q\n    extensions: [%q]\n    ips: [%q]\n", r.name, r.ext, r.ip)
	}
	return s
}

// The outcomes a planned call is written with.
const (
	outAnswered  = "answered"  // 200, ACK, RTP both ways, BYE from the caller
	outAbandoned = "abandoned" // CANCEL while ringing, 200, 487, ACK
)

// procCall is one call of the capture, known before the capture is read.
type procCall struct {
	key      string // the test's name for it
	callID   string
	op       int  // index in procReceptionists
	outbound bool // the receptionist calls out (else an outside caller calls in)
	local    time.Time
	ring     time.Duration // 180 to 200 (or to the CANCEL)
	outcome  string
	talk     time.Duration
	hz       float64 // the caller's tone, distinct per call
}

// rings is the ring count the tap measures with the test's cadence.
func (c procCall) rings() int { return int(c.ring/(ringOn+ringOff)) + 1 }

// withinLimit says whether an answered inbound call meets inmediatez.
func (c procCall) withinLimit() bool { return c.rings() <= maxRings }

// inFrame says whether the call is in its month's sampling frame: an
// answered inbound call (every answered call has a recording: the
// recorder starts at the answer).
func (c procCall) inFrame() bool { return !c.outbound && c.outcome == outAnswered }

// month is the call's month in the configured zone.
func (c procCall) month() string { return c.local.Format("2006-01") }

// procPlan is the whole capture: the first month's calls of every kind
// (called October below, as on 2 December 2026) and one call of the
// second month (November) of the receptionist the corrective action will
// be for.
func procPlan(first, second time.Time) []procCall {
	at := func(m time.Month, d, h, mi int) time.Time {
		base := first
		if m == 11 {
			base = second
		}
		return time.Date(base.Year(), base.Month(), d, h, mi, 0, 0, base.Location())
	}
	calls := []procCall{
		{key: "oct-ana", op: 0, local: at(10, 5, 9, 0), ring: 3500 * time.Millisecond, outcome: outAnswered, talk: 4 * time.Second, hz: 440},
		{key: "oct-beatriz", op: 1, local: at(10, 6, 10, 15), ring: 5500 * time.Millisecond, outcome: outAnswered, talk: 4 * time.Second, hz: 523},
		{key: "oct-carmen", op: 2, local: at(10, 7, 11, 30), ring: 1500 * time.Millisecond, outcome: outAnswered, talk: 4 * time.Second, hz: 659},
		// Answered at the fifth ring: inmediatez no cumple. In the frame
		// with Ana's other call: the draw takes one of the two.
		{key: "oct-late", op: 0, local: at(10, 8, 8, 45), ring: 8500 * time.Millisecond, outcome: outAnswered, talk: 4 * time.Second, hz: 392},
		// Given up after 12 s (seven rings): not a short abandon.
		{key: "oct-abandoned", op: 2, local: at(10, 9, 14, 0), ring: 12 * time.Second, outcome: outAbandoned},
		{key: "oct-outgoing", op: 0, outbound: true, local: at(10, 12, 16, 0), ring: 3 * time.Second, outcome: outAnswered, talk: 2 * time.Second, hz: 784},
		{key: "nov-beatriz", op: 1, local: at(11, 10, 9, 0), ring: 3500 * time.Millisecond, outcome: outAnswered, talk: 4 * time.Second, hz: 880},
	}
	for i := range calls {
		calls[i].callID = "e2e-proc-" + calls[i].key + "@pcapgen.example"
	}
	return calls
}

// writeProcCapture writes the plan's calls in time order and a trailing
// datagram an hour after the last, which moves the capture's clock past
// every call's linger so that all of them are stored.
func writeProcCapture(path string, plan []procCall) error {
	outside := pcapgen.Party{User: "22447000", Name: "Ana Pérez",
		Addr: netip.MustParseAddrPort("198.51.100.10:5060"), Media: netip.MustParseAddrPort("198.51.100.10:40000")}
	dialed := pcapgen.Party{User: "22445566", Name: "",
		Addr: netip.MustParseAddrPort("198.51.100.30:5060"), Media: netip.MustParseAddrPort("198.51.100.30:41000")}
	var last time.Time
	err := pcapgen.WriteFile(path, func(w *pcapgen.Writer) error {
		var errs []error
		for _, c := range plan {
			r := procReceptionists[c.op]
			recep := pcapgen.Party{User: r.ext, Name: r.name,
				Addr: netip.MustParseAddrPort(r.ip + ":5060"), Media: netip.MustParseAddrPort(r.ip + ":50000")}
			caller, callee := outside, recep
			if c.outbound {
				caller, callee = recep, dialed
			}
			end, err := writeProcCall(w, c, caller, callee)
			errs = append(errs, err)
			last = end
		}
		errs = append(errs, w.UDP(last.Add(time.Hour), netip.MustParseAddrPort("198.51.100.99:40999"),
			netip.MustParseAddrPort("192.0.2.99:9"), []byte("switchtap e2e trailer")))
		return errors.Join(errs...)
	})
	if err != nil {
		return fmt.Errorf("%w %s: %w", errCapture, path, err)
	}
	return nil
}

// writeProcCall writes one call leg and returns the time of its last
// packet.
func writeProcCall(w *pcapgen.Writer, c procCall, caller, callee pcapgen.Party) (time.Time, error) {
	d := &pcapgen.Dialog{CallID: c.callID, Caller: caller, Callee: callee,
		FromTag: tag(c.callID, "from"), ToTag: tag(c.callID, "to")}
	var errs []error
	send := func(at time.Time, fromCaller bool, msg []byte) {
		src, dst := caller.Addr, callee.Addr
		if !fromCaller {
			src, dst = dst, src
		}
		errs = append(errs, w.UDP(at, src, dst, msg))
	}
	invite := c.local.UTC()
	inv := d.Invite()
	send(invite, true, inv.Bytes)
	send(invite.Add(tryingDelay), false, d.Response(100, "Trying", inv))
	ringing := invite.Add(tryingDelay + ringingDelay)
	send(ringing, false, d.Response(180, "Ringing", inv))
	end := ringing.Add(c.ring)
	switch c.outcome {
	case outAbandoned:
		cancel := d.Cancel(inv)
		send(end, true, cancel.Bytes)
		send(end.Add(okDelay), false, d.Response(200, "OK", cancel))
		send(end.Add(2*okDelay), false, d.Response(487, "Request Terminated", inv))
		end = end.Add(2*okDelay + ackDelay)
		send(end, true, d.Ack(inv, 487))
	default:
		send(end, false, d.Response(200, "OK", inv))
		ack := end.Add(ackDelay)
		send(ack, true, d.Ack(inv, 200))
		media := ack.Add(mediaDelay)
		errs = append(errs, writeTones(w, media, c, caller.MediaAddr(), callee.MediaAddr()))
		bye := d.Bye(true)
		end = media.Add(c.talk + byeDelay)
		send(end, true, bye.Bytes)
		end = end.Add(okDelay)
		send(end, false, d.Response(200, "OK", bye))
	}
	if err := errors.Join(errs...); err != nil {
		return end, fmt.Errorf("call %s: %w", c.key, err)
	}
	return end, nil
}

// writeTones writes c.talk of PCMU both ways: the caller's tone at c.hz,
// the callee's a fifth above, each call with its own SSRCs.
func writeTones(w *pcapgen.Writer, start time.Time, c procCall, a, b netip.AddrPort) error {
	n := int(c.talk / rtpInterval)
	h := fnv.New32a()
	_, _ = h.Write([]byte(c.callID))
	ssrc := h.Sum32()
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
			{at, a, b, uint16(3000 + k), 16000 + uint32(k*rtpSamples), ssrc, c.hz, callerAmp},                          //nolint:gosec // G115: small
			{at.Add(calleeOffset), b, a, uint16(7000 + k), 90000 + uint32(k*rtpSamples), ^ssrc, c.hz * 1.5, calleeAmp}, //nolint:gosec // G115: small
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

func tag(callID, which string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(callID + "/" + which))
	return fmt.Sprintf("%08x", h.Sum32())
}
