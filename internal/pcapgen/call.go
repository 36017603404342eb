package pcapgen

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/pion/rtp"
)

// RTP stream parameters of the scenarios: PCMU, 20 ms packets (RFC 3551 4.5.14).
const (
	RTPInterval    = 20 * time.Millisecond
	RTPPayloadSize = 160
	rtpTSStep      = 160
	// The caller's stream starts near the sequence and timestamp wrap
	// points so that every scenario with media exercises both.
	callerSeqStart = 65436
	callerTSStart  = 0xFFFFF000
	calleeSeqStart = 1000
	calleeTSStart  = 8000
	// The callee's packets are offset by half an interval from the caller's.
	calleeRTPOffset = 10 * time.Millisecond
)

// leg writes the messages of one call leg, keeping the first error and
// skipping later writes once one failed (the errWriter pattern).
type leg struct {
	w    *Writer
	d    *Dialog
	opts []PacketOption
	tcp  *TCPConn // nil for UDP; the caller is the TCP client
	err  error
	// ssrc is the caller's RTP SSRC, a hash of the Call-ID; the callee's
	// is its complement.
	ssrc uint32
}

func newLeg(w *Writer, d *Dialog, opts ...PacketOption) *leg {
	h := fnv.New32a()
	_, _ = h.Write([]byte(d.CallID))
	return &leg{w: w, d: d, opts: opts, ssrc: h.Sum32()}
}

// send writes msg from the caller (or the callee) at t.
func (l *leg) send(t time.Time, fromCaller bool, msg []byte, opts ...PacketOption) {
	if l.err != nil {
		return
	}
	if l.tcp != nil {
		l.err = l.tcp.Send(t, fromCaller, msg, opts...)
		return
	}
	src, dst := l.d.Caller.Addr, l.d.Callee.Addr
	if !fromCaller {
		src, dst = dst, src
	}
	l.err = l.w.UDP(t, src, dst, msg, append(append([]PacketOption(nil), l.opts...), opts...)...)
}

// media writes PCMU RTP both ways between the parties' media addresses
// from start for dur: caller packets at start+i*20ms, callee packets 10 ms
// later. Payloads are a deterministic pattern, not audio.
func (l *leg) media(start time.Time, dur time.Duration) {
	payload := make([]byte, RTPPayloadSize)
	for i := range int(dur / RTPInterval) {
		l.rtpPacket(start, i, 0, payload)
		l.rtpPacket(start, i, 1, payload)
	}
}

// rtpPacket writes packet i of the stream media writes from start, the
// caller's (dir 0) or the callee's (dir 1), using payload as scratch; a
// scenario that puts signalling between packets writes them one by one.
func (l *leg) rtpPacket(start time.Time, i, dir int, payload []byte) {
	if l.err != nil {
		return
	}
	src, dst, ssrc := l.d.Caller.MediaAddr(), l.d.Callee.MediaAddr(), l.ssrc
	seq, ts := callerSeqStart, uint32(callerTSStart)
	if dir == 1 {
		src, dst, ssrc = dst, src, ^ssrc
		seq, ts = calleeSeqStart, calleeTSStart
	}
	fillPayload(payload, i, dir)
	if err := l.w.RTP(rtpTime(start, i, dir), src, dst, rtpHeader(i, seq, ts, ssrc), payload, l.opts...); err != nil {
		l.err = fmt.Errorf("rtp %s: %w", l.d.CallID, err)
	}
}

// rtpTime is the capture time of packet i of the streams media writes from
// start: the caller's (dir 0) every 20 ms, the callee's (dir 1) 10 ms after.
func rtpTime(start time.Time, i, dir int) time.Time {
	at := start.Add(time.Duration(i) * RTPInterval)
	if dir == 1 {
		at = at.Add(calleeRTPOffset)
	}
	return at
}

func fillPayload(p []byte, i, dir int) {
	for k := range p {
		p[k] = byte(i*3 + k + dir*0x40) //nolint:gosec // G115: pattern bytes
	}
}

// newDialog returns a dialog with tags derived from the Call-ID.
func newDialog(callID string, caller, callee Party) *Dialog {
	return &Dialog{
		CallID: callID, Caller: caller, Callee: callee,
		FromTag: tagFor(callID, "from"), ToTag: tagFor(callID, "to"),
	}
}

func tagFor(callID, which string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(callID + "/" + which))
	return fmt.Sprintf("%08x", h.Sum32())
}

// callIDFor returns a realistic, unique Call-ID for a leg of a scenario.
func callIDFor(scenario, legName string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(scenario + "/" + legName))
	return fmt.Sprintf("%016x-%s-%s@pcapgen.example", h.Sum64(), scenario, legName)
}

func expectFor(d *Dialog, inviteAt time.Time) Expect {
	tr := "udp"
	if d.transport() == "TCP" {
		tr = "tcp"
	}
	return Expect{
		CallID: d.CallID, From: d.Caller.User, To: d.Callee.User, FromName: d.Caller.Name,
		InviteAt: inviteAt, Transport: tr, EndReason: "unknown",
	}
}

// rtpHeader returns the header of packet i of a PCMU stream.
func rtpHeader(i, seq int, ts, ssrc uint32) rtp.Header {
	return rtp.Header{
		Version:        2,
		Marker:         i == 0,
		PayloadType:    PayloadPCMU,
		SequenceNumber: uint16(seq + i),          //nolint:gosec // G115: wraps by design
		Timestamp:      ts + uint32(i)*rtpTSStep, //nolint:gosec // G115: wraps by design
		SSRC:           ssrc,
	}
}
