package lab_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Call-IDs the harness chooses (SIPp -cid_str) for the legs a transfer
// names: the consultation call and the transferred caller's new leg.
const (
	consultCallID = "consult-1@lab"
	xferCallID    = "xfer-1@lab"
)

// scenarios is the lab's case list. Ring and talk times are SIPp pauses
// (-d); the truth is always the capture, never these numbers.
func scenarios() []scenario {
	recDst := recIP + ":5060"
	answered := func(t *testing.T, r *result) *legTruth {
		rec, leg := r.leg(t, recDst)
		want(t, rec, "from", `"`+callerExt+`"`, "to", `"`+recExt+`"`, "direction", `"inbound"`,
			"operator", `"Reception"`, "transport", `"udp"`)
		return checkRings(t, rec, leg)
	}
	return []scenario{
		{
			name:   "answered",
			phones: []phone{recPhone("uas.xml", "-d", "1500"), callerPhone("uac.xml", "-d", "2000")},
			check: func(t *testing.T, r *result) {
				answered(t, r)
				checkMedia(t, r)
			},
		},
		greetingScenario(),
		{
			// Past the limit: 5 s of ringing against 2 × 2 s.
			name:   "answered_late",
			phones: []phone{recPhone("uas.xml", "-d", "5000"), callerPhone("uac.xml", "-d", "1000")},
			check: func(t *testing.T, r *result) {
				rec, _ := r.leg(t, recDst)
				want(t, rec, "within_limit", "false")
				if len(r.edges) != 3 {
					t.Errorf("a late call must raise warning, alarm, clear; got %+v", r.edges)
				}
				answered(t, r)
			},
		},
		{
			name:   "abandoned",
			phones: []phone{recPhone("uas-cancel.xml"), callerPhone("uac-cancel.xml", "-d", "1500")},
			check: func(t *testing.T, r *result) {
				rec, leg := r.leg(t, recDst)
				want(t, rec, "end_reason", `"abandoned"`, "answered_at", "null", "direction", `"inbound"`)
				checkRings(t, rec, leg)
			},
		},
		{
			name: "busy",
			phones: []phone{recPhone("uas-busy.xml", "-d", "500",
				"-key", "contact", recExt+"@"+recIP), callerPhone("uac-fail.xml")},
			check: func(t *testing.T, r *result) {
				rec, _ := r.leg(t, recDst)
				want(t, rec, "end_reason", `"busy"`, "answered_at", "null")
			},
		},
		{
			name: "rejected",
			phones: []phone{recPhone("uas-decline.xml", "-d", "500",
				"-key", "contact", recExt+"@"+recIP), callerPhone("uac-fail.xml")},
			check: func(t *testing.T, r *result) {
				rec, _ := r.leg(t, recDst)
				want(t, rec, "end_reason", `"rejected"`, "answered_at", "null")
			},
		},
		{
			name: "deflected_302",
			phones: []phone{recPhone("uas-redirect.xml", "-d", "500",
				"-key", "contact", targetExt+"@"+targetIP), callerPhone("uac-fail.xml")},
			check: func(t *testing.T, r *result) {
				rec, leg := r.leg(t, recDst)
				want(t, rec, "end_reason", `"redirected"`)
				tr := rec.Obj("transfer")
				want(t, tr, "kind", `"redirect"`, "target", `"`+targetExt+`"`)
				checkTime(t, leg.callID, tr, "requested_at", leg.ended)
			},
		},
		{
			name: "transfer_blind",
			phones: []phone{
				recPhone("uas-refer.xml", "-d", "1000", "-key", "refer_to", "<sip:"+targetExt+"@"+targetIP+">"),
				targetPhone("5060", "uas.xml", "-d", "500"),
				callerPhone("uac-refer.xml", "-d", "2500"),
				xferLeg(targetIP+":5060", "3000", "X-Lab-Transfer: blind"),
			},
			check: func(t *testing.T, r *result) { checkTransfer(t, r, "blind", "") },
		},
		{
			name: "transfer_attended",
			phones: []phone{
				recPhone("uas-refer.xml", "-d", "3000", "-key", "refer_to",
					"<sip:"+targetExt+"@"+targetIP+":5062?Replaces="+consultCallID+"%3Bto-tag%3Dtgt5060%3Bfrom-tag%3DrecB>"),
				targetPhone("5060", "uas-consulted.xml", "-d", "3500", "-key", "ftag", "recB"),
				targetPhone("5062", "uas.xml", "-d", "500"),
				{name: "receptionist:5062", host: func(l *lab) host { return l.rec }, ip: recIP, port: "5062", xml: "uac-consult.xml",
					args: []string{"-d", "1500", "-s", targetExt, "-key", "ftag", "recB", "-cid_str", "consult-%u@lab"}, remote: targetIP + ":5060"},
				callerPhone("uac-refer.xml", "-d", "2500"),
				xferLeg(targetIP+":5062", "5000", "Replaces: "+consultCallID+";to-tag=tgt5060;from-tag=recB"),
			},
			check: func(t *testing.T, r *result) { checkTransfer(t, r, "attended", consultCallID) },
		},
		{
			name:   "hold_resume",
			phones: []phone{recPhone("uas-hold.xml", "-d", "1000"), callerPhone("uac-hold.xml")},
			check: func(t *testing.T, r *result) {
				rec, leg := r.leg(t, recDst)
				if leg.reinvites != 2 {
					t.Fatalf("capture shows %d re-INVITEs, want 2", leg.reinvites)
				}
				want(t, rec, "reinvites", "2")
				answered(t, r)
			},
		},
		{
			name:   "tcp",
			tcp:    true,
			phones: []phone{recPhone("uas.xml", "-d", "1000"), callerPhone("uac.xml", "-d", "1000")},
			check: func(t *testing.T, r *result) {
				rec, _ := r.leg(t, recDst)
				want(t, rec, "transport", `"tcp"`, "rings", "1", "within_limit", "true")
			},
		},
		{
			// A 2 kB header: the INVITE (~2.5 kB) leaves in two IP fragments.
			name: "fragmented_invite",
			phones: []phone{recPhone("uas.xml", "-d", "1000"),
				callerPhone("uac.xml", "-d", "1000", "-key", "pad", strings.Repeat("f", 2000))},
			check: func(t *testing.T, r *result) {
				if n := countFrames(t, r.pcap, "ip.flags.mf == 1"); n == 0 {
					out := runOut(context.Background(), t, time.Minute, "tshark", "-n", "-r", r.pcap, "-Y", "sip.Method == INVITE", "-T", "fields", "-e", "frame.len", "-e", "ip.len")
					t.Fatalf("the capture has no IP fragment: the INVITE did not fragment (INVITE frame/IP lengths: %s)", out)
				}
				answered(t, r)
			},
		},
		{
			name: "vlan",
			vlan: true,
			phones: []phone{
				{name: "receptionist (vlan)", host: func(l *lab) host { return l.rec }, ip: recVLANIP, port: "5060", xml: "uas.xml", uas: true,
					args: []string{"-d", "1000", "-key", "ttag", "recV"}},
				{name: "caller (vlan)", host: func(l *lab) host { return l.caller }, ip: callerVLANIP, port: "5060", xml: "uac.xml",
					args:   []string{"-d", "1000", "-s", recExt, "-key", "caller", callerExt, "-key", "ftag", "callerV", "-key", "pad", "-"},
					remote: recVLANIP + ":5060"},
			},
			check: func(t *testing.T, r *result) {
				rec, leg := r.leg(t, recVLANIP+":5060")
				if leg.vlan != vlanID {
					t.Fatalf("the capture's INVITE has VLAN %q, want %s: the lab is not tagging", leg.vlan, vlanID)
				}
				want(t, rec, "vlan", vlanID, "direction", `"inbound"`)
			},
		},
	}
}

// xferLeg is the transferred caller's new leg, placed from the caller's
// host after delayMS (the REFER has come by then).
func xferLeg(remote, delayMS, hdr string) phone {
	return phone{name: "caller:5062", host: func(l *lab) host { return l.caller }, ip: callerIP, port: "5062", xml: "uac-xfer.xml",
		args: []string{"-d", delayMS, "-s", targetExt, "-key", "caller", callerExt, "-key", "ftag", "callerC",
			"-key", "replaces_hdr", hdr, "-cid_str", "xfer-%u@lab"}, remote: remote}
}

// checkRings checks ring_seconds and rings against the capture under the
// lab's cadence: rings = floor(ring_seconds / cycle) + 1, within limit when
// answered before max_rings × cycle.
func checkRings(t *testing.T, rec record, leg *legTruth) *legTruth {
	t.Helper()

	from := leg.ringing
	if from.IsZero() {
		from = leg.invite
	}
	to := leg.answered
	if to.IsZero() {
		to = leg.ended
	}
	secs := to.Sub(from).Seconds()
	got, ok := rec.Float("ring_seconds")
	if !ok || got-secs > 1e-6 || secs-got > 1e-6 {
		t.Errorf("ring_seconds = %s, capture says %.9f", show(rec["ring_seconds"], true), secs)
	}
	rings := int(to.Sub(from)/labCycle) + 1
	if leg.ringing.IsZero() && leg.answered.IsZero() {
		rings = 0
	}
	want(t, rec, "rings", itoa(rings))
	if !leg.answered.IsZero() {
		within := "false"
		if to.Sub(from) < time.Duration(labMaxRings)*labCycle {
			within = "true"
		}
		want(t, rec, "within_limit", within)
	}

	return leg
}

func itoa(n int) string { return strconv.Itoa(n) }

// checkTransfer checks the transferred call's record and the new leg's.
func checkTransfer(t *testing.T, r *result, kind, replaced string) {
	t.Helper()

	rec, leg := r.leg(t, recIP+":5060")
	tr := rec.Obj("transfer")
	if tr == nil {
		t.Fatalf("leg %s: no transfer in %s", leg.callID, show(map[string]any(rec), true))
	}
	want(t, tr, "kind", `"`+kind+`"`, "target", `"`+targetExt+`"`, "target_call_id", `"`+xferCallID+`"`)
	checkTime(t, leg.callID, tr, "requested_at", leg.refer)
	checkTime(t, leg.callID, tr, "accepted_at", leg.referAccepted)
	checkTime(t, leg.callID, tr, "completed_at", leg.referComplete)
	if leg.refer.IsZero() || leg.referAccepted.IsZero() || leg.referComplete.IsZero() {
		t.Errorf("capture lacks REFER/202/NOTIFY 200: %+v", leg)
	}
	nl := r.records[xferCallID]
	if nl == nil {
		t.Fatalf("no record of the new leg %s", xferCallID)
	}
	want(t, nl, "transferred_from", `"`+leg.callID+`"`, "end_reason", `"completed"`)
	if !strings.Contains(show(nl["referred_by"], true), recExt) {
		t.Errorf("new leg referred_by = %s, want the receptionist %s", show(nl["referred_by"], true), recExt)
	}
	if replaced != "" {
		want(t, nl, "replaces_call_id", `"`+replaced+`"`)
		if c := r.records[replaced]; c == nil {
			t.Errorf("no record of the consultation call %s", replaced)
		} else {
			want(t, c, "direction", `"outbound"`, "hangup_by", `"callee"`)
		}
	}
}

// checkMedia requires RTP both ways in the capture, from two different
// sources, and the caller's RFC 4733 DTMF digit.
func checkMedia(t *testing.T, r *result) {
	t.Helper()

	// The call's media: from the answer to the BYE (SIPp's pcap player
	// may send on for a moment after the call has ended).
	_, leg := r.leg(t, recIP+":5060")
	during := fmt.Sprintf(" && frame.time_epoch >= %d.%09d && frame.time_epoch <= %d.%09d",
		leg.answered.Unix(), leg.answered.Nanosecond(), leg.ended.Unix(), leg.ended.Nanosecond())
	toCaller := countFrames(t, r.pcap, "rtp && ip.dst == "+callerIP+during)
	toRec := countFrames(t, r.pcap, "rtp && ip.dst == "+recIP+during)
	dtmf := countFrames(t, r.pcap, "rtpevent.event_id == 5")
	t.Logf("RTP packets: %d to the caller, %d to the receptionist, %d DTMF event packets", toCaller, toRec, dtmf)
	if toCaller < 20 || toRec < 20 {
		t.Errorf("RTP is not flowing both ways: %d to the caller, %d to the receptionist", toCaller, toRec)
	}
	if dtmf == 0 {
		t.Errorf("no RFC 4733 DTMF event in the capture")
	}

	// The recorder's per-direction counts equal tshark's (one call here),
	// and it saw the caller's digit.
	rec, _ := r.leg(t, recIP+":5060")
	rc := rec.Obj("recording")
	if rc == nil {
		t.Fatalf("answered call has no recording: %s", show(map[string]any(rec), true))
	}
	want(t, rc.Obj("caller"), "packets", strconv.Itoa(toRec), "lost", "0")
	want(t, rc.Obj("callee"), "packets", strconv.Itoa(toCaller), "lost", "0")
	if d := show(rc.Obj("caller")["dtmf"], true); !strings.Contains(d, `"digit":"5"`) {
		t.Errorf("recording.caller.dtmf = %s, want the digit 5", d)
	}
}

// countFrames counts the frames of pcap matching a tshark display filter.
func countFrames(t *testing.T, pcap, filter string) int {
	t.Helper()

	out := runOut(context.Background(), t, 60*time.Second, "tshark", "-n", "-r", pcap, "-Y", filter, "-T", "fields", "-e", "frame.number")

	return len(strings.Fields(string(out)))
}
