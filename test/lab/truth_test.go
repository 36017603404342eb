package lab_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sipFrame is one SIP message as tshark decodes it from tcpdump's file: the
// independent truth. tshark shares no code with the daemon (its own IP
// reassembly, TCP reassembly, SIP parser).
type sipFrame struct {
	at                time.Time
	src, dst          string // ip:port
	callID            string
	method            string // request method, "" for a response
	status            int    // response status, 0 for a request
	cseqMethod        string
	cseq              int
	sipfrag           string // first line of a message/sipfrag body
	vlan              string
	referTo, replaces string
}

// legTruth is what the capture says about one Call-ID, by the README's
// rules, computed here without the daemon's code.
type legTruth struct {
	callID                              string
	src, dst                            string
	invite, ringing, answered, ended    time.Time
	endReason, hangupBy                 string
	refer, referAccepted, referComplete time.Time
	reinvites                           int
	vlan                                string
}

// tsharkFrames runs tshark over the capture. Port 5062 (the lab's second
// lines) is decoded as SIP too; tshark's own default covers 5060.
func tsharkFrames(ctx context.Context, t *testing.T, pcap string) []sipFrame {
	t.Helper()

	fields := []string{
		"frame.time_epoch", "ip.src", "ip.dst", "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport",
		"sip.Call-ID", "sip.Method", "sip.Status-Code", "sip.CSeq.method", "sip.CSeq.seq",
		"sipfrag.line", "vlan.id", "sip.Refer-To", "sip.Replaces",
	}
	args := []string{"-n", "-r", pcap, "-d", "udp.port==5062,sip", "-d", "tcp.port==5062,sip",
		"-Y", "sip", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out := runOut(ctx, t, 60*time.Second, "tshark", args...)

	var frames []sipFrame
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < len(fields) {
			t.Fatalf("tshark line with %d fields, want %d: %q", len(c), len(fields), sc.Text())
		}
		at, err := parseEpoch(c[0])
		if err != nil {
			t.Fatalf("tshark time %q: %v", c[0], err)
		}
		sport, dport := c[3], c[4]
		if sport == "" {
			sport, dport = c[5], c[6]
		}
		f := sipFrame{
			at: at, src: c[1] + ":" + sport, dst: c[2] + ":" + dport,
			callID: c[7], method: c[8], cseqMethod: c[10],
			sipfrag: c[12], vlan: c[13], referTo: c[14], replaces: c[15],
		}
		f.status, _ = strconv.Atoi(c[9])
		f.cseq, _ = strconv.Atoi(c[11])
		frames = append(frames, f)
	}

	return frames
}

// parseEpoch reads tshark's "seconds.nanoseconds" without going through a
// float, so that no nanosecond is lost.
func parseEpoch(s string) (time.Time, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("seconds: %w", err)
	}
	frac = (frac + "000000000")[:9]
	ns, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("fraction: %w", err)
	}

	return time.Unix(secs, ns).UTC(), nil
}

// hostOf returns the ip of ip:port.
func hostOf(addr string) string {
	h, _, _ := strings.Cut(addr, ":")

	return h
}

// legsFromFrames applies the README's rules to tshark's frames: invite_at
// is the first INVITE, ringing_at the first 180, answered_at the first 2xx
// to the initial INVITE (not to a re-INVITE), ended_at the first BYE, the
// CANCEL of an unanswered call, or its final failure.
func legsFromFrames(frames []sipFrame) map[string]*legTruth {
	legs := map[string]*legTruth{}
	inviteSeq := map[string]int{}
	for _, f := range frames {
		if f.callID == "" {
			continue
		}
		l := legs[f.callID]
		if l == nil {
			if f.method != "INVITE" {
				continue // not a call (an out-of-dialog request)
			}
			l = &legTruth{callID: f.callID, src: f.src, dst: f.dst, vlan: f.vlan}
			legs[f.callID] = l
		}
		setOnce := func(dst *time.Time) {
			if dst.IsZero() {
				*dst = f.at
			}
		}
		switch {
		case f.method == "INVITE":
			if l.invite.IsZero() {
				l.invite = f.at
				inviteSeq[f.callID] = f.cseq
			} else if f.cseq > inviteSeq[f.callID] && !l.answered.IsZero() {
				l.reinvites++
				inviteSeq[f.callID+"#re"] = f.cseq
			}
		case f.status == 180 && f.cseqMethod == "INVITE":
			setOnce(&l.ringing)
		case f.status >= 200 && f.status < 300 && f.cseqMethod == "INVITE" && f.cseq == inviteSeq[f.callID]:
			setOnce(&l.answered)
		case f.method == "BYE" && l.ended.IsZero():
			l.ended, l.endReason = f.at, "completed"
			l.hangupBy = "callee"
			if hostOf(f.src) == hostOf(l.src) {
				l.hangupBy = "caller"
			}
		case f.method == "CANCEL" && l.answered.IsZero() && l.ended.IsZero():
			l.ended, l.endReason = f.at, "abandoned"
		case f.status >= 300 && f.cseqMethod == "INVITE" && f.cseq == inviteSeq[f.callID] &&
			f.status != 401 && f.status != 407 && l.answered.IsZero() && l.ended.IsZero():
			l.ended, l.endReason = f.at, failureReason(f.status)
		case f.method == "REFER":
			setOnce(&l.refer)
		case f.status == 202 && f.cseqMethod == "REFER":
			setOnce(&l.referAccepted)
		case f.method == "NOTIFY" && strings.HasPrefix(f.sipfrag, "SIP/2.0 2"):
			setOnce(&l.referComplete)
		}
	}

	return legs
}

// failureReason maps a final failure status to end_reason (README).
func failureReason(status int) string {
	switch {
	case status == 486 || status == 600:
		return "busy"
	case status >= 300 && status < 400:
		return "redirected"
	}
	switch status {
	case 403, 404, 410, 480, 484, 488, 603, 606:
		return "rejected"
	}

	return "failed"
}
