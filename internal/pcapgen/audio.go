package pcapgen

import (
	"fmt"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// AudioCall is an answered call whose RTP carries given audio: 8 kHz
// 16-bit samples per side from the answer on, sent as 20 ms μ-law packets
// (RFC 3551 §4.5.14), both sides' packet k captured at answer + k × 20 ms.
type AudioCall struct {
	// Caller and Callee are the audio each side sends, from the answer.
	Caller, Callee []int16
	// DTX leaves out the packets whose samples all lie within ±DTXLevel
	// (a phone suppressing silence, RFC 3551 §4.1): the sequence number
	// counts the packets sent, the timestamp keeps the audio's time.
	DTX      bool
	DTXLevel int16
}

// WriteAudioCall writes call as the leg name at t0 (INVITE, 100, 180, 200
// with SDP after 2 s of ringing, the ACK with the first packets, the
// audio, BYE from the caller as the audio ends, so the recorded span is
// the audio's) and returns what a correct tap reports; its AnsweredAt is
// the audio's time zero.
func WriteAudioCall(w *Writer, name string, t0 time.Time, call AudioCall) (Expect, error) {
	l := newLeg(w, newDialog(callIDFor(name, "a"), extCaller(), receptionist()))
	inv := l.d.Invite()
	l.send(t0, true, inv.Bytes)
	e := expectFor(l.d, t0)
	// The ACK goes out at the answer: the audio starts there, where the
	// analysis puts its time zero.
	ans := l.answerOnly(&e, inv, t0, 2*time.Second, false)
	l.send(ans, true, l.d.Ack(inv, 200))

	src := [2]Party{l.d.Caller, l.d.Callee}
	audio := [2][]int16{call.Caller, call.Callee}
	seq := [2]uint16{callerSeqStart & 0xffff, calleeSeqStart}
	n := max(len(audio[0]), len(audio[1])) / RTPPayloadSize
	payload := make([]byte, RTPPayloadSize)
	for k := range n {
		at := ans.Add(time.Duration(k) * RTPInterval)
		for side := range 2 {
			s := audio[side][min(k*RTPPayloadSize, len(audio[side])):min((k+1)*RTPPayloadSize, len(audio[side]))]
			if len(s) < RTPPayloadSize || call.DTX && quietBlock(s, call.DTXLevel) {
				continue
			}
			for i, v := range s {
				payload[i] = g711.EncodeUlawFrame(v)
			}
			hdr := rtp.Header{Version: 2, PayloadType: PayloadPCMU, SequenceNumber: seq[side],
				Timestamp: uint32(k) * rtpTSStep, SSRC: l.ssrc ^ uint32(side)} //nolint:gosec // G115: a call's packets.
			seq[side]++
			if err := w.RTP(at, src[side].MediaAddr(), src[1-side].MediaAddr(), hdr, payload); err != nil {
				return e, fmt.Errorf("audio call %s: rtp: %w", name, err)
			}
		}
	}
	l.hangup(&e, ans.Add(time.Duration(n)*RTPInterval), true)
	return e, l.err
}

func quietBlock(s []int16, level int16) bool {
	for _, v := range s {
		if v > level || v < -level {
			return false
		}
	}
	return true
}
